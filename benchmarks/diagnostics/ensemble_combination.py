"""How a SeedEnsemble should combine its members, measured on training data only.

A :class:`skgan_ad.SeedEnsemble` maps each member's scores to positions in that
member's training scores (0 to 1 inside the training range, continued linearly
beyond it) and averages them, so one member whose fit failed pulls every row toward
the middle. This script fits ensembles once and scores validation rows with each
combination rule (``RULES``) of the same members, on rows no reported test run reads:

* ``kdd99``: the KDD99 selection rows (``defaults/tabular_validation.py``: rows of the
  training half of every seed of the KDD99 table), 80% of their normal rows to train,
  the rest plus 20% anomalies to validate; features scaled as the KDD99 suite scales
  them for the detector (``common.SCALERS``), fed as given (``standardize=False``);
* any ADBench table: the validation split of its training part
  (``defaults/min_steps_validation.py``), ``StandardScaler`` in front and the
  estimator's ``standardize=True``, as the dependability report fits it.

Per rule: validation AUROC, AUPRC and F1 at the validation set's anomaly share
(KDD99's top-20% threshold), and each member's AUROC alone.

``--kdd99-test-seed SEED`` is a diagnosis, not a choice: it fits on the training rows of
the KDD99 paper split of that seed and scores its test half, to look at the members
of a reported run; no setting may be chosen on it.

    python -m benchmarks ensemble_combination --datasets kdd99 \\
        --detectors SimultaneousEncoderGAN --members 10 --seeds 0 1 2 3 4
    python -m benchmarks ensemble_combination --datasets kdd99 \\
        --detectors SimultaneousEncoderGAN --members 10 --seeds 42 --kdd99-test-seed 42 \\
        --output benchmarks/results/ensemble_combination_kdd99_test42
"""

from datetime import date

import numpy as np

from .._runner import add_resume_argument, command_line, run_tasks
from ..common import (
    AS_PREPARED,
    DATA,
    KDD99_FILE,
    OURS,
    dataset_files,
    default_output,
    detection_metrics,
    journal_path,
    load_table,
    make_detector,
    scaler_of,
    script_parser,
    write_results,
)

KDD99 = "kdd99"


def _trimmed_mean(positions):
    """The mean of each row's members without its highest and lowest position."""
    ordered = np.sort(positions, axis=0)
    return ordered[1:-1].mean(axis=0) if len(ordered) > 2 else ordered.mean(axis=0)


#: Combination rules of the members' normalised positions (members x rows): higher =
#: more normal.
RULES = {"mean": lambda positions: positions.mean(axis=0),
         "median": lambda positions: np.median(positions, axis=0),
         "trimmed mean": _trimmed_mean,
         "mean of positions clipped to [-1, 2]":
             lambda positions: np.clip(positions, -1, 2).mean(axis=0),
         "mean of ranks (clipped to [0, 1])":
             lambda positions: np.clip(positions, 0, 1).mean(axis=0)}


def _data(dataset, name, seed, args):
    """Training rows, validation rows and their labels (1 = anomaly), scaled; the
    detector's extra parameters."""
    if dataset == KDD99:
        from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

        from ..defaults.tabular_validation import selection_data

        data = load_kdd99(KDD99_FILE)
        X_train, X_valid, y_valid = (
            selection_data(data) if args.kdd99_test_seed is None else kdd99_paper_split(
                data.data, data.target, random_state=args.kdd99_test_seed))
        y_valid = np.asarray(y_valid)
        preprocessor = make_kdd99_preprocessor(scaler_of(name, "chosen")).fit(X_train)
        return (preprocessor.transform(X_train).astype(np.float32),
                preprocessor.transform(X_valid).astype(np.float32), y_valid, AS_PREPARED)
    from ..defaults.min_steps_validation import validation_split

    X, y = load_table(dataset_files(args.data_dir)[dataset])
    X_fit, X_valid, y_valid = validation_split(X, y, seed)
    return X_fit, X_valid, y_valid, {"standardize": True}


def _metrics(y, normality):
    """AUROC, AUPRC and F1 with the rows at the validation set's anomaly share flagged."""
    metrics = detection_metrics(y, -normality, 100 * (1 - y.mean()))
    return {name: float(metrics[name]) for name in ("auroc", "auprc", "f1")}


def run_one(task):
    """One ensemble fitted once, its validation rows scored with every rule."""
    import torch

    dataset, name, seed, args = task
    torch.set_num_threads(1)
    X_train, X_valid, y_valid, extra = _data(dataset, name, seed, args)
    ensemble, _ = make_detector(name, seed, X_train.shape[1], extra=extra,
                                ensemble=args.members)
    ensemble.fit(X_train)
    positions = ensemble._member_positions(X_valid)
    return {"dataset": dataset, "detector": name, "seed": seed, "members": args.members,
            "train_rows": len(X_train), "valid_rows": len(X_valid),
            "valid_anomalies": int(y_valid.sum()),
            "rules": {rule: _metrics(y_valid, combine(positions))
                      for rule, combine in RULES.items()},
            "member_auroc": [_metrics(y_valid, p)["auroc"] for p in positions],
            "lowest_position": float(positions.min()),
            "highest_position": float(positions.max())}


def report(records, args):
    ok = [r for r in records if r["status"] == "ok"]
    lines = [f"# How a SeedEnsemble combines its members, on training data ({date.today()})",
             "", f"Command: `{command_line()}`", "",
             (f"Ensembles of {args.members} members, fitted once per table, detector and "
              "seed (" + ", ".join(map(str, args.seeds)) + "); validation rows from "
              "training data only (KDD99 selection rows; the ADBench training part's "
              "validation split), scored with each rule from the same members. "
              + ("" if args.kdd99_test_seed is None else
                 f"**Diagnosis**: KDD99 is scored on the test half of seed "
                 f"{args.kdd99_test_seed}'s paper split; nothing is chosen on it. ")
              + "Cells: mean over seeds ± standard deviation over seeds."), ""]
    for metric in ("auroc", "auprc", "f1"):
        lines += [f"## Validation {metric.upper()}", "",
                  "| table | detector | " + " | ".join(RULES) + " | members alone: worst / best |",
                  "|---|---|" + "---|" * (len(RULES) + 1)]
        groups = sorted({(r["dataset"], r["detector"]) for r in ok})
        means = {rule: [] for rule in RULES}
        for dataset, name in groups:
            runs = [r for r in ok if (r["dataset"], r["detector"]) == (dataset, name)]
            cells = []
            for rule in RULES:
                values = [r["rules"][rule][metric] for r in runs]
                means[rule].append(np.mean(values))
                cells.append(f"{np.mean(values):.4f} ± {np.std(values):.4f}")
            members = [a for r in runs for a in r["member_auroc"]]
            lines.append(f"| {dataset} | {name} | " + " | ".join(cells)
                         + f" | {min(members):.3f} / {max(members):.3f} |")
        if len(groups) > 1:
            lines.append("| mean over tables | | " + " | ".join(
                f"{np.mean(values):.4f}" for values in means.values()) + " | |")
        lines.append("")
    return lines


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--datasets", nargs="+", default=[KDD99],
                        help=f"'{KDD99}' and/or ADBench table names")
    parser.add_argument("--detectors", nargs="+", default=["SimultaneousEncoderGAN"],
                        choices=OURS)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--kdd99-test-seed", type=int, default=None, metavar="SEED",
                        help="diagnosis only: KDD99's paper split of SEED, scored on its "
                             "test half, instead of the selection rows")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", default=default_output("ensemble_combination"))
    add_resume_argument(parser)
    args = parser.parse_args(argv)
    tasks = [(dataset, name, seed, args) for dataset in args.datasets
             for name in args.detectors for seed in args.seeds]
    records = run_tasks(
        run_one, tasks, jobs=args.jobs,
        identify=lambda task: {"dataset": task[0], "detector": task[1], "seed": task[2],
                               "members": args.members,
                               "kdd99_test_seed": args.kdd99_test_seed},
        description="ensembles", journal=journal_path(args.output), resume=args.resume)
    write_results(args.output, report(records, args), runs=records)
    return 0
