"""Command line: ``python -m skgan_ad demo`` (or ``skgan-ad demo``).

The demo runs the KDD99 protocol of the ALAD/EGBAD papers on the bundled 20,000-row
sample (or on the full file with ``--data``): every detector of the package with its
default hyper-parameters (``--detectors`` picks some), next to scikit-learn's
IsolationForest, and prints precision, recall and F1 at the papers' top-20%
threshold, AUROC, AUPRC and times.
"""

import argparse
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score
from sklearn.pipeline import make_pipeline

from . import __version__, all_detectors
from .datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

#: The package's detectors, then the reference.
REFERENCE = "IsolationForest"
DETECTOR_NAMES = (*(name for name, _ in all_detectors()), REFERENCE)


def _detectors(args):
    common = dict(random_state=args.seed, verbose=int(not args.quiet),
                  standardize=not args.features_as_given)
    if args.epochs is not None:
        common["epochs"] = args.epochs
    if args.min_steps is not None:
        common["min_steps"] = args.min_steps
    detectors = {name: cls(**common) for name, cls in all_detectors()}
    detectors[REFERENCE] = IsolationForest(random_state=args.seed)
    return {name: detectors[name] for name in args.detectors}


def _evaluate(y_true, anomaly_scores):
    # The papers' rule: the top 20% of test scores are called anomalies.
    predicted = anomaly_scores >= np.percentile(anomaly_scores, 80)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, predicted, average="binary", zero_division=0.0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "auroc": roc_auc_score(y_true, anomaly_scores),
            "auprc": average_precision_score(y_true, anomaly_scores)}


def demo(args):
    data = load_kdd99(args.data, sample=args.data is None)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target, args.seed)
    print(f"skgan_ad {__version__} demo: KDD99 ({data.source}), paper protocol: "
          f"{len(X_train):,} normal training rows, {len(X_test):,} test rows, "
          f"{y_test.mean():.1%} anomalies; one torch thread per fit (n_jobs=None)")
    rows = []
    for name, detector in _detectors(args).items():
        pipeline = make_pipeline(make_kdd99_preprocessor(args.scaler), detector)
        print(f"\nfitting {name} ...", flush=True)
        start = time.perf_counter()
        pipeline.fit(X_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        anomaly_scores = -pipeline.decision_function(X_test)
        score_seconds = time.perf_counter() - start
        rows.append((name, _evaluate(y_test, anomaly_scores), fit_seconds, score_seconds))
    print(f"\n{'detector':<22} {'precision':>9} {'recall':>7} {'F1':>7} {'AUROC':>7} "
          f"{'AUPRC':>7} {'fit s':>7} {'score s':>8}")
    for name, m, fit_seconds, score_seconds in rows:
        print(f"{name:<22} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} "
              f"{m['auroc']:>7.4f} {m['auprc']:>7.4f} {fit_seconds:>7.1f} "
              f"{score_seconds:>8.2f}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="skgan-ad", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_demo = commands.add_parser("demo", help="KDD99 paper protocol, ours vs IsolationForest")
    run_demo.add_argument("--data", help="path of kddcup.data_10_percent[.gz]; "
                          "default: the bundled 20,000-row sample")
    run_demo.add_argument("--epochs", type=int, default=None,
                          help="training epochs of the GAN detectors (default: theirs)")
    run_demo.add_argument("--min-steps", type=int, default=None,
                          help="fewest training steps of the GAN detectors (default: the "
                               "estimators' own; 0: exactly --epochs passes)")
    run_demo.add_argument("--detectors", nargs="+", choices=DETECTOR_NAMES,
                          default=list(DETECTOR_NAMES), metavar="NAME",
                          help=f"detectors to run (default: all: {', '.join(DETECTOR_NAMES)})")
    run_demo.add_argument("--scaler", choices=["minmax", "standard", "log"],
                          default="standard",
                          help="feature scaling after one-hot encoding (default: "
                               "standard); the GAN detectors standardise it again unless "
                               "--features-as-given")
    run_demo.add_argument("--features-as-given", action="store_true",
                          help="fit the GAN detectors with standardize=False, on the "
                               "--scaler features as the official code would feed them")
    run_demo.add_argument("--seed", type=int, default=42, help="split and model seed")
    run_demo.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    return demo(args)


if __name__ == "__main__":
    sys.exit(main())
