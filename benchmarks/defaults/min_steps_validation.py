"""Choose ``min_steps``, the fewest training steps of a fit, on ADBench training parts.

Our epoch defaults come from KDD99 (198,361 training rows), where an epoch is
thousands of steps; on a table of a few hundred rows the same epochs are a few dozen
steps. ``min_steps`` (every detector's parameter) lengthens such fits. Its default is
chosen here on the training parts of the ADBench protocol alone, never on their test
parts:

* for each table and seed, the ADBench split (``common.adbench_split``: stratified
  70/30, ``random_state=seed``) gives the training part; its test part is not used;
* the training part is split again, stratified 70/30 with the same seed, into fitting
  rows and validation rows; features are standardised with the fitting rows'
  statistics;
* each of our detectors, with its defaults and each candidate ``min_steps``
  (``--candidates``), is fitted on the fitting rows (their anomalies included, as in
  the protocol) and scored on the validation rows: AUROC and AUPRC, anomaly positive.

The candidate with the best validation AUROC, averaged over tables and detectors,
wins.

The same protocol validates the input scaling: ``--scaler minmax`` scales the rows
with ``MinMaxScaler`` instead (fitted on the fitting rows, as a Pipeline does), and
``--standardize`` fits ours with ``standardize=True``; run with one candidate (the
default ``min_steps``) under each setting and compare the outputs. Any other parameter
of ours is validated the same way with ``--set NAME=VALUE`` (a JSON value, e.g.
``--set ema_warmup=true``). The tables (``--datasets``) default to those whose
training part has fewer than 3,000 rows (``SMALL_ROWS``): the ones the defaults train
for few steps.

    python -m benchmarks min_steps_validation                 # 69 min with 2 jobs
    python -m benchmarks min_steps_validation --datasets 42_WBC --detectors ALAD \\
        --candidates 0 1000
"""

import json
from datetime import date
from pathlib import Path

import numpy as np

from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    DATA,
    OURS,
    SCALER_TITLES,
    adbench_split,
    add_set_argument,
    dataset_files,
    default_output,
    fit_and_score,
    journal_path,
    load_table,
    make_scaler,
    parsed_settings,
    script_parser,
)

#: Tables whose ADBench training part (70%) has fewer rows are validated by default.
SMALL_ROWS = 3000
CANDIDATES = (0, 500, 1000, 2000, 4000)


def validation_split(X, y, seed, scaler="standard"):
    """Fitting and validation rows from the ADBench training part; the test part unused."""
    from sklearn.model_selection import train_test_split

    X_train, _, y_train, _ = adbench_split(X, y, seed)
    X_fit, X_valid, _, y_valid = train_test_split(X_train, y_train, test_size=0.3,
                                                  stratify=y_train, random_state=seed)
    scaler = make_scaler(scaler).fit(X_fit)
    return (scaler.transform(X_fit).astype(np.float32),
            scaler.transform(X_valid).astype(np.float32), y_valid)


def run_one(task):
    """One detector on one table and seed, fitted once per candidate ``min_steps``."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    dataset, name, seed, args = task
    X, y = load_table(dataset_files(args.data_dir)[dataset])
    X_fit, X_valid, y_valid = validation_split(X, y, seed, args.scaler)
    record = {"dataset": dataset, "detector": name, "seed": seed,
              "fit_rows": len(X_fit), "valid_rows": len(X_valid),
              "valid_anomalies": int(y_valid.sum()), "candidates": {}}
    for min_steps in args.candidates:
        scores, timings, detector = fit_and_score(
            name, seed, X_fit, X_valid, min_steps=min_steps,
            extra=args.params or None)
        record["candidates"][str(min_steps)] = {
            "auroc": float(roc_auc_score(y_valid, scores)),
            "auprc": float(average_precision_score(y_valid, scores)),
            "steps": int(sum(len(epoch["batches"]) for epoch in detector.history_)),
            "fit_seconds": timings["fit_seconds"]}
    return record


def small_tables(data_dir):
    """The tables whose ADBench training part has fewer than ``SMALL_ROWS`` rows."""
    return [name for name, path in dataset_files(data_dir).items()
            if int(0.7 * len(load_table(path)[1])) < SMALL_ROWS]


def summarise(records, args):
    """Mean validation AUROC and AUPRC per candidate and detector; the winner."""
    ok = [r for r in records if r["status"] == "ok"]
    candidates = [str(c) for c in args.candidates]
    means = {metric: {c: {name: float(np.mean([r["candidates"][c][metric] for r in ok
                                               if r["detector"] == name]))
                          for name in args.detectors}
                      for c in candidates}
             for metric in ("auroc", "auprc")}
    overall = {metric: {c: float(np.mean(list(means[metric][c].values())))
                        for c in candidates}
               for metric in means}
    winner = max(candidates, key=lambda c: overall["auroc"][c])
    lines = [f"# min_steps chosen on validation splits of ADBench training parts "
             f"({date.today()})", "", f"Command: `{command_line()}`", "",
             ("Per table and seed (" + ", ".join(map(str, args.seeds)) + "): the ADBench "
              "training part (stratified 70/30 split) split again, stratified 70/30, "
              "into fitting and validation rows; the test part is never read; rows "
              f"scaled by {args.scaler!r} fitted on the fitting rows"
              + "".join(f"; ours with {name}={value!r}"
                        for name, value in args.params.items())
              + ". Each of "
              "our detectors, with its defaults and each candidate `min_steps`, fitted "
              "on the fitting rows (anomalies included) and scored on the validation "
              f"rows. Tables: {', '.join(sorted({r['dataset'] for r in ok}))}."), "",
             f"**Winner (best mean validation AUROC): `min_steps={winner}`.**", ""]
    failed = [r for r in records if r["status"] != "ok"]
    if failed:
        lines += ["Failed runs (left out of the means): " + ", ".join(
            f"{r['dataset']} / {r['detector']}" for r in failed), ""]
    for metric, title in (("auroc", "AUROC"), ("auprc", "AUPRC")):
        lines += [f"## Mean validation {title} over tables", "",
                  "| detector | " + " | ".join(f"min_steps={c}" for c in candidates) + " |",
                  "|---|" + "---|" * len(candidates)]
        for name in args.detectors:
            values = [means[metric][c][name] for c in candidates]
            lines.append(f"| {name} | " + " | ".join(
                f"**{v:.3f}**" if v == max(values) else f"{v:.3f}" for v in values) + " |")
        lines += ["| mean | " + " | ".join(f"{overall[metric][c]:.3f}"
                                            for c in candidates) + " |", ""]
    lines += ["## Per table (validation AUROC; training steps; fit seconds)", "",
              "| table | fitting rows | detector | " + " | ".join(candidates) + " |",
              "|---|---|---|" + "---|" * len(candidates)]
    for r in sorted(ok, key=lambda r: (r["fit_rows"], r["dataset"], r["detector"])):
        lines.append(f"| {r['dataset']} | {r['fit_rows']} | {r['detector']} | " + " | ".join(
            f"{r['candidates'][c]['auroc']:.3f}; {r['candidates'][c]['steps']:,}; "
            f"{r['candidates'][c]['fit_seconds']:.0f}" for c in candidates) + " |")
    summary = {"means": means, "overall": overall, "winner": int(winner)}
    return summary, "\n".join(lines) + "\n"


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--datasets", nargs="+", default=None,
                        help=f"tables (default: training part under {SMALL_ROWS} rows)")
    parser.add_argument("--detectors", nargs="+", default=list(OURS), choices=OURS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--candidates", type=int, nargs="+", default=list(CANDIDATES))
    parser.add_argument("--scaler", default="standard", choices=list(SCALER_TITLES),
                        help="the scaler in front of the detectors")
    parser.add_argument("--standardize", action="store_true",
                        help="fit ours with standardize=True")
    add_set_argument(parser)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget", type=float, default=3600, metavar="SECONDS")
    parser.add_argument("--output", default=default_output("min_steps_validation"))
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    args.datasets = args.datasets or small_tables(args.data_dir)
    args.params = {**({"standardize": True} if args.standardize else {}),
                   **parsed_settings(parser, args.set)}
    tasks = [(dataset, name, seed, args) for dataset in args.datasets
             for seed in args.seeds for name in args.detectors]
    print(f"{len(tasks)} runs of {len(args.candidates)} fits, {args.jobs} at a time",
          flush=True)
    records = run_tasks(
        run_one, tasks, jobs=args.jobs, budget_seconds=args.budget,
        identify=lambda task: {"dataset": task[0], "detector": task[1], "seed": task[2],
                               "candidate_list": list(args.candidates),
                               **({"scaler": args.scaler} if args.scaler != "standard"
                                  else {}),
                               **args.params},
        description="min_steps", journal=journal_path(args.output), resume=args.resume)
    summary, table = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "seeds": args.seeds,
         "candidates": args.candidates, "runs": records, **summary}, indent=2))
    output.with_suffix(".md").write_text(table)
    print("\n" + table)
    return 0
