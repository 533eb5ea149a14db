"""ADBench's classical tables and Arrhythmia: our detectors next to PyOD's, in one run.

Data (``--data-dir``, ``../shared/data/README.md``): every ``adbench/*.npz`` (``X``;
``y``, 1 = anomaly) and Arrhythmia (``odds/arrhythmia.mat``; classes 3, 4, 5, 7, 8, 9,
14 and 15 are the anomalies, the ODDS / ALAD convention; X is the first 274 columns).

Protocol, for every table and seed (``--seeds``; each seeds the split and the model):

* a stratified 70/30 split, ``train_test_split(X, y, test_size=0.3, stratify=y,
  random_state=seed)``;
* features standardised with the statistics of the training part;
* every detector of the KDD99 suite (``common.DETECTORS``) fitted, unsupervised, on
  the training part as it is (its anomalies included), with its own defaults: epochs
  and batch sizes are not adapted to a table; ours train for at least ``min_steps``
  steps (their default, chosen on training parts by
  ``defaults/min_steps_validation.py``; ``--min-steps`` sets another), which
  lengthens their epochs on small tables. PyOD's OCSVM, MO_GAAL and AnoGAN are
  fitted on the random training subsample of ``common.TRAIN_ROWS`` where a table has
  more rows;
  ``--max-train-rows`` caps the training part of every detector alike (a random,
  seeded subsample; default: no cap), which bounds the cost of the largest tables;
* AUROC and AUPRC (average precision) of the test part, the anomaly positive; mean and
  standard deviation over seeds. Nothing is chosen on test labels.

The one cap, the same for every detector, is on time: a run still going after
``--budget`` seconds (1,800 by default) is stopped and, like a run that raises, makes
its cell "failed"; the other seeds of that (table, detector) are then not run. Methods
are ranked on each table by mean AUROC (and by mean AUPRC), 1 = best; a method that
failed on a table takes the last rank there, tied with the other failures; the tables
give the mean rank over tables.

Arrhythmia also runs in the ALAD paper's protocol: ``train_test_split(X, y,
test_size=0.5, random_state=seed)`` (seed 42 is the paper's split), anomalies kept in
the training half, features standardised with its statistics, and the test rows at or
above the 85th percentile of the test scores called anomalies; precision, recall and
F1 stand next to the F1 the ALAD paper published (recalled, not verified:
``../shared/methods.md``). When ALAD runs, a second ALAD runs there with the paper's
own Arrhythmia settings, exactly as its official code sets them
(``alad/arrhythmia_utilities.py``: networks, batch size 32, latent size 64) on the
unscaled features of its protocol (``ALAD_PAPER_SETTINGS``).

Each (table, detector, seed) runs in a fresh process with one torch thread (see
``_runner.py``), smallest tables first.

    python -m benchmarks adbench                           # every table, 5 seeds
    python -m benchmarks adbench --datasets 4_breastw arrhythmia --seeds 42
    python -m benchmarks adbench --quick                   # a smoke run, see --help
"""

import json
from datetime import date
from pathlib import Path

import numpy as np

from skgan_ad.base import MIN_STEPS

from .. import _plots
from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    ARRHYTHMIA,
    DATA,
    TABLES,
    adbench_split,
    add_quick_and_output_arguments,
    add_run_arguments,
    dataset_files,
    default_output,
    ema_of,
    detection_metrics,
    fit_and_score,
    journal_path,
    load_table,
    markdown_cell,
    min_steps_of,
    script_parser,
)

#: F1 on Arrhythmia in the ALAD paper's protocol, from its table (recalled, not
#: verified); IF and OC-SVM are the PyOD detectors of the same name.
ARRHYTHMIA_PAPER_F1 = {"ALAD": 0.5152, "AnoGAN": 0.4242, "PyOD IForest": 0.5303,
                       "PyOD OCSVM": 0.4581}
#: ALAD with the official code's Arrhythmia settings (``alad/arrhythmia_utilities.py``),
#: on the unscaled features of the paper's protocol; it runs in that protocol alone.
ALAD_PAPER_SETTINGS = "ALAD, paper's Arrhythmia settings"
ALAD_ARRHYTHMIA_PARAMS = {"latent_dim": 64, "batch_size": 32,
                          "encoder_hidden": (256, 128), "generator_hidden": (128, 256),
                          "discriminator_hidden": (256, 128),
                          "latent_discriminator_hidden": (64, 32)}
ARRHYTHMIA_PAPER_F1[ALAD_PAPER_SETTINGS] = ARRHYTHMIA_PAPER_F1["ALAD"]
#: The ALAD paper's protocol (50/50), next to the ADBench tables' (``TABLES``).
ALAD_PAPER = "alad_paper"
QUICK_DATASETS = ("14_glass", ARRHYTHMIA)


def raw_split(X, y, protocol, seed):
    """``X_train, X_test, y_train, y_test`` of one protocol, unscaled."""
    from sklearn.model_selection import train_test_split

    if protocol == TABLES:
        return adbench_split(X, y, seed)
    return train_test_split(X, y, test_size=0.5, random_state=seed)


def split(X, y, protocol, seed):
    """Train and test parts of one protocol, standardised with the training part."""
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, _, y_test = raw_split(X, y, protocol, seed)
    scaler = StandardScaler().fit(X_train)
    return (scaler.transform(X_train).astype(np.float32),
            scaler.transform(X_test).astype(np.float32), y_test)


def run_one(task):
    """Fit and score one detector on one table and seed; runs in its own process."""
    dataset, protocol, name, seed, args = task
    X, y = load_table(dataset_files(args.data_dir)[dataset])
    extra = None
    if name == ALAD_PAPER_SETTINGS:
        # The official code does not scale Arrhythmia's features.
        X_train, X_test, _, y_test = raw_split(X, y, protocol, seed)
        X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
        name, extra = "ALAD", ALAD_ARRHYTHMIA_PARAMS
    else:
        X_train, X_test, y_test = split(X, y, protocol, seed)
    if args.max_train_rows and len(X_train) > args.max_train_rows:
        keep = np.random.RandomState(seed).choice(len(X_train), args.max_train_rows,
                                                  replace=False)
        X_train = X_train[np.sort(keep)]
    anomaly_scores, timings, _ = fit_and_score(
        name, seed, X_train, X_test, epochs=args.epochs, pyod_epochs=args.pyod_epochs,
        min_steps=args.min_steps, quick=args.quick, extra=extra)
    # 85: the ALAD protocol's threshold; the tables' protocol has none.
    metrics = detection_metrics(y_test, anomaly_scores, 85)
    if protocol == TABLES:
        metrics = {key: metrics[key] for key in ("auroc", "auprc")}
    return {"dataset": dataset, "protocol": protocol, "detector": task[2], "seed": seed,
            "rows": len(X), "features": X.shape[1], "anomalies": int(y.sum()),
            "test_rows": len(X_test), **timings, **metrics}


def _cell(runs, metrics):
    """Mean and std over seeds of each metric, or the first failure."""
    failed = [r for r in runs if r["status"] == "failed"]
    if failed:
        return {"status": "failed", "error": failed[0]["error"]}
    return {"status": "ok", **{key: (float(np.mean([r[key] for r in runs])),
                                     float(np.std([r[key] for r in runs])))
                               for key in metrics}}


def rank_methods(results, detectors, metric):
    """Per method, its rank by mean ``metric`` on each table (1 = best; failed last)."""
    from scipy.stats import rankdata

    ranks = {name: [] for name in detectors}
    for cells in results.values():
        values = np.array([cells[name][metric][0] if cells[name]["status"] == "ok"
                           else -np.inf for name in detectors])
        for name, rank in zip(detectors, rankdata(-values)):
            ranks[name].append(float(rank))
    return ranks


def mean_over_tables(results, detectors, metric):
    """Per method, the mean over tables of its mean ``metric``, where it did not fail."""
    means = {}
    for name in detectors:
        values = [cells[name][metric][0] for cells in results.values()
                  if cells[name]["status"] == "ok"]
        means[name] = {"mean": float(np.mean(values)) if values else None,
                       "failed": len(results) - len(values)}
    return means


def _overview_table(means, mean_ranks, detectors):
    """One line a method: mean AUROC and AUPRC over tables, mean ranks, failures."""
    lines = ["| detector | mean AUROC | mean AUPRC | mean rank (AUROC) | "
             "mean rank (AUPRC) | failed tables |", "|---|---|---|---|---|---|"]
    for name in sorted(detectors, key=lambda name: mean_ranks["auroc"][name]):
        cells = [f"{means[m][name]['mean']:.3f}" if means[m][name]["mean"] is not None
                 else "–" for m in ("auroc", "auprc")]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | "
                     f"{mean_ranks['auroc'][name]:.2f} | {mean_ranks['auprc'][name]:.2f} | "
                     f"{means['auroc'][name]['failed']} |")
    return lines


def _metric_table(results, shapes, detectors, metric, mean_ranks):
    lines = ["| data set | rows × features | anomalies | " + " | ".join(detectors) + " |",
             "|---|---|---|" + "---|" * len(detectors)]
    for dataset, cells in results.items():
        finished = [cells[n][metric][0] for n in detectors if cells[n]["status"] == "ok"]
        best = max(finished, default=None)
        row = []
        for name in detectors:
            if cells[name]["status"] == "failed":
                row.append("failed")
                continue
            mean, std = cells[name][metric]
            text = f"{mean:.3f} ± {std:.3f}"
            row.append(f"**{text}**" if mean == best else text)
        if dataset in shapes:
            rows, features, anomalies = shapes[dataset]
            about = f"{rows:,} × {features} | {anomalies:,} ({anomalies / rows:.1%})"
        else:  # every run failed
            about = "– | –"
        lines.append(f"| {dataset} | {about} | " + " | ".join(row) + " |")
    lines.append("| mean rank | | | " + " | ".join(
        f"{mean_ranks[name]:.2f}" for name in detectors) + " |")
    return lines


def summarise(records, args):
    """Cells, ranks and the markdown report of a run."""
    by_pair = {}
    for r in records:
        by_pair.setdefault((r["protocol"], r["dataset"], r["detector"]), []).append(r)
    results = {TABLES: {}, ALAD_PAPER: {}}
    for (protocol, dataset, name), runs in by_pair.items():
        metrics = ("auroc", "auprc") if protocol == TABLES else (
            "precision", "recall", "f1", "auroc", "auprc")
        results[protocol].setdefault(dataset, {})[name] = _cell(runs, metrics)
    shapes = {r["dataset"]: (r["rows"], r["features"], r["anomalies"])
              for r in records if r["status"] == "ok"}
    ranks = {metric: rank_methods(results[TABLES], args.detectors, metric)
             for metric in ("auroc", "auprc")}
    mean_ranks = {metric: {name: float(np.mean(values))
                           for name, values in ranks[metric].items()}
                  for metric in ranks}

    means = {metric: mean_over_tables(results[TABLES], args.detectors, metric)
             for metric in ("auroc", "auprc")}

    seeds = ", ".join(map(str, args.seeds))
    lines = [f"# ADBench tables and Arrhythmia ({date.today()})", "",
             f"Command: `{command_line()}`", ""]
    if args.quick:
        lines += ["A quick smoke run (`--quick`), not a result.", ""]
    lines += [
        (f"Protocol (`benchmarks/suites/adbench.py`): per table and seed ({seeds}; split and "
         "model), a stratified 70/30 split; features standardised with the training "
         "part's statistics; every detector fitted, unsupervised, on the training part "
         + (f"(a random {args.max_train_rows:,} of its rows where it has more) "
            if args.max_train_rows else "")
         + "with its anomalies, with its own defaults (epochs: "
         f"{args.epochs or 'estimator default'} for ours, at least "
         f"{MIN_STEPS if args.min_steps is None else args.min_steps:,} training steps "
         "(`min_steps`), "
         f"{args.pyod_epochs or 'PyOD default'} for PyOD's); the test part scored. "
         f"A run over {args.budget:g} s is stopped and its cell reported as failed, like "
         "a run that raises. Cells: mean ± std over seeds, best in bold. Mean rank: "
         "rank by the mean on each table (1 = best, failed last), averaged over the "
         f"{len(results[TABLES])} tables."), "",
        "## Overview", "",
        ("Mean AUROC and AUPRC: the mean over the tables where the method did not fail "
         "(of its mean over seeds). Ordered by mean AUROC rank."), "",
        *_overview_table(means, mean_ranks, args.detectors), ""]
    for metric, title in (("auroc", "AUROC"), ("auprc", "AUPRC (average precision)")):
        lines += [f"## {title}", "",
                  *_metric_table(results[TABLES], shapes, args.detectors, metric,
                                 mean_ranks[metric]), ""]
    failures = [f"- {dataset} / {name}: {markdown_cell(cell['error'])}"
                for protocol in results for dataset, cells in results[protocol].items()
                for name, cell in cells.items() if cell["status"] == "failed"]
    if failures:
        lines += ["Failed (the first failed seed's reason):", "", *failures, ""]
    if results[ALAD_PAPER]:
        lines += ["## Arrhythmia in the ALAD paper's protocol", "",
                  ("50/50 split (seed 42 is the paper's), anomalies kept in the training "
                   "half, standardised features, top 15% of the test scores called "
                   "anomalies. Paper F1: the ALAD paper's table, recalled, not verified. "
                   f"{ALAD_PAPER_SETTINGS}: the official code's networks, batch size "
                   "32 and latent size 64 for Arrhythmia, on unscaled features as "
                   "there. Its training length is not the official one, which is not "
                   "recorded (`--nb_epochs` has no default, and the early stopping the "
                   "README recommends fails on tabular data): passes, the passes over "
                   "the training half that the row trained (`min_steps` included)."),
                  "",
                  "| detector | precision | recall | F1 | paper F1 | AUROC | AUPRC | "
                  "passes |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, cell in results[ALAD_PAPER][ARRHYTHMIA].items():
            paper = (f"{ARRHYTHMIA_PAPER_F1[name]:.4f}" if name in ARRHYTHMIA_PAPER_F1
                     else "–")
            if cell["status"] == "failed":
                lines.append(f"| {name} | failed: {markdown_cell(cell['error'])} | – | – | "
                             f"{paper} | – | – | – |")
                continue
            passes = sorted({r.get("passes") for r in by_pair[ALAD_PAPER, ARRHYTHMIA, name]
                             if r.get("passes") is not None})
            lines.append(f"| {name} | " + " | ".join(
                f"{cell[key][0]:.4f} ± {cell[key][1]:.4f}"
                for key in ("precision", "recall", "f1")) + f" | {paper} | " + " | ".join(
                f"{cell[key][0]:.4f} ± {cell[key][1]:.4f}" for key in ("auroc", "auprc"))
                + f" | {', '.join(map(str, passes)) or '–'} |")
    summary = {"results": results, "ranks": ranks, "mean_ranks": mean_ranks,
               "mean_over_tables": means}
    return summary, "\n".join(lines) + "\n"


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data-dir", default=str(DATA),
                        help="the folder holding adbench/ and odds/arrhythmia.mat")
    parser.add_argument("--datasets", nargs="+", default=None,
                        help="tables by name (file stem, or 'arrhythmia'; default: all)")
    add_run_arguments(parser)
    parser.add_argument("--budget", type=float, default=1800, metavar="SECONDS",
                        help="stop a run after this long and report it as failed")
    parser.add_argument("--max-train-rows", type=int, default=None, metavar="ROWS",
                        help="fit every detector on a random ROWS of a larger training "
                             "part (seeded; the scaling keeps the whole part's "
                             "statistics; default: the whole part)")
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    add_quick_and_output_arguments(
        parser, "adbench", writes="OUTPUT.json, OUTPUT.md and OUTPUT_ranks.png",
        quick=f"tables {' and '.join(QUICK_DATASETS)} unless --datasets is given, seed "
              "42, 1 epoch (min_steps 0) for ours and PyOD's")
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.pyod_epochs, args.min_steps = [42], 1, 1, 0
        args.datasets = args.datasets or list(QUICK_DATASETS)
    args.output = args.output or default_output("adbench", args.quick)
    files = dataset_files(args.data_dir)
    args.datasets = args.datasets or list(files)
    missing = [name for name in args.datasets
               if name not in files or not files[name].exists()]
    if missing:
        parser.error(f"not found in {args.data_dir}: {', '.join(missing)}")

    # Smallest files first, so that the tables finish in order of cost.
    datasets = sorted(args.datasets, key=lambda name: files[name].stat().st_size)
    tasks = [(dataset, TABLES, name, seed, args) for dataset in datasets
             for seed in args.seeds for name in args.detectors]
    if ARRHYTHMIA in datasets:
        paper_detectors = list(args.detectors) + (
            [ALAD_PAPER_SETTINGS] if "ALAD" in args.detectors else [])
        tasks += [(ARRHYTHMIA, ALAD_PAPER, name, seed, args)
                  for seed in args.seeds for name in paper_detectors]
    print(f"{len(tasks)} runs, {args.jobs} at a time", flush=True)
    records = run_tasks(
        run_one, tasks, jobs=args.jobs, budget_seconds=args.budget,
        identify=lambda task: {"dataset": task[0], "protocol": task[1],
                               "detector": task[2], "seed": task[3],
                               "epochs": args.epochs, "pyod_epochs": args.pyod_epochs,
                               "min_steps": min_steps_of(
                                   "ALAD" if task[2] == ALAD_PAPER_SETTINGS else task[2],
                                   args.min_steps),
                               "max_train_rows": args.max_train_rows,
                               "ema": ema_of("ALAD" if task[2] == ALAD_PAPER_SETTINGS
                                             else task[2])},
        group=lambda task: task[:3], description="ADBench",
        journal=journal_path(args.output), resume=args.resume)
    summary, table = summarise(records, args)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "command": command_line(), "quick": args.quick,
         "seeds": args.seeds, "epochs": args.epochs, "pyod_epochs": args.pyod_epochs,
         "budget_seconds": args.budget, "max_train_rows": args.max_train_rows,
         "runs": records, **summary}, indent=2))
    output.with_suffix(".md").write_text(table)
    _plots.plot_ranks(summary["ranks"]["auroc"],
                            f"AUROC rank over {len(summary['results'][TABLES])} tables "
                            "(ADBench protocol)",
                            output.with_name(output.name + "_ranks.png"))
    print("\n" + table)
    return 0
