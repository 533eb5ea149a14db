"""Contamination robustness on KDD99: train on normal rows mixed with anomalies.

The KDD99 paper protocol trains on clean data (the normal rows of the training half).
Here the training rows are contaminated: a share ``p`` of them (0%, 5%, 10%, 20%)
are anomalies, taken from the training half of the same split (the rows the protocol
drops, ``common.training_half``), never from the test half. The number of training
rows is the same at every level (by default that of the clean protocol, 198,361 for
seed 42; ``--train-rows`` draws fewer to fit a CPU budget): at level ``p``, ``p`` of
them are anomalies drawn at random and the rest normal rows drawn at random. Each
detector is scored on the untouched test half; the table gives the AUROC per level
and its drop from the clean level. Features are scaled as in the KDD99 suite
(``--scaler``; by default each detector's chosen scaling), with any statistics taken
from the (contaminated) training rows, as a user would.

Detectors: by default ours but AnoGAN (``common.OURS_WITHOUT_SEARCH``: its latent
search over the 247,011 test rows would take about an hour a run), and PyOD's
IForest; ``--detectors`` picks any of the KDD99 suite's.

Each (detector, level, seed) runs in a fresh process with one torch thread; a run
that fails is reported as failed, and every finished run is journaled, so that
``--resume`` restarts an interrupted run or joins runs made side by side (one per seed,
say) into one table (see ``_runner.py``).

    python -m benchmarks contamination --train-rows 50000 --detectors GANomaly \\
        FenceGAN SimultaneousEncoderGAN "PyOD IForest"   # results/contamination.md
    python -m benchmarks contamination --quick   # a smoke run, see --help
"""

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    DETECTORS,
    OURS,
    OURS_WITHOUT_SEARCH,
    PYOD_EPOCHS,
    add_kdd99_data_argument,
    add_quick_and_output_arguments,
    default_output,
    ema_of,
    detection_metrics,
    fit_and_score,
    journal_path,
    kdd99_data,
    load_kdd99_data,
    markdown_cell,
    min_steps_of,
    scaler_of,
    script_parser,
    training_half,
)

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
    from skgan_ad.datasets import make_kdd99_preprocessor

    data = load_kdd99_data(args.data)
    X_normal, X_anomalous, X_test, y_test = training_half(data.data, data.target,
                                                         random_state=seed)
    X_train = contaminated_training_rows(X_normal, X_anomalous, level, seed,
                                         args.train_rows)
    preprocessor = make_kdd99_preprocessor(scaler_of(name, args.scaler)).fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)
    # --epochs NAME=N: the epochs of ours, or PyOD's epoch argument (PYOD_EPOCHS).
    anomaly_scores, timings, detector = fit_and_score(
        name, seed, X_train, X_test, epochs=args.epochs.get(name),
        pyod_epochs=args.epochs.get(name), min_steps=args.min_steps, quick=args.quick)
    metrics = detection_metrics(y_test, anomaly_scores, 80)
    ours = name in OURS
    record = {"detector": name, "contamination": level, "seed": seed,
              "train_rows": timings["train_rows"], "auroc": metrics["auroc"],
              "auprc": metrics["auprc"], "fit_seconds": timings["fit_seconds"],
              "epochs": detector.epochs if ours else None,
              "min_steps": detector.min_steps if ours else None}
    print(f"  {name:<22} {level:4.0%} seed {seed}: AUROC {record['auroc']:.4f}  "
          f"fit {record['fit_seconds']:.0f}s", flush=True)
    return record


def identify(task):
    """What names a run, its settings included, so ``--resume`` reuses only its like."""
    name, level, seed, args = task
    # min_steps as a number: fewer training rows than the protocol's (--train-rows)
    # can make the default lengthen a fit, so runs journaled under another default
    # (or before min_steps existed) are not taken as this one's.
    return {"detector": name, "contamination": level, "seed": seed,
            "scaler": scaler_of(name, args.scaler), "train_rows_option": args.train_rows,
            "epochs_option": args.epochs.get(name),
            "min_steps": min_steps_of(name, args.min_steps), "ema": ema_of(name)}


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
        f"Command: `{command_line()}`",
        "",
        *(["A quick smoke run (`--quick`), not a result.", ""] if args.quick else []),
        ("Training rows: the same number at every level ("
         + ("the clean protocol's" if args.train_rows is None else "`--train-rows`")
         + "), a share of them anomalies "
         f"taken from the training half; test: the untouched test half. Seeds "
         f"{', '.join(map(str, args.seeds))} (split, sampling and model). Epochs: "
         f"{epochs}. Training rows per run: {rows}. Feature scaling `{args.scaler}` "
         "(as in the KDD99 suite); one torch thread per run."),
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
    parser = script_parser(__name__, __doc__)
    add_kdd99_data_argument(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--levels", type=float, nargs="+", default=list(LEVELS))
    parser.add_argument("--detectors", nargs="+",
                        default=[*OURS_WITHOUT_SEARCH, "PyOD IForest"], choices=DETECTORS)
    parser.add_argument("--epochs", nargs="*", default=[], metavar="NAME=N",
                        help="epochs of some detectors, ours or PyOD's (default: the "
                             "estimators' own)")
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of our detectors (default: the estimators' own)")
    parser.add_argument("--jobs", type=int, default=1, help="processes at once")
    parser.add_argument("--scaler", default="chosen",
                        choices=["chosen", "log", "minmax", "standard"],
                        help="feature scaling, as in the KDD99 suite (default: each "
                             "detector's chosen one)")
    parser.add_argument("--train-rows", type=int, default=None,
                        help="training rows at every level (default: the clean "
                             "protocol's count)")
    add_quick_and_output_arguments(
        parser, "contamination", writes="OUTPUT.json and OUTPUT.md",
        quick="seed 42, 1 epoch (min_steps 0) for every detector trained in epochs, "
              "the bundled sample unless --data is given")
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    args.epochs = {name: int(n) for name, n in (pair.split("=") for pair in args.epochs)}
    if set(args.epochs) - set(DETECTORS):
        parser.error(f"--epochs names unknown detectors: {set(args.epochs) - set(DETECTORS)}")
    if args.quick:
        args.seeds, args.min_steps = [42], 0
        args.epochs = {name: 1 for name in args.detectors
                       if name in OURS or PYOD_EPOCHS[name] is not None}
    args.data = kdd99_data(parser, args.data, args.quick)
    args.output = args.output or default_output("contamination", args.quick)

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
        {"date": str(date.today()), "command": command_line(), "quick": args.quick,
         "epochs": args.epochs, "runs": records, "summary": summary}, indent=2))
    output.with_suffix(".md").write_text(table)
    print("\n" + table)
    return 0
