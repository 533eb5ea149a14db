"""Diagnostic: does EGBAD's KDD99 score rank rows beyond its initial network?

Scores the same rows three ways, on standardised and on unscaled (official) features:
the L1 distance of a row to the mean of the training rows; EGBAD with its initial
weights (one pass at a learning rate of 1e-12: only the batch-norm statistics move);
and EGBAD as the KDD99 table fits it (``common.make_detector``: defaults, the
official moving average). Each with precision, recall, F1 (top-20% rule), AUROC,
AUPRC, and the Spearman correlation of EGBAD's score with the distance to the mean.

Rows: ``selection`` is the labelled validation split of rows of no evaluated test
half (``defaults.tabular_validation.selection_data``, training parts only); with
``--test-seeds``, also the test half of each of those paper splits, which reads test
labels and so is a diagnosis of the table's rows, no choice is made from it.

    python -m benchmarks egbad_initial_scores --seeds 0 1 --test-seeds 42
"""

import json
from datetime import date

import numpy as np
import torch
from scipy.stats import spearmanr

from skgan_ad import EGBAD
from skgan_ad.datasets import make_kdd99_preprocessor

from .._runner import command_line
from ..common import (
    KDD99_FILE,
    RESULTS,
    detection_metrics,
    load_kdd99_data,
    make_detector,
    min_steps_of,
    script_parser,
    training_half,
    write_results,
)
from ..defaults.tabular_validation import selection_data

SCALERS = {"standard": "standard", "unscaled (official)": None}
#: Columns of the printed table, from ``detection_metrics``.
SHOWN = ("precision", "recall", "f1", "flagged", "auroc", "auprc")


def egbad_fits(seed, n_features):
    """The two EGBAD fits compared with the distance to the mean, by name."""
    return {
        "EGBAD, initial weights": EGBAD(epochs=1, min_steps=0, lr=1e-12,
                                        random_state=seed, device="cpu"),
        "EGBAD, as the KDD99 table fits it": make_detector(
            "EGBAD", seed, n_features, min_steps=min_steps_of("EGBAD", None))[0],
    }


def compare(X_train, X_eval, y_eval, seed, scaler):
    """One row per score of ``X_eval`` after training on ``X_train``."""
    preprocessor = make_kdd99_preprocessor(scaler)
    X_train = preprocessor.fit_transform(X_train).astype(np.float32)
    X_eval = preprocessor.transform(X_eval).astype(np.float32)
    distance = np.abs(X_eval - X_train.mean(axis=0)).sum(axis=1)
    rows = [{"score": "L1 distance to the training mean",
             **detection_metrics(y_eval, distance, 80), "spearman_to_distance": 1.0}]
    for name, detector in egbad_fits(seed, X_train.shape[1]).items():
        scores = -detector.fit(X_train).score_samples(X_eval)
        rows.append({"score": name, **detection_metrics(y_eval, scores, 80),
                     "spearman_to_distance": spearmanr(scores, distance).statistic})
    return rows


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1],
                        help="model seeds on the selection rows")
    parser.add_argument("--test-seeds", type=int, nargs="*", default=[],
                        help="paper splits whose test half is also scored (diagnosis)")
    parser.add_argument("--output", default=str(RESULTS / "egbad_initial_scores"),
                        help="writes OUTPUT.md and OUTPUT.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    data = load_kdd99_data(KDD99_FILE)
    parts = [("selection", seed, selection_data(data)) for seed in args.seeds]
    for seed in args.test_seeds:
        X_normal, _, X_test, y_test = training_half(data.data, data.target, seed)
        parts.append((f"test half of split {seed}", seed, (X_normal, X_test, y_test)))
    records = []
    for rows, seed, (X_train, X_eval, y_eval) in parts:
        for scaler_name, scaler in SCALERS.items():
            for record in compare(X_train, X_eval, y_eval, seed, scaler):
                records.append({"rows": rows, "seed": seed, "features": scaler_name,
                                **record})
                print(json.dumps(records[-1]), flush=True)

    lines = [f"# EGBAD's KDD99 score against its initial network ({date.today()})", "",
             f"Command: `{command_line()}`", "", __doc__.split("\n\n")[1].replace("\n", " "),
             "", "| rows | seed | features | score | " + " | ".join(SHOWN)
             + " | Spearman to distance |", "|---" * (len(SHOWN) + 5) + "|"]
    for record in records:
        lines.append(f"| {record['rows']} | {record['seed']} | {record['features']} | "
                     f"{record['score']} | "
                     + " | ".join(f"{record[key]:.4f}" for key in SHOWN)
                     + f" | {record['spearman_to_distance']:.3f} |")
    write_results(args.output, lines, runs=records)
    return 0
