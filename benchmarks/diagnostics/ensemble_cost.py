"""What an ensemble of seeds costs and gains: one model against a SeedEnsemble, one run.

On the KDD99 rows of no evaluated test half (``selection_data`` of
``defaults.tabular_validation``: training parts only), each detector's recommended scaling
(``common.SCALERS``), defaults: one model, then ``SeedEnsemble(n_members=N)`` with its
members trained stacked (one network for all, ``skgan_ad.networks.members``) on one
torch thread, on every core, and as one stack per core (``n_jobs=-1``: joblib
processes, one thread each), for ``--one-by-one`` detectors its members fitted
one after another, and Han, Chen and Liu's GAN ensemble of N generators and N
discriminators (``ensemble_size=N``: one random pair trained per step, the score
averaged over all pairs). Per row: fit seconds, their ratio to one model, the extra peak
memory of the fit in this process (joblib workers' memory is not counted), and
validation AUROC and AUPRC (the gain). One model trains on one thread, the detectors'
default on tables.

    python -m benchmarks ensemble_cost
    python -m benchmarks ensemble_cost --detectors GANomaly --members 3
"""

from datetime import date

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score

from skgan_ad import SeedEnsemble, all_detectors
from skgan_ad.datasets import make_kdd99_preprocessor

from .._runner import command_line
from ..common import (
    AS_PREPARED,
    KDD99_FILE,
    default_output,
    load_kdd99_data,
    scaler_of,
    script_parser,
    with_extra_peak,
    write_results,
)
from ..defaults.tabular_validation import selection_data

DEFAULT_DETECTORS = ("ALAD", "EGBAD", "FAnoGAN", "FenceGAN", "GANomaly",
                     "SimultaneousEncoderGAN")


def configurations(name, members, one_by_one):
    """``{label: estimator}`` for one detector, one model first."""
    single = dict(all_detectors())[name](random_state=0, device="cpu", **AS_PREPARED)
    rows = {
        "one model": single,
        f"SeedEnsemble of {members}, stacked, 1 thread": SeedEnsemble(
            single, n_members=members, random_state=0),
        f"SeedEnsemble of {members}, stacked, all cores": SeedEnsemble(
            clone(single).set_params(n_jobs=-1), n_members=members, random_state=0),
        f"SeedEnsemble of {members}, one stack per core": SeedEnsemble(
            single, n_members=members, n_jobs=-1, random_state=0),
    }
    if one_by_one:
        rows[f"SeedEnsemble of {members}, one by one"] = SeedEnsemble(
            single, n_members=members, random_state=0, stacked=False)
    rows[f"GAN ensemble of {members}"] = clone(single).set_params(ensemble_size=members)
    return rows


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    names = [name for name, _ in all_detectors()]
    parser.add_argument("--detectors", nargs="+", default=list(DEFAULT_DETECTORS),
                        choices=names)
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--one-by-one", nargs="*", default=["FenceGAN"], choices=names,
                        help="detectors whose members are also fitted one by one")
    parser.add_argument("--output", default=default_output("ensemble_cost"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    X_train, X_valid, y_valid = selection_data(load_kdd99_data(KDD99_FILE))
    records = []
    for name in args.detectors:
        preprocessor = make_kdd99_preprocessor(scaler_of(name, "chosen")).fit(X_train)
        X_fit = preprocessor.transform(X_train).astype(np.float32)
        X_check = preprocessor.transform(X_valid).astype(np.float32)
        single_seconds = None
        for label, estimator in configurations(name, args.members,
                                               name in args.one_by_one).items():
            fitted, seconds, peak = with_extra_peak(estimator.fit, X_fit)
            single_seconds = single_seconds or seconds
            scores = -fitted.score_samples(X_check)
            records.append({"detector": name, "configuration": label,
                            "fit_seconds": seconds, "ratio": seconds / single_seconds,
                            "extra_peak_mb": peak,
                            "auroc": roc_auc_score(y_valid, scores),
                            "auprc": average_precision_score(y_valid, scores)})
            print(records[-1], flush=True)

    lines = [f"# What an ensemble of seeds costs and gains ({date.today()})", "",
             f"Command: `{command_line()}`",
             "", __doc__.split("\n\n")[1].replace("\n", " "), "",
             f"Training rows {len(X_train):,}; validation rows {len(X_valid):,} "
             f"({y_valid.mean():.1%} anomalies).", "",
             "| detector | configuration | fit s | × one model | extra peak MB | "
             "validation AUROC | validation AUPRC |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['detector']} | {r['configuration']} | {r['fit_seconds']:.1f} | "
              f"{r['ratio']:.2f} | {r['extra_peak_mb']:.0f} | {r['auroc']:.4f} | "
              f"{r['auprc']:.4f} |" for r in records]
    write_results(args.output, lines, runs=records)
    return 0
