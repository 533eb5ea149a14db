"""Choose a detector's tabular settings on KDD99 rows that no reported run tests on.

Some settings have no published tabular value: Fence GAN's KDD99 code was never
released (Fence_GAN issue #1), and Berg et al. work on images only. They are chosen
here the way the official Fence GAN code chooses its checkpoints, on a labelled
validation set. **The rule**: a choice reads only rows of the training half of every
seed of the KDD99 table (``common.selection_rows``: seeds 42 to 46, about 3% of the
rows), so no row it reads is a test row of any reported run:

* training rows: 80% of those rows of the protocol's normal class, drawn at random;
* validation rows: the other 20% of them, plus anomalies among those rows (which the
  protocol drops from training) drawn so that they make up 20% of the validation
  set, the test set's proportion.

Choices made before this rule read the training half of seed 42, about half of whose
rows are test rows of seeds 43 to 46 (the reports written then say so).

Each candidate trains for ``--epochs`` epochs with each model seed of ``--seeds``
and is scored on the validation rows after every epoch; the (candidate, epochs) with
the best validation AUPRC (anomaly = positive), averaged over the seeds, wins.
Features are scaled (``--scalers``; standardised by default, as in the KDD99 suite)
with statistics of the training rows; a detector with several anomaly scores
(``SCORE_TYPES``) is validated with each of them from the same training run. The candidates (``CANDIDATES``):

* ALAD and EGBAD: the official KDD99 settings (the estimators' defaults), compared
  across scalings and scores.
* GANomaly: the estimator's defaults, compared across scalings.

* FenceGAN: the settings the official code publishes, (alpha, beta, gamma) of its
  ``main.py`` defaults, of the MNIST and CIFAR-10 README commands and of its 2-D
  experiment, each with the MNIST and the CIFAR-10 learning rates.
* SimultaneousEncoderGAN: the tabular network sizes (the official losses, optimiser
  and learning rate are kept).

    python -m benchmarks tabular_validation SimultaneousEncoderGAN   # ~60 min, one core
    python -m benchmarks tabular_validation ALAD --epochs 15 \\
        --scalers none minmax standard log                            # ~70 min
    python -m benchmarks tabular_validation FenceGAN --epochs 12 --seeds 0 1 2 \\
        --scalers standard log --candidates "(0.5, 15.0, 0.1), lr MNIST" \\
        "CIFAR-10 (0.5, 10.0, 0.5), lr CIFAR-10"                      # ~40 min

Runs split across processes (one per seed or scaling, to use several cores) are
joined into one report with ``--merge``:

    python -m benchmarks tabular_validation ALAD --merge a.json b.json --output OUT
"""

import json
import shlex
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import (
    average_precision_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from skorch.callbacks import Callback

from skgan_ad import all_detectors
from skgan_ad.datasets import load_kdd99, make_kdd99_preprocessor

from .._runner import command_line
from ..common import (
    AS_PREPARED,
    KDD99_FILE,
    add_set_argument,
    default_output,
    parsed_settings,
    script_parser,
    selection_rows,
)


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
    "ALAD": {"defaults": {}},
    "EGBAD": {"defaults": {}},
    "GANomaly": {"defaults": {}},
    "FenceGAN": _fence_gan_candidates(),
    "SimultaneousEncoderGAN": {
        "latent 32, G (64, 128), D and E (128,)": {},
        "latent 64, G (128, 256), D and E (256, 128)": {
            "latent_dim": 64, "generator_hidden": (128, 256),
            "discriminator_hidden": (256, 128)},
    },
}


#: Anomaly scores a detector offers; one training run is validated with each.
SCORE_TYPES = {"ALAD": ("fm", "l1", "l2", "logits"), "EGBAD": ("cross-e", "fm")}


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


def selection_data(data, train_rows=None):
    """Training and labelled validation rows, none of them in an evaluated test half.

    ``common.selection_rows``: rows of the training half of every seed of the KDD99
    table, split by :func:`validation_split`; ``train_rows`` keeps a random subset of
    the training rows.
    """
    X_normal, X_anomalous = selection_rows(data.data, data.target)
    X_train, X_valid, y_valid = validation_split(X_normal, X_anomalous)
    if train_rows is not None:
        X_train = X_train.sample(n=train_rows, random_state=0)
    return X_train, X_valid, y_valid


#: Validation metrics recorded after every epoch.
METRICS = ("auprc", "auroc", "precision", "recall", "f1")


class ValidationScores(Callback):
    """Scores the validation rows after every epoch with each of the detector's scores.

    ``epochs`` maps each score type (``None`` for a detector with one score) to the
    list of per-epoch metrics.
    """

    def __init__(self, detector, X_valid, y_valid, score_types=(None,)):
        self.detector = detector
        self.X_valid = X_valid
        self.y_valid = y_valid
        self.score_types = score_types

    def initialize(self):
        self.epochs = {score_type: [] for score_type in self.score_types}
        return self

    def on_epoch_end(self, net, **kwargs):
        chosen = getattr(self.detector, "score_type", None)
        for score_type in self.score_types:
            if score_type is not None:
                self.detector.score_type = score_type
            # The fitted estimator's score_samples is not available mid-fit; its score
            # function (standardising first under standardize=True) on the net being
            # trained is the same computation.
            scores = net.score_in_batches(self.X_valid, self.detector._score_fn(), 4096)
            predicted = scores >= np.percentile(scores, 80)
            precision, recall, f1, _ = precision_recall_fscore_support(
                self.y_valid, predicted, average="binary", zero_division=0.0)
            self.epochs[score_type].append({
                "epoch": len(net.history),
                "auprc": average_precision_score(self.y_valid, scores),
                "auroc": roc_auc_score(self.y_valid, scores), "precision": precision,
                "recall": recall, "f1": f1})
            print(f"    epoch {len(net.history)} score {score_type}: AUPRC "
                  f"{self.epochs[score_type][-1]['auprc']:.4f}", flush=True)
        if chosen is not None:
            self.detector.score_type = chosen


def per_epoch_means(run):
    """Validation metrics per epoch, averaged over the run's model seeds."""
    return [{"epoch": epochs[0]["epoch"],
             **{key: float(np.mean([e[key] for e in epochs])) for key in METRICS},
             "auprc_std": float(np.std([e["auprc"] for e in epochs])),
             "auprc_min": float(np.min([e["auprc"] for e in epochs]))}
            for epochs in zip(*run["per_seed"].values())]


def best_epoch(run):
    return max(per_epoch_means(run), key=lambda e: (e["auprc"], -e["epoch"]))


def merged_runs(paths):
    """The runs of earlier outputs, one per (candidate, scaling, score), seeds pooled.

    Returns the runs and the commands that produced them (each output keeps the
    arguments it was run with).
    """
    merged, commands = {}, []
    for path in paths:
        saved = json.loads(Path(path).read_text())
        commands.append(shlex.join(["python", "-m", "benchmarks", "tabular_validation",
                                    *saved["argv"]]))
        for run in saved["runs"]:
            key = (run["candidate"], run["scaler"], run["score_type"])
            if key not in merged:
                merged[key] = {**run, "fit_seconds": [], "per_seed": {}}
            clash = set(merged[key]["per_seed"]) & set(run["per_seed"])
            if clash:
                raise ValueError(f"{path}: seed(s) {sorted(clash)} of {run['candidate']!r} "
                                 "are already in an earlier file")
            merged[key]["fit_seconds"] += run["fit_seconds"]
            merged[key]["per_seed"].update(run["per_seed"])
    return list(merged.values()), commands


def write_report(detector, runs, commands, argv, seeds, scalers, n_train, n_valid,
                 anomaly_share, output, params=None):
    """Write OUTPUT.json and OUTPUT.md: the best epoch of each run, and every epoch."""
    winner = max(runs, key=lambda run: best_epoch(run)["auprc"])
    seeds = ", ".join(map(str, seeds))
    lines = [
        (f"# {detector}: tabular settings chosen on KDD99 rows no reported run tests on "
         f"({date.today()})"),
        "",
        "Command" + ("s" if len(commands) > 1 else "") + ": "
        + "; ".join(f"`{command}`" for command in commands),
        "",
        (f"Training rows {n_train:,}; validation rows {n_valid:,} "
         f"({anomaly_share:.1%} anomalies), all from the training halves of every "
         f"seed of the KDD99 table (no row of an evaluated test half). Features: 121 one-hot, scaled "
         f"({', '.join(scalers)}) with statistics of the training rows. Other "
         "settings: the estimator's defaults"
         + "".join(f", {name}={value!r}" for name, value in (params or {}).items())
         + f"; model seeds {seeds}. Validation metrics after each epoch, "
         "averaged over the model seeds; the epoch with the best mean AUPRC is shown, "
         "with the spread and the worst seed there, and the last epoch's mean AUPRC."),
        "",
        ("| candidate | best epoch | AUPRC mean | ± std | worst seed | AUROC | F1@20% | "
         "AUPRC at last epoch | fit s |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        best, last = best_epoch(run), per_epoch_means(run)[-1]
        lines.append(
            f"| {run['candidate']} | {best['epoch']} | {best['auprc']:.4f} | "
            f"{best['auprc_std']:.4f} | {best['auprc_min']:.4f} | {best['auroc']:.4f} | "
            f"{best['f1']:.4f} | {last['auprc']:.4f} | {np.mean(run['fit_seconds']):.0f} |")
    n_epochs = max(len(per_epoch_means(run)) for run in runs)
    lines += ["", "Mean validation AUPRC after each epoch:", "",
              "| candidate | " + " | ".join(map(str, range(1, n_epochs + 1))) + " |",
              "|---|" + "---|" * n_epochs]
    for run in runs:
        cells = [f"{epoch['auprc']:.2f}" for epoch in per_epoch_means(run)]
        lines.append(f"| {run['candidate']} | " + " | ".join(
            cells + ["–"] * (n_epochs - len(cells))) + " |")
    lines += ["", f"Chosen: {winner['candidate']}, {best_epoch(winner)['epoch']} epochs."]
    output.with_suffix(".json").write_text(json.dumps(
        {"date": str(date.today()), "argv": argv, "runs": runs}, indent=2))
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def validate_candidates(args, X_train, X_valid, y_valid):
    """Train each candidate with each seed and scaling; validation metrics per epoch."""
    candidates = {description: params
                  for description, params in CANDIDATES[args.detector].items()
                  if args.candidates is None
                  or any(text in description for text in args.candidates)}
    score_types = SCORE_TYPES.get(args.detector, (None,))
    runs = []
    for scaler in args.scalers:
        preprocessor = make_kdd99_preprocessor(
            None if scaler == "none" else scaler).fit(X_train)
        X_train_scaled = preprocessor.transform(X_train).astype(np.float32)
        X_valid_scaled = preprocessor.transform(X_valid).astype(np.float32)
        for description, params in candidates.items():
            new_runs = {score_type: {
                "candidate": ", ".join(
                    [description] + (["scaler " + scaler] if len(args.scalers) > 1 else [])
                    + ([f"score {score_type}"] if score_type else [])),
                "params": {k: str(v) for k, v in params.items()}, "scaler": scaler,
                "score_type": score_type, "fit_seconds": [], "per_seed": {}}
                for score_type in score_types}
            for seed in args.seeds:
                detector = dict(all_detectors())[args.detector](**{
                    **AS_PREPARED, **params, **args.params, "epochs": args.epochs,
                    "random_state": seed, "device": "cpu"})
                monitor = ValidationScores(detector, X_valid_scaled, y_valid, score_types)
                start = time.perf_counter()
                detector.set_params(callbacks=[monitor]).fit(X_train_scaled)
                for score_type, run in new_runs.items():
                    run["fit_seconds"].append(time.perf_counter() - start)
                    run["per_seed"][seed] = monitor.epochs[score_type]
            for run in new_runs.values():
                runs.append(run)
                best = best_epoch(run)
                print(f"  {run['candidate']}: best mean AUPRC {best['auprc']:.4f} (AUROC "
                      f"{best['auroc']:.4f}, F1 {best['f1']:.4f}) at epoch "
                      f"{best['epoch']}", flush=True)
    return runs


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("detector", choices=sorted(CANDIDATES))
    parser.add_argument("--data", default=str(KDD99_FILE))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="model seeds; candidates are compared on the mean")
    parser.add_argument("--candidates", nargs="+", default=None, metavar="TEXT",
                        help="only the candidates whose description contains TEXT")
    parser.add_argument("--train-rows", type=int, default=None,
                        help="train on a random subset of this many training rows")
    parser.add_argument("--scalers", nargs="+", default=["standard"],
                        choices=["none", "log", "minmax", "standard"],
                        help="feature scalings to compare (fitted on the training rows)")
    add_set_argument(parser)
    parser.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                        help="train nothing: merge the runs of these earlier outputs (the "
                             "same candidate and scaling run by several processes, e.g. "
                             "one per seed) into one report")
    parser.add_argument("--output", default=None,
                        help="writes OUTPUT.json and OUTPUT.md (default: "
                             "benchmarks/results/<detector>_validation)")
    args = parser.parse_args(argv)
    args.params = parsed_settings(parser, args.set)
    torch.set_num_threads(1)

    X_train, X_valid, y_valid = selection_data(load_kdd99(args.data), args.train_rows)
    print(f"train {len(X_train):,} rows, validation {len(X_valid):,} rows "
          f"({y_valid.mean():.1%} anomalies)", flush=True)

    if args.merge:
        runs, commands = merged_runs(args.merge)
        seeds = sorted({int(seed) for run in runs for seed in run["per_seed"]})
        scalers = sorted({run["scaler"] for run in runs})
    else:
        runs = validate_candidates(args, X_train, X_valid, y_valid)
        commands = [command_line()]
        seeds, scalers = args.seeds, args.scalers
    write_report(args.detector, runs, commands, argv, seeds, scalers, len(X_train),
                 len(X_valid), y_valid.mean(), Path(args.output or default_output(
                     f"{args.detector.lower()}_validation")), args.params)
    return 0
