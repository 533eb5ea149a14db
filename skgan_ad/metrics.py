"""Scorers for model selection with labels where ``y == 1`` marks anomalies.

scikit-learn's ``"roc_auc"`` scorer reads ``decision_function`` as "higher = positive
class", which for an outlier detector is the inlier. Users whose labels mark anomalies
with 1 (the PyOD and ADBench convention) pass these scorers instead::

    GridSearchCV(pipe, grid, scoring=skgan_ad.metrics.ANOMALY_SCORERS,
                 refit="roc_auc", cv=StratifiedKFold(shuffle=True))

Every scorer works with any fitted estimator (or Pipeline) that has
``decision_function`` and ``predict`` in the scikit-learn outlier convention.
"""

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

__all__ = ["anomaly_roc_auc", "anomaly_average_precision", "anomaly_f1",
           "ANOMALY_SCORERS"]


def _anomaly_scores(estimator, X):
    return -np.asarray(estimator.decision_function(X))


def anomaly_roc_auc(estimator, X, y):
    """Area under the ROC curve of the anomaly score, with ``y == 1`` for anomalies."""
    return roc_auc_score(y, _anomaly_scores(estimator, X))


def anomaly_average_precision(estimator, X, y):
    """Average precision (area under the PR curve) of the anomalies (``y == 1``)."""
    return average_precision_score(y, _anomaly_scores(estimator, X))


def anomaly_f1(estimator, X, y):
    """F1 of the anomaly class at the estimator's threshold (``predict == -1``).

    The threshold is ``offset_``, the ``contamination`` quantile of the training
    scores.
    """
    return f1_score(y, (np.asarray(estimator.predict(X)) == -1).astype(int),
                    zero_division=0.0)


#: All three scorers by name, for ``GridSearchCV(scoring=...)``.
ANOMALY_SCORERS = {
    "roc_auc": anomaly_roc_auc,
    "average_precision": anomaly_average_precision,
    "f1": anomaly_f1,
}
