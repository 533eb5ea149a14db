"""Diagnostic: how many distinct training rows share one score, in sound and collapsed fits?

A training that collapses (a discriminator saturated, say) gives many different rows
one and the same score, so its ranking says nothing about them; ``fit`` warns when
the largest such group holds ``base.COLLAPSED_SHARE`` of the distinct training rows.
This measures that share on fits a user would make, and on fits collapsed on purpose:

* KDD99 rows of no evaluated test half (``defaults.tabular_validation.selection_data``,
  training parts only), standardised, ``log1p`` and unscaled, each detector with its
  defaults: the share on the training rows beside the validation AUROC, to see
  whether a poor ranking shows as ties;
* every detector with learning rates of 1 and 100, three epochs (``min_steps=0``), on
  600 standardised rows of ``sklearn.datasets.make_blobs``: a constructed collapse.

    python -m benchmarks score_ties
"""

import itertools
import json
import warnings
from datetime import date

import numpy as np
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import roc_auc_score

from skgan_ad import all_detectors
from skgan_ad.base import largest_tied_share
from skgan_ad.datasets import make_kdd99_preprocessor

from .._runner import command_line
from ..common import (
    AS_PREPARED,
    KDD99_FILE,
    default_output,
    load_kdd99_data,
    script_parser,
    write_results,
)
from ..defaults.tabular_validation import selection_data

SCALINGS = {"standard": "standard", "log": "log", "unscaled": None}
COLLAPSING_LEARNING_RATES = (1.0, 100.0)


def kdd99_records(detectors):
    X_train, X_valid, y_valid = selection_data(load_kdd99_data(KDD99_FILE))
    for scaling, scaler in SCALINGS.items():
        preprocessor = make_kdd99_preprocessor(scaler).fit(X_train)
        X_fit = preprocessor.transform(X_train).astype(np.float32)
        X_check = preprocessor.transform(X_valid).astype(np.float32)
        for name, cls in detectors:
            detector = cls(random_state=0, device="cpu", **AS_PREPARED).fit(X_fit)
            yield {"data": f"KDD99 selection rows, {scaling}", "detector": name,
                   "lr": detector.lr,
                   "tied_share": largest_tied_share(X_fit, detector.score_samples(X_fit)),
                   "validation_auroc": roc_auc_score(
                       y_valid, -detector.score_samples(X_check))}


def constructed_records(detectors):
    X, _ = make_blobs(600, n_features=8, random_state=0)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    for name, cls in detectors:
        for lr in COLLAPSING_LEARNING_RATES:
            detector = cls(lr=lr, epochs=3, min_steps=0, random_state=0,
                           device="cpu", **AS_PREPARED).fit(X)
            yield {"data": "blobs, 600 rows", "detector": name, "lr": lr,
                   "tied_share": largest_tied_share(X, detector.score_samples(X)),
                   "validation_auroc": None}


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("--output", default=default_output("score_ties"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    detectors = all_detectors()
    records = []
    # The fits' own warnings (feature scale, collapse) are what this measures around.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for record in itertools.chain(kdd99_records(detectors),
                                      constructed_records(detectors)):
            records.append(record)
            print(json.dumps(record), flush=True)
    lines = [f"# Distinct training rows sharing one score ({date.today()})", "",
             f"Command: `{command_line()}`", "", __doc__.split("\n\n")[1].replace("\n", " "),
             "", "| data | detector | lr | largest tied share | validation AUROC |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['data']} | {r['detector']} | {r['lr']:g} | {r['tied_share']:.3f} | "
              + ("–" if r["validation_auroc"] is None else f"{r['validation_auroc']:.3f}")
              + " |" for r in records]
    write_results(args.output, lines, runs=records)
    return 0
