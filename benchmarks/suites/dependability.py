"""Dependability: does a detector fitted as a user fits it rank anomalies the right way?

A user drops a detector into a Pipeline behind the scaler they happen to pick, fits
it once on a table nobody tuned for, and trusts the ranking. This suite measures that
trust, per detector, over the ADBench tables and Arrhythmia (``common.dataset_files``):

* every table, seed (``--seeds``, at least three; each seeds the split and the
  model) and scaler (``--scalers``: ``StandardScaler`` and ``MinMaxScaler``, the two
  users pick): ADBench's stratified 70/30 split (``common.adbench_split``), the scaler
  fitted on the training part as a Pipeline fits it, the detector fitted,
  unsupervised, on the scaled training part (its anomalies included) with its
  defaults, and AUROC and AUPRC on the test part, the anomaly positive;
* detectors (``--detectors``): ours, in the configuration README recommends (the
  estimators' defaults), next to PyOD's IForest, ECOD, OCSVM and AutoEncoder;
* ours standardise the scaled features again (``standardize=True``, their default),
  so both scalers give them the same input; ``--features-as-given`` fits them with
  ``standardize=False`` instead, as the official code feeds its networks, for the
  comparison;
* ``VotingDetector`` (among ``--detectors``, not by default) fits one of each of
  ours, with the settings above, in a :class:`skgan_ad.VotingDetector`;
* ``--ensemble N`` fits each of ours as a :class:`skgan_ad.SeedEnsemble` of ``N``
  members (seeded with the run's seed), so that a run with and a run without it give
  the ensemble's gain and its cost (fit seconds) side by side;
* ``--gan-ensemble N`` fits each of ours with ``ensemble_size=N``: Han, Chen and
  Liu's GAN ensemble of N generators and N discriminators, one random pair trained per
  step, the score averaged over every pair;
* ``--max-train-rows`` (default 10,000) fits every detector alike on a random, seeded
  subsample of a larger training part, which bounds the cost of the largest tables.

Per detector and scaler, and over both scalers: mean AUROC and AUPRC over tables
(each table's mean over seeds), the worst table's AUROC, the mean over tables of the
standard deviation over seeds of AUROC, and the number of **inverted** tables: a mean
AUROC below 0.5 where PyOD's IForest reaches at least 0.7 with the same scaler.
Nothing is chosen here: the suite reports what the defaults do.

Each (table, scaler, detector, seed) runs in a fresh process with one torch thread
(``_runner.py``); finished runs are journaled, so ``--resume`` continues a stopped
suite, and suites run side by side (one per seed, say) join into one report.

    python -m benchmarks dependability --resume     # results/dependability.*
    python -m benchmarks dependability --features-as-given --resume \\
        --output benchmarks/results/dependability_unstandardized
    python -m benchmarks dependability --quick      # a smoke run, see --help
"""

import json
from datetime import date
from pathlib import Path

import numpy as np

from .. import _plots
from .._runner import (
    add_report_only_argument,
    add_resume_argument,
    command_line,
    finished_runs,
    run_tasks,
)
from ..common import (
    ARRHYTHMIA,
    DATA,
    OURS,
    SCALER_TITLES,
    VOTING,
    USER_SCALERS,
    adbench_split,
    add_ensemble_arguments,
    add_quick_and_output_arguments,
    combination_of,
    dataset_files,
    gan_ensemble_settings,
    default_output,
    ema_of,
    fit_and_score,
    journal_path,
    load_table,
    make_scaler,
    markdown_cell,
    min_steps_of,
    script_parser,
)

#: The baselines of the report.
PYOD_BASELINES = ("PyOD IForest", "PyOD ECOD", "PyOD OCSVM", "PyOD AutoEncoder")
#: A table is inverted for a detector when its mean AUROC is below ``INVERTED_BELOW``
#: where IForest's is at least ``IFOREST_AT_LEAST``: the data carry a signal that a
#: plain detector finds, and the detector ranks against it.
INVERTED_BELOW, IFOREST_AT_LEAST = 0.5, 0.7
REFERENCE = "PyOD IForest"
DEFAULT_SEEDS = (42, 43, 44)
QUICK_DATASETS = ("14_glass", ARRHYTHMIA)


def run_one(task):
    """Fit and score one detector on one table, scaler and seed; its own process."""
    dataset, scaler, name, seed, args = task
    X, y = load_table(dataset_files(args.data_dir)[dataset])
    X_train, X_test, _, y_test = adbench_split(X, y, seed)
    if args.max_train_rows and len(X_train) > args.max_train_rows:
        keep = np.random.RandomState(seed).choice(len(X_train), args.max_train_rows,
                                                  replace=False)
        X_train = X_train[np.sort(keep)]
    fitted = make_scaler(scaler).fit(X_train)  # what a Pipeline's first step does
    X_train = fitted.transform(X_train).astype(np.float32)
    X_test = fitted.transform(X_test).astype(np.float32)
    anomaly_scores, timings, _ = fit_and_score(
        name, seed, X_train, X_test, epochs=args.epochs, min_steps=args.min_steps,
        quick=args.quick, extra=our_settings(name, args),
        ensemble=args.ensemble, combination=args.combination)
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {"rows": len(X), "features": X.shape[1], "anomalies": int(y.sum()),
            "auroc": float(roc_auc_score(y_test, anomaly_scores)),
            "auprc": float(average_precision_score(y_test, anomaly_scores)),
            **timings}


def our_settings(name, args):
    """The parameters of one of ours that the suite sets: ``standardize``, the
    estimators' default unless ``--features-as-given``, and ``ensemble_size`` with
    ``--gan-ensemble``."""
    if name not in (*OURS, VOTING):
        return None
    return {"standardize": args.standardize, **gan_ensemble_settings(args)}


def table_means(records, detector, scaler):
    """``{table: (mean AUROC, std AUROC, mean AUPRC)}`` over the seeds run so far;
    ``None`` for a table where a run failed."""
    by_table = {}
    for r in records:
        if r["detector"] == detector and r["scaler"] == scaler and r["status"] != "not run":
            by_table.setdefault(r["dataset"], []).append(r)
    means = {}
    for table, runs in by_table.items():
        if any(r["status"] != "ok" for r in runs):
            means[table] = None
            continue
        auroc = [r["auroc"] for r in runs]
        means[table] = (float(np.mean(auroc)), float(np.std(auroc)),
                        float(np.mean([r["auprc"] for r in runs])))
    return means


def dependability(records, detector, scalers):
    """The report's figures for one detector over ``scalers`` (tables x scalers)."""
    cells, inverted, failed = [], [], 0
    for scaler in scalers:
        reference = table_means(records, REFERENCE, scaler)
        for table, cell in table_means(records, detector, scaler).items():
            if cell is None:
                failed += 1
                continue
            cells.append(cell)
            if cell[0] < INVERTED_BELOW and reference.get(table) is not None \
                    and reference[table][0] >= IFOREST_AT_LEAST:
                inverted.append(f"{table} ({scaler})")
    if not cells:
        return None
    auroc = np.array(cells)
    fit_seconds = [r["fit_seconds"] for r in records if r["detector"] == detector
                   and r["scaler"] in scalers and r["status"] == "ok"]
    return {"mean_auroc": float(auroc[:, 0].mean()), "mean_auprc": float(auroc[:, 2].mean()),
            "mean_fit_seconds": float(np.mean(fit_seconds)),
            "worst_auroc": float(auroc[:, 0].min()),
            "mean_seed_std": float(auroc[:, 1].mean()), "inverted": inverted,
            "tables": len(cells), "failed": failed}


def summarise(records, args):
    groups = {**{scaler: (scaler,) for scaler in args.scalers}, "both": args.scalers}
    summary = {group: {name: dependability(records, name, scalers)
                       for name in args.detectors} for group, scalers in groups.items()}
    lines = [f"# Dependability on tables nobody tuned for ({date.today()})", "",
             f"Command: `{command_line()}`", ""]
    if args.quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    seed_ensembles = (f"; ours as SeedEnsembles of {args.ensemble} ({args.combination})"
                      if args.ensemble else "")
    not_run = [r for r in records if r["status"] == "not run"]
    if not_run:
        finished = sorted({(r["seed"], r["dataset"]) for r in records
                           if r["status"] != "not run"})
        lines += [(f"**Partial**: {len(records) - len(not_run)} of {len(records)} runs "
                   f"finished ({len(finished)} table-seed pairs, seeds "
                   f"{', '.join(map(str, sorted({seed for seed, _ in finished})))}); "
                   "the figures below cover those runs only, so tables and seeds "
                   "differ between detectors where a run is missing. Resume with "
                   "`--resume`."), ""]
    lines += [(f"{len(args.datasets)} tables (ADBench and Arrhythmia), seeds "
               f"{', '.join(map(str, args.seeds))}, scalers {', '.join(args.scalers)} "
               f"fitted on the training part; stratified 70/30 split; every detector "
               f"with its defaults (epochs: {args.epochs or 'default'}; min_steps of ours: "
               f"{'default' if args.min_steps is None else args.min_steps}"
               f"{'' if args.standardize else '; ours with standardize=False'}"
               f"{seed_ensembles}"
               f"{f'; ours with ensemble_size={args.gan_ensemble}' if args.gan_ensemble else ''}"
               "), fitted on "
               f"at most {args.max_train_rows or 'all':,} training rows; one torch thread "
               "per run. Mean AUROC / AUPRC over tables of each table's mean over seeds; "
               "worst: the lowest table AUROC; seed std: the mean over tables of the "
               "AUROC's standard deviation over seeds; inverted: tables with AUROC < "
               f"{INVERTED_BELOW} where {REFERENCE} has ≥ {IFOREST_AT_LEAST} (same "
               "scaler)."), ""]
    for group in groups:
        title = "Both scalers (tables × scalers)" if group == "both" else \
            f"Behind {SCALER_TITLES[group]}"
        lines += [f"## {title}", "",
                  "| detector | mean AUROC | mean AUPRC | worst AUROC | seed std | "
                  "inverted | failed | fit s (mean) |", "|---|---|---|---|---|---|---|---|"]
        ranked = sorted(args.detectors, key=lambda name: -(
            summary[group][name] or {"mean_auroc": -1})["mean_auroc"])
        for name in ranked:
            cell = summary[group][name]
            if cell is None:
                lines.append(f"| {name} | failed or not run | | | | | | |")
                continue
            lines.append(f"| {name} | {cell['mean_auroc']:.3f} | {cell['mean_auprc']:.3f} | "
                         f"{cell['worst_auroc']:.3f} | {cell['mean_seed_std']:.3f} | "
                         f"{len(cell['inverted'])} | {cell['failed']} | "
                         f"{cell['mean_fit_seconds']:.1f} |")
        lines.append("")
    inverted = [f"- {name}: {', '.join(cell['inverted'])}"
                for name, cell in summary["both"].items() if cell and cell["inverted"]]
    if inverted:
        lines += ["Inverted tables:", "", *inverted, ""]
    failures = [f"- {r['detector']}, {r['dataset']}, {r['scaler']}, seed {r['seed']}: "
                f"{markdown_cell(r['error'])}" for r in records if r["status"] == "failed"]
    if failures:
        lines += ["Failed runs:", "", *failures, ""]
    return summary, "\n".join(lines)


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--datasets", nargs="+", default=None,
                        help="table names (default: every ADBench table and Arrhythmia)")
    parser.add_argument("--detectors", nargs="+", default=[*OURS, *PYOD_BASELINES],
                        choices=[*OURS, VOTING, *PYOD_BASELINES])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--scalers", nargs="+", default=list(USER_SCALERS),
                        choices=list(SCALER_TITLES))
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of our detectors (default: the estimators' own)")
    parser.add_argument("--min-steps", type=int, default=None,
                        help="min_steps of our detectors (default: the estimators' own)")
    parser.add_argument("--features-as-given", dest="standardize", action="store_false",
                        help="fit ours with standardize=False: the scaled features as "
                             "the official code feeds them, not standardised again")
    add_ensemble_arguments(parser)
    parser.add_argument("--max-train-rows", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget", type=float, default=1800, metavar="SECONDS",
                        help="stop a run after this long and report it as failed")
    add_quick_and_output_arguments(
        parser, "dependability", writes="OUTPUT.json, OUTPUT.md and OUTPUT_auroc.png",
        quick=f"tables {', '.join(QUICK_DATASETS)}, seed 42, 1 epoch (min_steps 0)")
    add_resume_argument(parser)
    add_report_only_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets = args.datasets or list(QUICK_DATASETS)
        args.seeds, args.epochs, args.min_steps = [42], 1, 0
    files = dataset_files(args.data_dir)
    args.datasets = args.datasets or [name for name, path in files.items() if path.exists()]
    missing = [name for name in args.datasets if not files.get(name, Path()).exists()]
    if missing:
        parser.error(f"tables not found in {args.data_dir}: {', '.join(missing)}")
    if REFERENCE not in args.detectors:
        args.detectors.append(REFERENCE)  # the inverted count needs it
    args.output = args.output or default_output("dependability", args.quick)
    tasks = [(dataset, scaler, name, seed, args) for seed in args.seeds
             for dataset in args.datasets for scaler in args.scalers
             for name in args.detectors]

    def identify(task):
        return {"dataset": task[0], "scaler": task[1], "detector": task[2],
                "seed": task[3], "epochs": args.epochs,
                "min_steps": min_steps_of(task[2], args.min_steps),
                "ema": ema_of(task[2]), "max_train_rows": args.max_train_rows,
                "extra": our_settings(task[2], args),
                "ensemble": args.ensemble if task[2] in OURS else None,
                "combination": combination_of(args, task[2])}

    if args.report_only:
        records = finished_runs(journal_path(args.output), identify, tasks)
    else:
        print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
        records = run_tasks(run_one, tasks, jobs=args.jobs, budget_seconds=args.budget,
                            identify=identify, description="dependability",
                            journal=journal_path(args.output), resume=args.resume)
    summary, report = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "quick": args.quick,
         "summary": summary, "runs": records}, indent=2))
    output.with_suffix(".md").write_text(report)
    bars = {group: {name: cell["mean_auroc"] for name, cell in cells.items() if cell}
            for group, cells in summary.items()}
    if any(bars.values()):
        _plots.plot_grouped_bars(bars, "Mean AUROC over tables, per scaler; line: chance",
                                 "AUROC", output.with_name(output.name + "_auroc.png"),
                                 reference=0.5)
    print("\n" + report)
    return 0
