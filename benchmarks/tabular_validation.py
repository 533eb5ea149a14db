"""Choose FenceGAN's tabular defaults on the training half of KDD99 only.

Fence GAN's KDD99 code was never released (Fence_GAN issue #1), so its tabular
hyper-parameters are chosen here the way the official code chooses its checkpoints:
on a labelled validation set. That set is built from the training half of the paper
split (seed 42), never from its test half:

* training rows: 80% of the training half's normal rows (``kdd99_paper_split``'s
  training rows), drawn at random;
* validation rows: the other 20% of those normal rows, plus the training half's
  anomalies (which the protocol drops) drawn so that they make up 20% of the
  validation set, the test set's proportion.

The candidates are the settings the official code publishes: (alpha, beta, gamma)
of its ``main.py`` defaults, of the MNIST and CIFAR-10 README commands and of the
2-D experiment, each with the MNIST and the CIFAR-10 learning rates. Each candidate
trains for ``--epochs`` epochs (the first of them pretraining D) and is scored on the
validation rows after every epoch; the (candidate, epochs) with the best validation
AUPRC (anomaly = positive) wins. Features are standardised with statistics of the
training rows, as in ``kdd99.py``.

    python benchmarks/fencegan_validation.py            # about 40 minutes on one core
"""

import argparse
import json
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

from skgan_ad import FenceGAN
from skgan_ad.datasets import load_kdd99, make_kdd99_preprocessor

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "kdd99" / "kddcup.data_10_percent.gz"
RESULTS = ROOT / "benchmarks" / "results"

#: (alpha, beta, gamma) published with the official code.
LOSS_SETTINGS = {
    "main.py defaults": (0.5, 30.0, 0.1),
    "MNIST": (0.1, 30.0, 0.1),
    "CIFAR-10": (0.5, 10.0, 0.5),
    "2-D experiment": (0.5, 15.0, 0.1),
}
#: (discriminator lr, generator lr) of the official README commands.
LEARNING_RATES = {"MNIST": (1e-5, 2e-5), "CIFAR-10": (1e-4, 1e-3)}


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
        scores = net.score_in_batches(self.X_valid, self.detector._anomaly_score, 4096)
        predicted = scores >= np.percentile(scores, 80)
        precision, recall, f1, _ = precision_recall_fscore_support(
            self.y_valid, predicted, average="binary", zero_division=0.0)
        self.epochs.append({
            "epoch": len(net.history), "auprc": average_precision_score(self.y_valid, scores),
            "auroc": roc_auc_score(self.y_valid, scores), "precision": precision,
            "recall": recall, "f1": f1})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--output", default=str(RESULTS / "fencegan_validation"))
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
    for loss_name, (alpha, beta, gamma) in LOSS_SETTINGS.items():
        for lr_name, (d_lr, g_lr) in LEARNING_RATES.items():
            detector = FenceGAN(alpha=alpha, beta=beta, gamma=gamma, lr=d_lr,
                                generator_lr=g_lr, epochs=args.epochs, random_state=0,
                                device="cpu")
            monitor = ValidationScores(detector, X_valid, y_valid)
            start = time.perf_counter()
            detector.set_params(callbacks=[monitor]).fit(X_train)
            best = max(monitor.epochs, key=lambda e: e["auprc"])
            runs.append({"losses": loss_name, "alpha": alpha, "beta": beta,
                         "gamma": gamma, "learning_rates": lr_name, "lr": d_lr,
                         "generator_lr": g_lr, "fit_seconds": time.perf_counter() - start,
                         "per_epoch": monitor.epochs})
            print(f"  {loss_name:<17} lr {lr_name:<8}: best AUPRC {best['auprc']:.4f} "
                  f"(AUROC {best['auroc']:.4f}, F1 {best['f1']:.4f}) at epoch "
                  f"{best['epoch']}", flush=True)

    def best_epoch(run):
        return max(run["per_epoch"], key=lambda e: (e["auprc"], -e["epoch"]))

    winner = max(runs, key=lambda run: best_epoch(run)["auprc"])
    lines = [
        f"# FenceGAN tabular defaults, chosen on the training half of KDD99 ({date.today()})",
        "",
        f"Command: `python benchmarks/fencegan_validation.py {' '.join(sys.argv[1:])}`",
        "",
        (f"Training rows {len(X_train):,}; validation rows {len(X_valid):,} "
         f"({y_valid.mean():.1%} anomalies), all from the training half of the seed-42 "
         "paper split. Batch 200, latent 32, one pretraining epoch, model seed 0. "
         "Validation metrics after each epoch; the best epoch by AUPRC is shown."),
        "",
        ("| (alpha, beta, gamma) | lr D / G | best epoch | AUPRC | AUROC | F1@20% | "
         "AUPRC at last epoch | fit s |"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        best, last = best_epoch(run), run["per_epoch"][-1]
        lines.append(
            f"| {run['losses']} ({run['alpha']}, {run['beta']}, {run['gamma']}) | "
            f"{run['learning_rates']} ({run['lr']:g} / {run['generator_lr']:g}) | "
            f"{best['epoch']} | {best['auprc']:.4f} | {best['auroc']:.4f} | "
            f"{best['f1']:.4f} | {last['auprc']:.4f} | {run['fit_seconds']:.0f} |")
    lines += ["", (f"Chosen: {winner['losses']} losses with {winner['learning_rates']} "
                   f"learning rates, {best_epoch(winner)['epoch']} epochs.")]
    output = Path(args.output)
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "argv": sys.argv[1:], "runs": runs}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
