"""Several fits of one detector, seeds apart, their normalised scores averaged."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._outlier import OffsetOutlierMixin
from .base import BaseGANDetector

__all__ = ["SeedEnsemble"]

#: Points of each member's training-score quantile function kept for normalising.
N_QUANTILES = 1001
#: Training rows scored to learn each member's score distribution, at most: scoring is
#: cheap for most detectors, but AnoGAN's runs a latent search per row.
MAX_NORMALISATION_ROWS = 10_000


def _with_seed(estimator, seed):
    """``estimator`` with every ``random_state`` parameter, nested ones included, set to
    ``seed``: the member's own and those of a Pipeline's steps."""
    seeded = {name: seed for name in estimator.get_params(deep=True)
              if name == "random_state" or name.endswith("__random_state")}
    return estimator.set_params(**seeded)


def _quantiles(member, X_normalisation):
    scores = member.score_samples(X_normalisation)
    return np.quantile(scores, np.linspace(0, 1, N_QUANTILES))


def _fit_member(estimator, X, seed, X_normalisation):
    member = _with_seed(clone(estimator), seed).fit(X)
    return member, _quantiles(member, X_normalisation)


def _normalised(scores, quantiles):
    """``scores`` as positions in the member's training-score distribution.

    Inside the training range, the fraction of training rows scoring lower (0 to 1, a
    rank), so that members on different scales weigh alike; outside it, continued
    linearly at the same mean slope, so that rows beyond every training row keep their
    order instead of tying at 0.
    """
    low, high = quantiles[0], quantiles[-1]
    spread = high - low if high > low else 1.0
    positions = np.interp(scores, quantiles, np.linspace(0, 1, len(quantiles)))
    positions = np.where(scores < low, (scores - low) / spread, positions)
    positions = np.where(scores > high, 1 + (scores - high) / spread, positions)
    # A score of extreme magnitude (skgan_ad's lowest score) stays finite.
    limit = np.finfo(np.float64).max / 2
    return np.clip(positions, -limit, limit)


class SeedEnsemble(MetaEstimatorMixin, OffsetOutlierMixin, BaseEstimator):
    """Several fits of one detector with different seeds, their scores averaged.

    A GAN's training depends on its seed: one fit may rank a table well and the next
    poorly. Averaging members smooths that out, as ensembles of GAN detectors do
    (Han, Chen and Liu, "GAN Ensemble for Anomaly Detection", AAAI 2021). Each member
    is a clone of ``estimator`` with every ``random_state`` parameter (nested ones of a
    Pipeline included) set to its own seed. A member's ``score_samples`` are first
    mapped to positions in that member's distribution of training scores (a rank from
    0 to 1 inside the training range, continued linearly beyond it), so that members
    on different scales weigh alike; the ensemble's score is their mean.

    Works with any outlier detector that has ``score_samples`` (ours, a Pipeline
    ending in one, or scikit-learn's, such as IsolationForest).

    Parameters
    ----------
    estimator : estimator object
        The detector to fit several times; it is cloned, never fitted itself.
    n_members : int, default=5
        Number of fits.
    contamination : float, default=0.1
        Expected share of outliers in the training data; sets ``offset_``, as in the
        detectors.
    stacked : bool, default=True
        Whether members of one of skgan_ad's detectors on tabular data train at once,
        as one stacked network (:mod:`skgan_ad.networks.members`): each member starts
        from the weights and reads the batches of its own fit, in a fraction of the
        time of fitting them one by one. ``False``, or a detector whose networks do
        not stack (images, spectral norm, a Pipeline, another library's), fits the members one by one
        (``n_jobs`` at once).
    n_jobs : int or None, default=None
        Members fitted at once, in joblib's processes (None: one after another), when
        they are not stacked.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    seeds_ : ndarray of shape (n_members,)
        Each member's ``random_state``.
    quantiles_ : ndarray of shape (n_members, 1001)
        Each member's training-score quantiles, which normalise its scores.
    offset_ : float
        ``contamination`` quantile of the ensemble's training ``score_samples`` (of
        10,000 of them on a larger training set).
    n_features_in_ : int
        Number of features seen during fit (where the members record it).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from skgan_ad.ensemble import SeedEnsemble
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> ensemble = SeedEnsemble(IsolationForest(n_estimators=20), n_members=3,
    ...                         random_state=0).fit(X)
    >>> ensemble.predict([[0.0, 0.0, 0.0], [6.0, 6.0, 6.0]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "score_samples"])],
        "n_members": [Interval(Integral, 1, None, closed="left")],
        "stacked": ["boolean"],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, n_members=5, contamination=0.1, stacked=True,
                 n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.stacked = stacked
        self.contamination = contamination
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit ``n_members`` clones of ``estimator``, each with its own seed.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, as ``estimator`` takes it.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        random_state = check_random_state(self.random_state)
        seeds = random_state.randint(np.iinfo(np.int32).max, size=self.n_members)
        n_rows = _num_samples(X)
        X_normalisation = X if n_rows <= MAX_NORMALISATION_ROWS else _safe_indexing(
            X, np.sort(random_state.choice(n_rows, MAX_NORMALISATION_ROWS, replace=False)))
        stacked = (self.estimator._fit_members(X, [int(seed) for seed in seeds])
                   if self.stacked and isinstance(self.estimator, BaseGANDetector) else None)
        if stacked is not None:
            fitted = [(member, _quantiles(member, X_normalisation)) for member in stacked]
        else:
            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(self.estimator, X, int(seed), X_normalisation)
                for seed in seeds)
        self.estimators_ = [member for member, _ in fitted]
        self.quantiles_ = np.array([quantiles for _, quantiles in fitted])
        self.seeds_ = seeds
        first = self.estimators_[0]
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))
        self.offset_ = np.percentile(self.score_samples(X_normalisation),
                                     100.0 * self.contamination)
        return self

    def score_samples(self, X):
        """Mean over members of their normalised ``score_samples``: lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher means more normal.
        """
        check_is_fitted(self)
        return np.mean([_normalised(member.score_samples(X), quantiles)
                        for member, quantiles in zip(self.estimators_, self.quantiles_)],
                       axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        member_tags = self.estimator.__sklearn_tags__()
        tags.input_tags = member_tags.input_tags
        tags.non_deterministic = member_tags.non_deterministic
        return tags
