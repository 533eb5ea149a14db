"""``decision_function`` and ``predict`` from ``score_samples`` and ``offset_``."""

import numpy as np
from sklearn.base import OutlierMixin

__all__ = ["OffsetOutlierMixin"]


class OffsetOutlierMixin(OutlierMixin):
    """An outlier detector's ``decision_function`` and ``predict``, as
    :class:`~sklearn.ensemble.IsolationForest` derives them from ``score_samples``
    and ``offset_``."""

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,) of int
        """
        decision = self.decision_function(X)
        labels = np.ones(decision.shape[0], dtype=int)
        labels[decision < 0] = -1
        return labels
