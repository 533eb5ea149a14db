"""Labelled scorers agree with scikit-learn's metrics on the anomaly score."""

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from skgan_ad.metrics import ANOMALY_SCORERS


def test_scorers_read_y_equal_1_as_anomaly():
    rng = np.random.RandomState(0)
    anomalies = rng.normal(size=(20, 3)) + rng.choice([-8, 8], (20, 3))
    X = np.vstack([rng.normal(size=(200, 3)), anomalies])
    y = np.r_[np.zeros(200, int), np.ones(20, int)]
    detector = IsolationForest(random_state=0, contamination=20 / 220).fit(X)
    anomaly_score = -detector.decision_function(X)
    assert ANOMALY_SCORERS["roc_auc"](detector, X, y) == roc_auc_score(y, anomaly_score)
    assert ANOMALY_SCORERS["roc_auc"](detector, X, y) > 0.99
    assert ANOMALY_SCORERS["average_precision"](detector, X, y) == \
        average_precision_score(y, anomaly_score)
    assert ANOMALY_SCORERS["f1"](detector, X, y) == \
        f1_score(y, detector.predict(X) == -1)
    assert ANOMALY_SCORERS["f1"](detector, X, y) > 0.9
