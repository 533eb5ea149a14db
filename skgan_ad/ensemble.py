"""Several fitted detectors, their normalised scores combined: fits of one detector
seeds apart (:class:`SeedEnsemble`), or different detectors (:class:`VotingDetector`)."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._outlier import OffsetOutlierMixin
from .base import BaseGANDetector

__all__ = ["SeedEnsemble", "VotingDetector"]

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


def _normalisation_rows(X, random_state):
    """The training rows whose scores normalise each member: all, or a random
    ``MAX_NORMALISATION_ROWS`` of them."""
    n_rows = _num_samples(X)
    if n_rows <= MAX_NORMALISATION_ROWS:
        return X
    return _safe_indexing(X, np.sort(random_state.choice(n_rows, MAX_NORMALISATION_ROWS,
                                                         replace=False)))


def _fit_member(estimator, X, X_normalisation, seed=None):
    member = clone(estimator) if seed is None else _with_seed(clone(estimator), seed)
    member.fit(X)
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


class _NormalisedScoreMean(MetaEstimatorMixin, OffsetOutlierMixin):
    """Members' ``score_samples``, each normalised by its own training scores, then
    combined (by default averaged); what :class:`SeedEnsemble` and
    :class:`VotingDetector` share."""

    #: Each member's weight in the mean (None: alike).
    _member_weights = None

    def _combine(self, positions):
        """One score per row from the members' normalised scores (members x rows)."""
        return np.average(positions, axis=0, weights=self._member_weights)

    def _set_fitted_members(self, fitted, X_normalisation):
        self.estimators_ = [member for member, _ in fitted]
        self.quantiles_ = np.array([quantiles for _, quantiles in fitted])
        first = self.estimators_[0]
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(first, name):
                setattr(self, name, getattr(first, name))
        self.offset_ = np.percentile(self.score_samples(X_normalisation),
                                     100.0 * self.contamination)

    def score_samples(self, X):
        """The members' normalised ``score_samples``, combined: lower is more abnormal.

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
        return self._combine(self._member_positions(X))

    def _member_positions(self, X):
        """Each member's ``score_samples`` of ``X``, normalised: (members x rows)."""
        return np.array([_normalised(member.score_samples(X), quantiles)
                         for member, quantiles in zip(self.estimators_, self.quantiles_)])


class SeedEnsemble(_NormalisedScoreMean, BaseEstimator):
    """Several fits of one detector with different seeds, their scores combined.

    A GAN's training depends on its seed: one fit may rank a table well and the next
    poorly. Combining members smooths that out, as ensembles of GAN detectors do
    (Han, Chen and Liu, "GAN Ensemble for Anomaly Detection", AAAI 2021). Each member
    is a clone of ``estimator`` with every ``random_state`` parameter (nested ones of a
    Pipeline included) set to its own seed. A member's ``score_samples`` are first
    mapped to positions in that member's distribution of training scores (a rank from
    0 to 1 inside the training range, continued linearly beyond it), so that members
    on different scales weigh alike; the ensemble's score is, row by row, their mean
    (or their median, ``combination="median"``).

    Works with any outlier detector that has ``score_samples`` (ours, a Pipeline
    ending in one, or scikit-learn's, such as IsolationForest).

    Parameters
    ----------
    estimator : estimator object
        The detector to fit several times; it is cloned, never fitted itself.
    n_members : int, default=5
        Number of fits.
    combination : {"mean", "median"}, default="mean"
        How the members' normalised scores make one score per row. The mean draws on
        every member. The median ignores a member whose training failed, which drags
        the mean down, but it scores each row by one member's value: ten
        simultaneous-encoder GAN members on KDD99 (seed 42), one of them ranking at
        AUROC 0.578, reach F1 0.931 by their median and 0.739 by their mean
        (``benchmarks/results/ensemble_combination_kdd99_test42.md``), yet five
        f-AnoGAN members on 30 ADBench tables rank lower by their median (mean AUROC
        0.805 against 0.808, ``dependability_fanogan_ensemble5_median.md``), although
        the median was ahead on the validation splits of their training parts
        (``ensemble_combination_adbench_fanogan.md``). The mean stays the default; the
        median suits many members of a detector whose fits sometimes fail.
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
        joblib processes that fit the members (None: one, -1: one per core). Stacked
        members are shared out between them, one stack per process; members that
        do not stack are fitted ``n_jobs`` at once. A stack draws its members'
        latent noise together, so the members depend on how they are shared out:
        the same ``n_jobs`` gives the same ensemble.
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
        "combination": [StrOptions({"median", "mean"})],
        "stacked": ["boolean"],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, n_members=5, combination="mean", contamination=0.1,
                 stacked=True, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.combination = combination
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
        X_normalisation = _normalisation_rows(X, random_state)
        stacked = (self._fit_stacked(X, seeds)
                   if self.stacked and isinstance(self.estimator, BaseGANDetector) else None)
        if stacked is not None:
            fitted = [(member, _quantiles(member, X_normalisation)) for member in stacked]
        else:
            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_member)(self.estimator, X, X_normalisation, int(seed))
                for seed in seeds)
        self.seeds_ = seeds
        self._set_fitted_members(fitted, X_normalisation)
        return self

    def _combine(self, positions):
        if self.combination == "median":
            return np.median(positions, axis=0)
        return super()._combine(positions)

    def _fit_stacked(self, X, seeds):
        """The members trained stacked: one stack, or with ``n_jobs``, one stack per
        joblib process, the members shared out between them; None if they do not
        stack."""
        groups = [[int(seed) for seed in group] for group in
                  np.array_split(seeds, min(effective_n_jobs(self.n_jobs), len(seeds)))]
        if len(groups) == 1:
            return self.estimator._fit_members(X, groups[0])
        stacks = Parallel(n_jobs=len(groups))(
            delayed(self.estimator._fit_members)(X, group) for group in groups)
        if any(stack is None for stack in stacks):
            return None
        return [member for stack in stacks for member in stack]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        member_tags = self.estimator.__sklearn_tags__()
        tags.input_tags = member_tags.input_tags
        tags.non_deterministic = member_tags.non_deterministic
        return tags


class VotingDetector(_NormalisedScoreMean, _BaseComposition):
    """Different detectors fitted on the same rows, their normalised scores averaged.

    Each method fails on different data: on one table a reconstruction error ranks the
    anomalies well and a discriminator's output does not, on the next the reverse.
    Averaging the scores of different detectors, each first normalised so that they
    weigh alike, is the outlier ensemble of Aggarwal and Sathe ("Theoretical
    Foundations and Algorithms for Outlier Ensembles", SIGKDD Explorations 2015). A
    member's ``score_samples`` are mapped to positions in its own distribution of
    training scores, as in :class:`SeedEnsemble`; the ensemble's score is their
    (weighted) mean. It is to outlier detectors what
    :class:`~sklearn.ensemble.VotingRegressor` is to regressors: a member's parameter
    is ``<name>__<parameter>`` in ``set_params`` and ``GridSearchCV``.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The detectors, each with a unique name; each is cloned and fitted on the same
        rows, with its own ``random_state``. Any outlier detector that has
        ``score_samples`` fits: ours, a Pipeline ending in one, or scikit-learn's. One
        of each of ours: ``[(name, cls()) for name, cls in skgan_ad.all_detectors()]``.
    weights : array-like of shape (n_estimators,), default=None
        Each member's weight in the mean; None weighs them alike.
    contamination : float, default=0.1
        Expected share of outliers in the training data; sets ``offset_``, as in the
        detectors.
    n_jobs : int or None, default=None
        Members fitted at once, in joblib's processes (None: one after another).
    random_state : int, RandomState instance or None, default=None
        Draws the training rows whose scores normalise each member when there are more
        than 10,000; the members keep their own ``random_state``.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members, in the order of ``estimators``.
    named_estimators_ : :class:`~sklearn.utils.Bunch`
        The fitted members by name.
    quantiles_ : ndarray of shape (n_estimators, 1001)
        Each member's training-score quantiles, which normalise its scores.
    offset_ : float
        ``contamination`` quantile of the ensemble's training ``score_samples`` (of
        10,000 of them on a larger training set).
    n_features_in_ : int
        Number of features seen during fit (where the first member records it).

    See Also
    --------
    SeedEnsemble : Several fits of one detector, seeds apart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.covariance import EllipticEnvelope
    >>> from sklearn.ensemble import IsolationForest
    >>> from skgan_ad.ensemble import VotingDetector
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> voting = VotingDetector([("forest", IsolationForest(random_state=0)),
    ...                          ("gaussian", EllipticEnvelope())]).fit(X)
    >>> voting.predict([[0.0, 0.0, 0.0], [6.0, 6.0, 6.0]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        "estimators": [list],
        "weights": ["array-like", None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimators, *, weights=None, contamination=0.1, n_jobs=None,
                 random_state=None):
        self.estimators = estimators
        self.weights = weights
        self.contamination = contamination
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self, deep=True):
        """Parameters of the ensemble and, with ``deep``, of each member by its name.

        Parameters
        ----------
        deep : bool, default=True
            Whether to include the members and their parameters.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set the ensemble's parameters, a member (by its name) or a member's
        (``<name>__<parameter>``).

        Parameters
        ----------
        **params : keyword arguments
            The parameters to set.

        Returns
        -------
        self : VotingDetector
            This ensemble.
        """
        self._set_params("estimators", **params)
        return self

    def _validated_members(self):
        if not self.estimators or not all(
                isinstance(item, tuple) and len(item) == 2 for item in self.estimators):
            raise ValueError("VotingDetector's estimators must be a non-empty list of "
                             f"(name, estimator) tuples; got {self.estimators!r}.")
        names, members = zip(*self.estimators)
        self._validate_names(names)
        for name, member in self.estimators:
            if not (hasattr(member, "fit") and hasattr(member, "score_samples")):
                raise TypeError(f"VotingDetector's member {name!r} must be an outlier "
                                f"detector with fit and score_samples; got {member!r}.")
        if self.weights is None:
            return members, None
        weights = np.asarray(self.weights, dtype=float)
        if weights.shape != (len(members),) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"VotingDetector's weights must be {len(members)} "
                             "non-negative numbers, one per estimator, not all zero; got "
                             f"{self.weights!r}.")
        return members, weights

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit a clone of each of ``estimators`` on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, as every member takes it.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        members, self._member_weights = self._validated_members()
        X_normalisation = _normalisation_rows(X, check_random_state(self.random_state))
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(member, X, X_normalisation) for member in members)
        self._set_fitted_members(fitted, X_normalisation)
        return self

    @property
    def named_estimators_(self):
        check_is_fitted(self)
        return Bunch(**{name: member for (name, _), member in
                        zip(self.estimators, self.estimators_)})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            member_tags = [member.__sklearn_tags__() for _, member in self.estimators]
        except (TypeError, ValueError, AttributeError):  # validated at fit
            return tags
        tags.input_tags = member_tags[0].input_tags
        tags.non_deterministic = any(member.non_deterministic for member in member_tags)
        return tags
