"""Contamination robustness on KDD99: train on normal rows mixed with anomalies.

The KDD99 paper protocol trains on clean data (the normal rows of the training half).
Here the training rows are contaminated: a share ``p`` of them (0%, 5%, 10%, 20%)
are anomalies, taken from the training half of the same split (the rows the protocol
drops), never from the test half. The number of training rows is the same at every
level (by default that of the clean protocol, 198,361 for seed 42; ``--train-rows``
draws fewer to fit a CPU budget): at level ``p``, ``p`` of them are anomalies drawn
at random and the rest normal rows drawn at random. Each detector is scored on the
untouched test half; the table gives the AUROC per level and its drop from the clean
level. Features are scaled as in ``kdd99.py`` (``--scaler``; by default each detector's
chosen scaling), with any statistics taken from the (contaminated) training rows, as a
user would.

Each (detector, level, seed) runs in a fresh process with one torch thread; a run
that fails is reported as failed, and every finished run is journaled, so that
``--resume`` restarts an interrupted run or joins runs made side by side (one per seed,
say) into one table (see ``runner.py``).

    python benchmarks/contamination.py --train-rows 50000 --detectors GANomaly \
        FenceGAN SimultaneousEncoderGAN "PyOD IForest"   # results/contamination.md
"""

import argparse
import json
import shlex
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

if __package__:
    from .runner import add_resume_argument, journal_path, markdown_cell, run_tasks
else:  # run as a script: python benchmarks/contamination.py
    from runner import add_resume_argument, journal_path, markdown_cell, run_tasks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "kdd99" / "kddcup.data_10_percent.gz"
RESULTS = ROOT / "benchmarks" / "results"
DETECTORS = ("GANomaly", "FenceGAN", "SimultaneousEncoderGAN", "EGBAD", "ALAD",
             "PyOD IForest")
LEVELS = (0.0, 0.05, 0.10, 0.20)


def contaminated_training_rows(X_normal, X_anomalous, level, seed, n_rows=None):
    """``n_rows`` rows (default ``len(X_normal)``), a share ``level`` of them anomalies."""
    rng = np.random.RandomState(seed)
    n_rows = len(X_normal) if n_rows is None else n_rows
    n_anomalous = round(level * n_rows)
    rows = X_normal.iloc[rng.choice(len(X_normal), n_rows - n_anomalous, replace=False)]
    anomalies = X_anomalous.iloc[rng.choice(len(X_anomalous), n_anomalous, replace=False)]
    mixed = pd.concat([rows, anomalies])
    return mixed.iloc[rng.permutation(len(mixed))]


def run_one(task):
    """Fit one detector on one contaminated training set and score the test half."""
    name, level, seed, args = task
    import torch

    torch.set_num_threads(1)
    from kdd99 import make_detector, scaler_of
    from kdd99_training_half import training_half
    from sklearn.metrics import average_precision_score, roc_auc_score

    from skgan_ad.datasets import load_kdd99, make_kdd99_preprocessor

    data = load_kdd99(args.data)
    X_normal, X_anomalous, X_test, y_test = training_half(data.data, data.target,
                                                         random_state=seed)
    X_train = contaminated_training_rows(X_normal, X_anomalous, level, seed,
                                         args.train_rows)
    preprocessor = make_kdd99_preprocessor(scaler_of(name, args.scaler)).fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)

    detector, convention = make_detector(name, seed, X_train.shape[1],
                                         epochs=args.epochs.get(name),
                                         min_steps=args.min_steps)
    start = time.perf_counter()
    detector.fit(X_train)
    fit_seconds = time.perf_counter() - start
    scores = detector.decision_function(X_test)
    anomaly_scores = -scores if convention == "sklearn" else scores
    record = {"detector": name, "contamination": level, "seed": seed,
              "train_rows": len(X_train), "auroc": roc_auc_score(y_test, anomaly_scores),
              "auprc": average_precision_score(y_test, anomaly_scores),
              "fit_seconds": fit_seconds,
              "epochs": detector.epochs if convention == "sklearn" else None,
              "min_steps": detector.min_steps if convention == "sklearn" else None}
    print(f"  {name:<22} {level:4.0%} seed {seed}: AUROC {record['auroc']:.4f}  "
          f"fit {fit_seconds:.0f}s", flush=True)
    return record


def identify(task):
    """What names a run, its settings included, so ``--resume`` reuses only its like."""
    name, level, seed, args = task
    from kdd99 import OURS, scaler_of

    from skgan_ad.base import MIN_STEPS

    # min_steps as a number: fewer training rows than the protocol's (--train-rows)
    # can make the default lengthen a fit, so runs journaled under another default
    # (or before min_steps existed) are not taken as this one's.
    min_steps = (None if name not in OURS
                 else MIN_STEPS if args.min_steps is None else args.min_steps)
    return {"detector": name, "contamination": level, "seed": seed,
            "scaler": scaler_of(name, args.scaler), "train_rows_option": args.train_rows,
            "epochs_option": args.epochs.get(name), "min_steps": min_steps}


def summarise(all_records, args):
    records = [r for r in all_records if r["status"] == "ok"]
    used = ", ".join(sorted({f"{r['detector']} {r['epochs']}" for r in records
                             if r["epochs"] is not None}))
    epochs = (f"{used} (fewer than the defaults for "
              f"{', '.join(sorted(args.epochs))}, to fit the CPU time of this machine)"
              if args.epochs else f"the estimators' defaults ({used})")
    rows = f"{records[0]['train_rows']:,}" if records else "–"
    lines = [
        f"# KDD99 with contaminated training data ({date.today()})",
        "",
        f"Command: `python benchmarks/contamination.py {shlex.join(sys.argv[1:])}`",
        "",
        ("Training rows: the same number at every level ("
         + ("the clean protocol's" if args.train_rows is None else "`--train-rows`")
         + "), a share of them anomalies "
         f"taken from the training half; test: the untouched test half. Seeds "
         f"{', '.join(map(str, args.seeds))} (split, sampling and model). Epochs: "
         f"{epochs}. Training rows per run: {rows}. Feature scaling `{args.scaler}` "
         "(as in kdd99.py); one torch thread per run."),
        "",
        "AUROC (mean over seeds) per contamination level, and its drop from 0%:",
        "",
        "| detector | " + " | ".join(f"{level:.0%}" for level in args.levels)
        + " | drop at 5% | drop at 10% | drop at 20% |",
        "|---|" + "---|" * (len(args.levels) + 3),
    ]
    summary = {}
    for name in args.detectors:
        auroc = {level: float(np.mean([r["auroc"] for r in records
                                       if r["detector"] == name
                                       and r["contamination"] == level]))
                 for level in args.levels}
        summary[name] = auroc
        clean = auroc.get(0.0, np.nan)
        drops = [clean - auroc[level] if level in auroc else np.nan
                 for level in (0.05, 0.10, 0.20)]
        cells = [f"{auroc[level]:.4f}" for level in args.levels]
        cells += [f"{drop:+.4f}" for drop in drops]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    worst = max(args.levels)
    if worst > 0 and 0.0 in args.levels:
        ranking = sorted(summary, key=lambda name: summary[name][0.0] - summary[name][worst])
        drops = ", ".join(f"{name} ({summary[name][0.0] - summary[name][worst]:+.4f})"
                          for name in ranking)
        lines += ["", f"Smallest AUROC drop at {worst:.0%} first: {drops}."]
    failed = [f"- {r['detector']}, {r['contamination']:.0%}, seed {r['seed']}: "
              f"{markdown_cell(r['error'])}" for r in all_records if r["status"] == "failed"]
    if failed:
        lines += ["", "Failed runs (left out of the means above):", "", *failed]
    return summary, "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--levels", type=float, nargs="+", default=list(LEVELS))
    parser.add_argument("--detectors", nargs="+", default=list(DETECTORS),
                        choices=DETECTORS)
    parser.add_argument("--epochs", nargs="*", default=[], metavar="NAME=N",
                        help="epochs of some GAN detectors (default: the estimators' own)")
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of our detectors (default: the estimators' own)")
    parser.add_argument("--jobs", type=int, default=1, help="processes at once")
    parser.add_argument("--scaler", default="chosen",
                        choices=["chosen", "log", "minmax", "standard"],
                        help="feature scaling, as in kdd99.py (default: each "
                             "detector's chosen one)")
    parser.add_argument("--train-rows", type=int, default=None,
                        help="training rows at every level (default: the clean "
                             "protocol's count)")
    parser.add_argument("--output", default=str(RESULTS / "contamination"),
                        help="writes OUTPUT.json and OUTPUT.md")
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    args.epochs = {name: int(n) for name, n in (pair.split("=") for pair in args.epochs)}
    if set(args.epochs) - set(DETECTORS):
        parser.error(f"--epochs names unknown detectors: {set(args.epochs) - set(DETECTORS)}")
    if not Path(args.data).exists():
        parser.error(f"KDD99 file not found: {args.data}")

    tasks = [(name, level, seed, args) for seed in args.seeds for name in args.detectors
             for level in args.levels]
    print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
    output = Path(args.output)
    records = run_tasks(run_one, tasks, jobs=args.jobs, identify=identify,
                        description="contamination", journal=journal_path(output),
                        resume=args.resume)
    summary, table = summarise(records, args)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "argv": sys.argv[1:], "epochs": args.epochs,
         "runs": records, "summary": summary}, indent=2))
    output.with_suffix(".md").write_text(table)
    print("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
