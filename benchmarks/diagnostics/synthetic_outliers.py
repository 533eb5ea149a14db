"""Can a fit tell, without labels, that it ranks backwards? A check on synthetic outliers.

A fit that ranks a table backwards (validation AUROC well below 0.5) would be worth a
warning, if the fit could see it without labels. One label-free candidate: score the
training rows beside synthetic outliers made from them, rows drawn uniformly in the
training rows' bounding box, and rows whose columns are permuted independently
(marginals kept, dependencies broken); a fit that ranks those as normal as the
training rows would be suspect. This script measures whether the check separates
backward fits from sound ones, on validation splits of ADBench training parts
(``min_steps_validation.validation_split``: the test parts are never read): per
(table, detector, scaler) cell, the validation AUROC (anomaly positive) beside the
AUROC of the synthetic rows against the training rows (synthetic positive).

The default cells are the tables and detectors whose validation AUROC behind
``MinMaxScaler`` was lowest in ``results/input_scaling_minmax.md`` (below 0.45 there,
the worst four), each behind ``MinMaxScaler`` and ``StandardScaler``.

    python -m benchmarks synthetic_outliers
    python -m benchmarks synthetic_outliers --cells 14_glass:EGBAD 45_wine:GANomaly
"""

from datetime import date

import numpy as np

from .._runner import command_line
from ..common import (
    DATA,
    OURS,
    dataset_files,
    default_output,
    fit_and_score,
    load_table,
    script_parser,
    write_results,
)
from ..defaults.min_steps_validation import validation_split

DEFAULT_CELLS = ("14_glass:EGBAD", "15_Hepatitis:FenceGAN", "45_wine:GANomaly",
                 "7_Cardiotocography:GANomaly")
#: Synthetic rows of each kind.
SYNTHETIC_ROWS = 2000


def synthetic_rows(X, rng):
    """Rows uniform in ``X``'s bounding box, and rows of ``X`` with each column shuffled."""
    box = rng.uniform(X.min(axis=0), X.max(axis=0), size=(SYNTHETIC_ROWS, X.shape[1]))
    rows = X[rng.choice(len(X), SYNTHETIC_ROWS)]
    shuffled = np.column_stack([rng.permutation(rows[:, j]) for j in range(X.shape[1])])
    return {"bounding box": box.astype(np.float32), "columns permuted": shuffled}


def check_cell(dataset, detector, scaler, data_dir, seed=42):
    from sklearn.metrics import roc_auc_score

    X, y = load_table(dataset_files(data_dir)[dataset])
    X_fit, X_valid, y_valid = validation_split(X, y, seed, scaler)
    synthetic = synthetic_rows(X_fit, np.random.RandomState(seed))
    everything = np.concatenate([X_valid, X_fit, *synthetic.values()])
    scores, _, _ = fit_and_score(detector, seed, X_fit, everything)
    valid, rest = scores[:len(X_valid)], scores[len(X_valid):]
    training, rest = rest[:len(X_fit)], rest[len(X_fit):]
    record = {"dataset": dataset, "detector": detector, "scaler": scaler,
              "validation_auroc": float(roc_auc_score(y_valid, valid))}
    for index, kind in enumerate(synthetic):
        kind_scores = rest[index * SYNTHETIC_ROWS:(index + 1) * SYNTHETIC_ROWS]
        record[kind] = float(roc_auc_score(
            np.r_[np.zeros(len(training)), np.ones(SYNTHETIC_ROWS)],
            np.r_[training, kind_scores]))
    print(f"  {dataset} {detector} {scaler}: validation AUROC "
          f"{record['validation_auroc']:.3f}, box {record['bounding box']:.3f}, "
          f"permuted {record['columns permuted']:.3f}", flush=True)
    return record


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS),
                        metavar="TABLE:DETECTOR")
    parser.add_argument("--scalers", nargs="+", default=["minmax", "standard"],
                        choices=["minmax", "standard", "none"])
    parser.add_argument("--output", default=default_output("synthetic_outliers"))
    args = parser.parse_args(argv)
    cells = [cell.split(":") for cell in args.cells]
    unknown = [detector for _, detector in cells if detector not in OURS]
    if unknown:
        parser.error(f"not one of ours: {', '.join(unknown)}")
    records = [check_cell(dataset, detector, scaler, args.data_dir)
               for scaler in args.scalers for dataset, detector in cells]
    lines = [f"# A label-free check on synthetic outliers ({date.today()})", "",
             f"Command: `{command_line()}`", "",
             ("Validation splits of ADBench training parts (seed 42; test parts never "
              "read); each detector with its defaults behind the scaler. Validation: "
              "AUROC of the validation rows (anomaly positive). Box and permuted: AUROC "
              f"of {SYNTHETIC_ROWS:,} synthetic rows against the training rows (synthetic "
              "positive), uniform in the bounding box or with columns permuted."), "",
             "| table | detector | scaler | validation AUROC | box | permuted |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['detector']} | {r['scaler']} | "
              f"{r['validation_auroc']:.3f} | {r['bounding box']:.3f} | "
              f"{r['columns permuted']:.3f} |" for r in records]
    write_results(args.output, lines, runs=records)
    return 0
