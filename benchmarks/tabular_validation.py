"""Choose a detector's tabular settings on the training half of KDD99 only.

Some settings have no published tabular value: Fence GAN's KDD99 code was never
released (Fence_GAN issue #1), and Berg et al. work on images only. They are chosen
here the way the official Fence GAN code chooses its checkpoints, on a labelled
validation set, built from the training half of the paper split (seed 42) and never
from its test half:

* training rows: 80% of the training half's normal rows (``kdd99_paper_split``'s
  training rows), drawn at random;
* validation rows: the other 20% of those normal rows, plus the training half's
  anomalies (which the protocol drops) drawn so that they make up 20% of the
  validation set, the test set's proportion.

Each candidate trains for ``--epochs`` epochs and is scored on the validation rows
after every epoch; the (candidate, epochs) with the best validation AUPRC (anomaly =
positive) wins. Features are standardised with statistics of the training rows, as
in ``kdd99.py``. The candidates (``CANDIDATES``):

* FenceGAN: the settings the official code publishes, (alpha, beta, gamma) of its
  ``main.py`` defaults, of the MNIST and CIFAR-10 README commands and of its 2-D
  experiment, each with the MNIST and the CIFAR-10 learning rates.
* SimultaneousEncoderGAN: the tabular network sizes (the official losses, optimiser
  and learning rate are kept).

    python benchmarks/tabular_validation.py FenceGAN                 # ~40 min, one core
    python benchmarks/tabular_validation.py SimultaneousEncoderGAN   # ~60 min
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
import torch
from kdd99_training_half import training_half
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from skorch.callbacks import Callback

import skgan_ad
from skgan_ad.datasets import load_kdd99, make_kdd99_preprocessor

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "kdd99" / "kddcup.data_10_percent.gz"
RESULTS = ROOT / "benchmarks" / "results"


def _fence_gan_candidates():
    losses = {"main.py defaults": (0.5, 30.0, 0.1), "MNIST": (0.1, 30.0, 0.1),
              "CIFAR-10": (0.5, 10.0, 0.5), "2-D experiment": (0.5, 15.0, 0.1)}
    learning_rates = {"MNIST": (1e-5, 2e-5), "CIFAR-10": (1e-4, 1e-3)}
    return {
        f"losses {loss_name} {(alpha, beta, gamma)}, lr {lr_name} ({d_lr:g} / {g_lr:g})":
        {"alpha": alpha, "beta": beta, "gamma": gamma, "lr": d_lr, "generator_lr": g_lr}
        for loss_name, (alpha, beta, gamma) in losses.items()
        for lr_name, (d_lr, g_lr) in learning_rates.items()}


#: Candidate settings per detector, by description.
CANDIDATES = {
    "FenceGAN": _fence_gan_candidates(),
    "SimultaneousEncoderGAN": {
        "latent 32, G (64, 128), D and E (128,)": {},
        "latent 64, G (128, 256), D and E (256, 128)": {
            "latent_dim": 64, "generator_hidden": (128, 256),
            "discriminator_hidden": (256, 128)},
    },
}


def validation_split(X_normal, X_anomalous, seed=0):
    """80% of the normal rows to train on; the rest plus 20% anomalies to validate."""
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(X_normal))
    n_valid = len(X_normal) // 5
    valid_normal = X_normal.iloc[order[:n_valid]]
    anomalies = X_anomalous.iloc[rng.choice(len(X_anomalous), n_valid // 4, replace=False)]
    X_valid = pd.concat([valid_normal, anomalies])
    y_valid = np.r_[np.zeros(len(valid_normal), int), np.ones(len(anomalies), int)]
    return X_normal.iloc[order[n_valid:]], X_valid, y_valid


class ValidationScores(Callback):
    """Scores the validation rows after every epoch with the detector's own score."""

    def __init__(self, detector, X_valid, y_valid):
        self.detector = detector
        self.X_valid = X_valid
        self.y_valid = y_valid

    def initialize(self):
        self.epochs = []
        return self

    def on_epoch_end(self, net, **kwargs):
        # The fitted estimator's score_samples is not available mid-fit; its anomaly
        # score function on the net being trained is the same computation.
        scores = net.score_in_batches(self.X_valid, self.detector._anomaly_score, 4096)
        predicted = scores >= np.percentile(scores, 80)
        precision, recall, f1, _ = precision_recall_fscore_support(
            self.y_valid, predicted, average="binary", zero_division=0.0)
        self.epochs.append({
            "epoch": len(net.history),
            "auprc": average_precision_score(self.y_valid, scores),
            "auroc": roc_auc_score(self.y_valid, scores), "precision": precision,
            "recall": recall, "f1": f1})


def best_epoch(run):
    return max(run["per_epoch"], key=lambda e: (e["auprc"], -e["epoch"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("detector", choices=sorted(CANDIDATES))
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", default=None,
                        help="writes OUTPUT.json and OUTPUT.md (default: "
                             "benchmarks/results/<detector>_validation)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    data = load_kdd99(args.data)
    X_normal, X_anomalous, _, _ = training_half(data.data, data.target, random_state=42)
    X_train, X_valid, y_valid = validation_split(X_normal, X_anomalous)
    preprocessor = make_kdd99_preprocessor("standard").fit(X_train)
    X_train = preprocessor.transform(X_train).astype(np.float32)
    X_valid = preprocessor.transform(X_valid).astype(np.float32)
    print(f"train {len(X_train):,} rows, validation {len(X_valid):,} rows "
          f"({y_valid.mean():.1%} anomalies)", flush=True)

    runs = []
    for description, params in CANDIDATES[args.detector].items():
        detector = getattr(skgan_ad, args.detector)(
            **params, epochs=args.epochs, random_state=0, device="cpu")
        monitor = ValidationScores(detector, X_valid, y_valid)
        start = time.perf_counter()
        detector.set_params(callbacks=[monitor]).fit(X_train)
        runs.append({"candidate": description, "params": {k: str(v) for k, v in
                                                          params.items()},
                     "fit_seconds": time.perf_counter() - start,
                     "per_epoch": monitor.epochs})
        best = best_epoch(runs[-1])
        print(f"  {description}: best AUPRC {best['auprc']:.4f} (AUROC "
              f"{best['auroc']:.4f}, F1 {best['f1']:.4f}) at epoch {best['epoch']}",
              flush=True)

    winner = max(runs, key=lambda run: best_epoch(run)["auprc"])
    command = f"python benchmarks/tabular_validation.py {shlex.join(sys.argv[1:])}"
    lines = [
        (f"# {args.detector}: tabular settings chosen on the training half of KDD99 "
         f"({date.today()})"),
        "",
        f"Command: `{command}`",
        "",
        (f"Training rows {len(X_train):,}; validation rows {len(X_valid):,} "
         f"({y_valid.mean():.1%} anomalies), all from the training half of the seed-42 "
         "paper split (the test half is never read). Other settings: the estimator's "
         "defaults; model seed 0. Validation metrics after each epoch; the best epoch "
         "by AUPRC is shown, and the last epoch's AUPRC beside it."),
        "",
        "| candidate | best epoch | AUPRC | AUROC | F1@20% | AUPRC at last epoch | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        best, last = best_epoch(run), run["per_epoch"][-1]
        lines.append(
            f"| {run['candidate']} | {best['epoch']} | {best['auprc']:.4f} | "
            f"{best['auroc']:.4f} | {best['f1']:.4f} | {last['auprc']:.4f} | "
            f"{run['fit_seconds']:.0f} |")
    lines += ["", f"Chosen: {winner['candidate']}, {best_epoch(winner)['epoch']} epochs."]
    output = Path(args.output or RESULTS / f"{args.detector.lower()}_validation")
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "argv": sys.argv[1:], "runs": runs}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
