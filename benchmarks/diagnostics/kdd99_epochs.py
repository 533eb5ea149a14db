"""Diagnostic: test metrics of one detector after each epoch, KDD99 paper protocol.

This looks at test labels during training, so it is for understanding training
dynamics (stability, speed of convergence) only; no default or choice in the package
is taken from it. ``--seed`` seeds both the split and the model (42: the papers' split).

    python -m benchmarks kdd99_epochs ALAD --scaler standard --epochs 12
    python -m benchmarks kdd99_epochs EGBAD --scaler none --epochs 40
"""

import time

import numpy as np
import torch
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score
from skorch.callbacks import Callback

from skgan_ad import all_detectors
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

from ..common import AS_PREPARED, KDD99_FILE, scaler_of, script_parser


class TestMetrics(Callback):
    """Print precision, recall, F1 (top-20% rule) and AUROC on the test rows."""

    def __init__(self, detector, X_test, y_test, every):
        self.detector, self.X_test, self.y_test, self.every = detector, X_test, y_test, every

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch % self.every and epoch != net.max_epochs:
            return
        scores = net.score_in_batches(self.X_test, self.detector._anomaly_score, 8192)
        predicted = scores >= np.percentile(scores, 80)
        precision, recall, f1, _ = precision_recall_fscore_support(
            self.y_test, predicted, average="binary", zero_division=0.0)
        print(f"epoch {epoch:3d}  {time.perf_counter() - self.start_:6.0f}s  "
              f"d_loss {net.history[-1, 'd_loss']:8.3f}  g_loss {net.history[-1, 'g_loss']:8.3f}"
              f"  P {precision:.4f}  R {recall:.4f}  F1 {f1:.4f}  "
              f"AUROC {roc_auc_score(self.y_test, scores):.4f}", flush=True)


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("detector", choices=["ALAD", "EGBAD"])
    parser.add_argument("--scaler", default="standard", choices=["none", "minmax", "standard"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=None, help="default: the estimator's")
    parser.add_argument("--every", type=int, default=1, help="evaluate every N epochs")
    parser.add_argument("--seed", type=int, default=42, help="split and model seed")
    parser.add_argument("--data", default=str(KDD99_FILE))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    data = load_kdd99(args.data)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target, args.seed)
    preprocessor = make_kdd99_preprocessor(scaler_of(args.detector, args.scaler))
    X_train = preprocessor.fit_transform(X_train).astype(np.float32)
    X_test = preprocessor.transform(X_test).astype(np.float32)
    params = {"epochs": args.epochs, "random_state": args.seed, "device": "cpu",
              **AS_PREPARED}
    if args.lr is not None:
        params["lr"] = args.lr
    detector = dict(all_detectors())[args.detector](**params)
    detector.set_params(callbacks=[TestMetrics(detector, X_test, y_test, args.every)])
    print(f"{args.detector} {params}, scaler {args.scaler}", flush=True)
    detector.fit(X_train)
    return 0
