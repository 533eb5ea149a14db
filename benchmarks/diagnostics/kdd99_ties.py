"""Which test rows share the score at the KDD99 threshold of a saved detector.

The papers flag every test row whose score is at or above the 80th percentile of the
test scores. When many identical rows share that score, all of them are flagged and
more than 20% of the rows are called anomalies. This script scores the test half of
one seed's paper split with a model saved by ``kdd99 --save-models`` and reports
the tied rows: how many, how many distinct, their original KDD99 labels, and the
precision, recall and F1 with and without them flagged (the latter for diagnosis only;
the benchmark keeps the papers' rule)::

    python -m benchmarks kdd99 --detectors EGBAD --seeds 42 --scaler none --epochs 34 \\
        --save-models models
    python -m benchmarks kdd99_ties models/EGBAD_seed42.safetensors --seed 42 --scaler none
"""

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

import skgan_ad
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

from ..common import KDD99_FILE, scaler_of, script_parser


def main(argv=None):
    parser = script_parser(__name__, __doc__)
    parser.add_argument("model", help="a detector saved by kdd99 --save-models")
    parser.add_argument("--seed", type=int, default=42, help="the split's seed")
    parser.add_argument("--scaler", default="standard",
                        choices=["none", "log", "minmax", "standard"],
                        help="the feature scaling the model was trained with")
    parser.add_argument("--data", default=str(KDD99_FILE))
    args = parser.parse_args(argv)

    data = load_kdd99(args.data)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target,
                                                random_state=args.seed)
    labels = pd.Series(np.asarray(data.labels), index=data.data.index)[X_test.index]
    features = make_kdd99_preprocessor(scaler_of(None, args.scaler))
    X_test = features.fit(X_train).transform(X_test).astype(np.float32)
    anomaly_scores = -skgan_ad.load(args.model).score_samples(X_test)
    threshold = np.percentile(anomaly_scores, 80)
    tied = anomaly_scores == threshold
    print(f"test rows {len(X_test):,}, anomalies {y_test.mean():.2%}; rows tied at the "
          f"threshold {tied.sum():,} ({len(np.unique(X_test[tied], axis=0))} distinct), "
          f"labels {labels[tied].value_counts().to_dict()}")
    for rule, flagged in (("score >= threshold (papers)", anomaly_scores >= threshold),
                          ("score > threshold (diagnosis)", anomaly_scores > threshold)):
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_test, flagged, average="binary", zero_division=0.0)
        print(f"{rule:<30} flagged {flagged.mean():.2%}  precision {precision:.4f}  "
              f"recall {recall:.4f}  F1 {f1:.4f}")
    return 0
