"""The scikit-learn face shared by every detector."""

import contextlib
import functools
import math
import warnings
from abc import ABCMeta, abstractmethod
from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from joblib import cpu_count
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _persistence
from ._engine import FitAborted, net_factory, resolve_device
from ._outlier import OffsetOutlierMixin
from .exceptions import CollapsedTrainingWarning, ModelFileError, TrainingDivergedError
from .networks import make_blocks
from .networks.members import stackable

__all__ = ["BaseGANDetector"]


#: A row with a feature beyond this many times the feature's largest training magnitude
#: (or 1) is outside what the networks learnt, and scores ``LOWEST_SCORE``.
BEYOND_TRAINING_RANGE = 1e6
#: Below every finite score the float32 networks give, and finite, so that every
#: scikit-learn metric accepts it.
LOWEST_SCORE = -2.0 * float(np.finfo(np.float32).max)

#: Set by ``validate_data`` at the start of fit; restored when a fit fails.
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_", "image_shape_")


def _holds_dates(X):
    """Whether ``X`` (an array or a DataFrame) has datetime or timedelta values."""
    dtypes = getattr(X, "dtypes", getattr(X, "dtype", None))
    dtypes = dtypes if isinstance(dtypes, Iterable) else [dtypes]
    return any(getattr(dtype, "kind", None) in ("M", "m") for dtype in dtypes)


def _scale_hint(X):
    magnitude = float(np.abs(X).max())
    if magnitude < 1e6:
        return ""
    return (f" X holds values up to {magnitude:.3g} in magnitude; GAN training needs "
            "features of moderate scale (e.g. sklearn.preprocessing.StandardScaler).")


def largest_tied_share(X, scores):
    """The largest share of the distinct rows of ``X`` that get one and the same score.

    Repeated rows count once, since identical rows score alike in any model.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Dense rows.
    scores : ndarray of shape (n_samples,)
        Their scores.

    Returns
    -------
    share : float
        Between ``1 / n_distinct`` (every distinct row scored apart) and 1.
    """
    rows = np.ascontiguousarray(X)
    rows = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(rows, return_index=True)
    _, counts = np.unique(np.asarray(scores)[first], return_counts=True)
    return float(counts.max() / len(first))


@contextlib.contextmanager
def _torch_threads(n_jobs):
    """Run torch's CPU operators on ``n_jobs`` threads (1 for None, all cores for -1).

    Torch's default, one thread per core, makes the small matrix products of these
    networks several times slower on a busy machine; the caller's setting is restored.
    The cores are this machine's: joblib's ``effective_n_jobs`` would count those of the
    active joblib backend instead (a Dask cluster's, or a ``parallel_config``'s n_jobs
    for None), and every fit running in parallel would take them all.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1 if n_jobs is None else n_jobs if n_jobs > 0
                          else max(cpu_count() + 1 + n_jobs, 1))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _seeded(seed, device):
    """Seed torch for the block and restore the caller's random state afterwards."""
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


#: Images scored per batch when ``score_batch_size="auto"``. Every batch is padded to
#: its full size, so a call on fewer images pays for the whole batch: on 2 CPU cores,
#: batches of 256 scored 1,000 MNIST images 5.2 to 5.8 times as fast as batches of 4,096
#: (AnoGAN's latent search 1.1 times; ``benchmarks/results/image_speed.md``).
IMAGE_SCORE_BATCH_SIZE = 256
#: Default of every detector's ``min_steps``, chosen on validation splits of ADBench
#: training parts (``benchmarks/defaults/min_steps_validation.py``).
MIN_STEPS = 4000
#: ``min_steps="auto"`` warns when it multiplies the passes of ``epochs`` more than this.
EXTENSION_WARNED = 10
#: A fit without ``standardize`` warns when the widest feature's standard deviation is
#: this many times the median feature's: three orders of magnitude, where the
#: networks' losses weigh the widest features alone.
SCALE_SPREAD_WARNED = 1e3
#: A fit warns that its training collapsed when this share of the distinct training
#: rows get one and the same score. Sound fits stay below 0.02, fits collapsed on
#: purpose reach 0.9 to 1 (``benchmarks/results/score_ties.md``).
COLLAPSED_SHARE = 0.5
#: Fewer distinct training rows than this are too few to call their ties a collapse.
COLLAPSE_MIN_ROWS = 20

#: ``ema_warmup``, documented once for the detectors that take ``ema_decay``: their
#: docstrings hold ``_EMA_WARMUP_MARKER`` after ``ema_decay``.
_EMA_WARMUP_MARKER = "    {ema warm-up}\n"
_EMA_WARMUP_DOC = """\
    ema_warmup : bool, default=False
        Whether the moving average's decay is capped by ``(1 + t) / (10 + t)`` at
        update ``t`` (TensorFlow's ``num_updates`` warm-up), so that it forgets the
        random initial weights within a few hundred steps. ``False`` averages as the
        official code of ALAD, EGBAD and AnoGAN does [code:
        ``tf.train.ExponentialMovingAverage(decay)`` with no ``num_updates``] and as
        Berg et al.'s smoothed generator does [code: constant ``G_smoothing``]: the
        average starts from the initial weights, which keep a share of
        ``ema_decay ** steps`` (at 0.9999, 67% after 4,000 steps and 2% after 40,000).
"""

#: The fitted attributes every detector has, documented once; each detector's docstring
#: holds ``_SHARED_ATTRIBUTES_MARKER`` after its own attributes.
_SHARED_ATTRIBUTES_MARKER = "    {shared attributes}\n"
_SHARED_ATTRIBUTES_DOC = """\
    n_features_in_ : int
        Number of features seen during fit.
    feature_magnitude_ : ndarray of shape (`n_features_in_`,)
        Largest absolute training value of each feature (at least 1). A row with a
        feature beyond 1e6 times it scores lowest (user guide, "Input checks and
        failures").
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string column names.
"""

#: The parameters every detector has, documented once; each detector's docstring holds
#: ``_SHARED_PARAMETERS_MARKER`` where they belong (BaseGANDetector fills it in).
_SHARED_PARAMETERS_MARKER = "    {shared parameters}\n"
_SHARED_PARAMETERS_DOC = """\
    score_batch_size : int or "auto", default="auto"
        Rows scored per batch; bounds the memory used by scoring. Every batch is
        padded to this size, so that a row's score does not depend on the rows scored
        with it (nor on how many there are). ``"auto"`` means TABLE_SCORE_BATCH_SIZE table
        rows or IMAGE_SCORE_BATCH_SIZE images: on a 2-core CPU, batches of 256 scored 1,000
        MNIST images 1.1 (AnoGAN) to 5.8 times as fast as batches of 4,096
        (``benchmarks/results/image_speed.md``).
    contamination : float, default=0.1
        Expected proportion of outliers in the training data; sets ``offset_``.
    device : str, default="auto"
        Torch device; "auto" is "cuda" when available, else "cpu".
    random_state : int, RandomState instance or None, default=None
        Seeds every random draw of fit (initial weights, noise, batch order); an int
        gives the same scores run after run on the same device.
    verbose : int, default=0
        Above 0, a progress bar and a table of losses per epoch.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks for the skorch net (e.g. ``skorch.callbacks.Checkpoint``).
    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` when the rows of a 2-D ``X`` are flattened images
        (as between Pipeline steps); 4-D ``X`` of shape ``(n_samples, channels, height,
        width)`` needs none. Images get the convolutional networks of the methods'
        official image code (:class:`~skgan_ad.networks.ImageBlocks`) instead of fully
        connected ones; their generators end in tanh, so scale pixels to [-1, 1].
    n_jobs : int or None, default=None
        Torch CPU threads while fitting and scoring: ``None`` means 1 (small networks
        run fastest on one thread, see ``benchmarks/results/threads.md``), ``-1`` all
        cores.
    precision : {"float32", "bfloat16", "float16"}, default="float32"
        Precision of the networks' forward passes while fitting and scoring. The
        half precisions run them under :func:`torch.autocast` (mixed precision:
        weights, optimizer state and moving averages stay float32; "float16" also
        scales the losses against underflow). They pay off on GPUs with tensor cores;
        on CPU they are slower for these networks
        (``benchmarks/results/gpu_check_cpu.md``).
    compile : bool or dict, default=False
        Whether the networks run through :func:`torch.compile` (compiled in place, so
        pickling and saving are unchanged); a dict also gives its keyword arguments,
        e.g. ``{"mode": "reduce-overhead"}`` for CUDA graphs on a GPU. The first epoch
        and the first scoring pay the compilation. Off by default: on CPU it made
        training slower (``benchmarks/results/compile_cpu.md``).
    min_steps : "auto" or int, default="auto"
        Fewest training steps (mini-batches) of a fit. The epoch defaults were set for
        KDD99's 198,361 rows; a table of a few hundred rows gets a handful of steps an
        epoch from them, too few to train a GAN. When the epochs give fewer than
        ``min_steps`` steps, each epoch makes several passes over the data, as many as
        reach ``min_steps`` (phases counted in epochs keep their proportions).
        ``"auto"`` means MIN_STEPS steps, chosen on validation splits of ADBench
        training parts, never their test parts
        (``benchmarks/results/min_steps_validation.md``), and warns when that makes
        more than EXTENSION_WARNED times the passes ``epochs`` asks for (a small
        training set, or a small ``epochs``). An int is a floor you chose, applied
        without a word; 0 trains exactly ``epochs`` passes, as the official code does.
    standardize : bool, default=True
        Whether the detector standardises a table's features itself, with the mean
        and standard deviation of each training feature (``feature_mean_``,
        ``feature_scale_``), before training and scoring. Affine rescalings of the
        input (raw features, a ``MinMaxScaler`` or a ``StandardScaler`` in front) then
        train the same model, so the scaler a user happens to pick does not decide
        the ranking. Not the official code's: chosen on validation splits of ADBench
        training parts, where standardised features trained our detectors better than
        min-max scaled or raw ones, and better than normal quantiles
        (``benchmarks/results/input_scaling.md``). False, the official code's
        behaviour, feeds the networks the features as given, so that a scaling
        chosen for the data is kept: on KDD99, ``log1p`` of the byte counts trains
        four of the methods better than standardised features, and better than
        standardised ``log1p`` (``benchmarks/results/*_validation_disjoint*.md``).
        Such a fit warns when the features' standard deviations span more than
        SCALE_SPREAD_WARNED times the median one. Images keep their pixel scale.
    ensemble_size : int, default=1
        Generators (each with its encoders) and discriminators trained together, as
        the GAN ensemble of Han, Chen and Liu (AAAI 2021; code
        ``tufts-ml/GAN-Ensemble-for-Anomaly-Detection``): every training step runs the
        method's step on one generator and one discriminator drawn at random, so a
        step costs what one GAN's does, and the anomaly score is the mean over all
        ``ensemble_size ** 2`` pairs, so scoring costs that many times one GAN's.
        1 is the paper's single GAN. The pairs' raw scores are averaged [Han et al.'s
        code] and each generator trains on a share of the steps: on KDD99's
        validation rows five of each ranked ALAD's and GANomaly's anomalies backwards
        (``benchmarks/results/ensemble_cost.md``); :class:`~skgan_ad.SeedEnsemble`
        is the dependable ensemble.
""".replace("IMAGE_SCORE_BATCH_SIZE", str(IMAGE_SCORE_BATCH_SIZE)).replace(
    "MIN_STEPS", f"{MIN_STEPS:,}").replace(
    "EXTENSION_WARNED", str(EXTENSION_WARNED)).replace(
    "SCALE_SPREAD_WARNED", f"{SCALE_SPREAD_WARNED:,.0f}")


class BaseGANDetector(OffsetOutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN anomaly detectors.

    A subclass describes its method through four hooks: :meth:`_build_modules` (the
    named torch modules), :meth:`_optimizer_groups`, :meth:`_train_step` (one
    iteration of the method's losses) and :meth:`_anomaly_score` (the paper's score,
    higher = more anomalous), and declares facts the engine acts on: ``_loss_names``,
    ``_ema_modules``, ``_uses_second_batch`` and :meth:`_phases`. Training,
    thresholds, input checks and batching live here and in
    :class:`skgan_ad._engine.AdversarialNet`.

    ``score_samples`` is the negated anomaly score (higher = more normal, the
    scikit-learn convention), ``offset_`` is its ``contamination`` quantile on the
    training data, and ``decision_function = score_samples - offset_`` is negative
    for outliers.
    """

    _parameter_constraints = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "min_steps": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "ema_warmup": ["boolean"],
        "score_batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "image_shape": [tuple, None],
        "n_jobs": [Interval(Integral, 1, None, closed="left"),
                   Interval(Integral, None, -1, closed="right"), None],
        "precision": [StrOptions({"float32", "bfloat16", "float16"})],
        "compile": ["boolean", dict],
        "standardize": ["boolean"],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__doc__:
            cls.__doc__ = cls.__doc__.replace(
                _SHARED_PARAMETERS_MARKER, _SHARED_PARAMETERS_DOC.replace(
                    "TABLE_SCORE_BATCH_SIZE", f"{cls._table_score_batch_size:,}")).replace(
                _EMA_WARMUP_MARKER, _EMA_WARMUP_DOC).replace(
                _SHARED_ATTRIBUTES_MARKER, _SHARED_ATTRIBUTES_DOC)

    #: Names of the losses the training step returns, recorded in ``history_``.
    _loss_names = ()
    #: Modules whose moving average is used at scoring time.
    _ema_modules = ()
    #: Whether the training step reads a second, independently shuffled batch
    #: (``x_other``); otherwise ``x_other`` is ``x`` and no second shuffle is drawn.
    _uses_second_batch = False

    def _phases(self):
        """The training phases in order: ``((name, epochs), ...)``.

        The net's ``phase`` names the current one; the fit's epochs are their total.
        """
        return (("train", self.epochs),)

    @abstractmethod
    def _build_modules(self):
        """Return the method's torch modules by name, freshly initialised."""

    @abstractmethod
    def _optimizer_groups(self):
        """Return ``{optimizer name: (module names...)}``."""

    @abstractmethod
    def _train_step(self, net, x, x_other):
        """Run one training iteration on a batch; return the named losses.

        ``net`` is the :class:`~skgan_ad._engine.AdversarialNet`: its modules
        (``net.generator_``...), optimizers, ``minimise``, ``sample_noise``,
        ``phase``, ``epoch`` and ``batch_index``.
        """

    @abstractmethod
    def _anomaly_score(self, net, x):
        """Return the method's anomaly score of a batch (higher = more anomalous)."""

    def _optimizer_params(self):
        """Return per-optimizer settings as skorch parameters.

        For example ``{"optimizer_g__lr": 1e-3}`` gives the optimizer ``optimizer_g``
        its own learning rate; the others keep ``lr`` and ``beta1``.
        """
        return {}

    def _validate_input(self, X, *, reset):
        """Check ``X``; return it as a float array or a CSR matrix.

        At fit the data become one float32 array (training holds them all). At scoring
        float64 arrays and sparse matrices pass through uncopied and are converted
        batch by batch, so scoring memory stays bounded by ``score_batch_size``.
        """
        if _holds_dates(X):
            raise TypeError(f"{type(self).__name__} needs numeric input, but X holds dates "
                            "or time spans; turn them into numeric features first.")
        X = self._images_as_rows(X, reset=reset)
        try:
            # Overflow to float32 is reported by validate_data in words.
            with np.errstate(over="ignore", invalid="ignore"):
                X = validate_data(
                    self, X, reset=reset, accept_sparse="csr",
                    dtype=np.float32 if reset else [np.float32, np.float64],
                    ensure_min_samples=2 if reset else 1)
        except ValueError as exc:
            if "could not convert" in str(exc) or "string" in str(exc):
                raise ValueError(
                    f"{type(self).__name__} needs numeric input, but X has non-numeric "
                    f"values ({exc}). Encode categorical columns first, e.g. with "
                    "sklearn.preprocessing.OneHotEncoder or "
                    "skgan_ad.datasets.make_kdd99_preprocessor().") from exc
            raise
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__} cannot use X of this type: {exc}") from exc
        if reset and sp.issparse(X):
            X = X.toarray()
        if reset and self.image_shape_ is not None and \
                math.prod(self.image_shape_) != X.shape[1]:
            raise ValueError(f"image_shape={self.image_shape_} has "
                             f"{math.prod(self.image_shape_)} pixels, but X has "
                             f"{X.shape[1]} features.")
        return X

    def _images_as_rows(self, X, *, reset):
        """Flatten images ``(n, channels, height, width)`` into rows of pixels.

        Images travel as rows, as in a Pipeline; at fit their shape is kept in
        ``image_shape_`` (from 4-D input or the ``image_shape`` parameter) and picks
        the convolutional networks. At scoring, 4-D input must match it.
        """
        shape = getattr(X, "shape", ())
        declared = getattr(self, "image_shape", None)
        declared = None if declared is None else tuple(int(size) for size in declared)
        if len(shape) != 4:
            if reset:
                self.image_shape_ = declared
            return X
        images = tuple(int(size) for size in shape[1:])
        if reset:
            if declared is not None and declared != images:
                raise ValueError(f"X holds images of shape {images}, but image_shape="
                                 f"{declared}.")
            self.image_shape_ = images
        elif self.image_shape_ != images:
            fitted = (f"images of shape {self.image_shape_}" if self.image_shape_
                      else f"rows of {self.n_features_in_} features")
            raise ValueError(f"X holds images of shape {images}, but "
                             f"{type(self).__name__} was fitted on {fitted}.")
        return np.reshape(X, (shape[0], -1))

    def _blocks(self):
        """The network building blocks that fit the training data (tables or images)."""
        return make_blocks(self.n_features_in_, self.image_shape_)

    def _make_net(self, seed, device, member_seeds=None):
        callbacks = list(self.callbacks or ())
        if self.verbose:
            from skorch.callbacks import ProgressBar
            callbacks.insert(0, ("progress_bar", ProgressBar(batches_per_epoch="count")))
        return net_factory.get()(
            build_modules=self._build_modules,
            optimizer_groups=self._optimizer_groups(),
            step=self._train_step,
            loss_names=self._loss_names,
            phases=tuple((name, epochs) for name, epochs in self._phases() if epochs),
            ema_decay=self.ema_decay,
            ema_warmup=self.ema_warmup,
            ema_modules=self._ema_modules,
            independent_batches=self._uses_second_batch,
            seed=seed,
            member_seeds=member_seeds,
            ensemble_size=self.ensemble_size,
            min_steps=MIN_STEPS if self.min_steps == "auto" else self.min_steps,
            precision=self.precision,
            compile=bool(self.compile),
            **{f"compile__{name}": value
               for name, value in (self.compile if isinstance(self.compile, dict)
                                   else {}).items()},
            # The fused implementation (one kernel per optimizer) is the same update
            # and about a quarter faster per step for these small networks on CPU.
            optimizer=functools.partial(torch.optim.Adam, betas=(self.beta1, 0.999),
                                        fused=True),
            lr=self.lr,
            batch_size=self.batch_size,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose),
            **self._optimizer_params(),
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the detector on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, assumed to be mostly normal.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted detector.
        """
        # A failed fit leaves the estimator as it was: a refit that diverges, meets bad
        # input or is interrupted does not destroy the previous model.
        previous = {name: vars(self)[name] for name in _INPUT_ATTRIBUTES if name in vars(self)}
        try:
            with _torch_threads(self.n_jobs):
                return self._fit(X)
        except BaseException:
            for name in _INPUT_ATTRIBUTES:
                vars(self).pop(name, None)
            vars(self).update(previous)
            raise

    def _fit(self, X):
        X, raw_magnitude = self._prepared_for_fit(self._validated_for_fit(X))
        seed = self._drawn_seed()
        self._set_fitted(self._trained_net(X, seed), X, seed, raw_magnitude)
        return self

    def _fit_members(self, X, random_states):
        """Clones of this detector, one per random state, trained as one stacked network.

        Each member starts from the weights and walks through the batches that its own
        ``fit`` would (:mod:`skgan_ad.networks.members`), and comes out as an ordinary
        fitted detector. :class:`~skgan_ad.SeedEnsemble` fits its members so.

        Returns
        -------
        members : list of estimators, or None
            ``None`` when the networks cannot be stacked (images, spectral norm): fit
            the members one by one instead.
        """
        members = [clone(self).set_params(random_state=state) for state in random_states]
        lead = members[0]
        with _torch_threads(self.n_jobs):
            X = lead._validated_for_fit(X)
            with torch.random.fork_rng():
                if not all(stackable(module) for module in lead._build_modules().values()):
                    return None
            X, raw_magnitude = lead._prepared_for_fit(X)
            seeds = [member._drawn_seed() for member in members]
            stacked = lead._trained_net(X, seeds[0], member_seeds=seeds)
            device = resolve_device(self.device)
            fitted_inputs = {name: value for name, value in vars(lead).items()
                             if name in (*_INPUT_ATTRIBUTES, "feature_mean_", "feature_scale_")}
            for index, (member, seed) in enumerate(zip(members, seeds)):
                vars(member).update(fitted_inputs)
                with _seeded(seed, device):
                    net = member._make_net(seed, device).initialize()
                member._set_fitted(stacked.copy_member_into(index, net), X, seed,
                                   raw_magnitude)
        return members

    def _validated_for_fit(self, X):
        self._check_layer_widths()
        return self._validate_input(X, reset=True)

    def _prepared_for_fit(self, X):
        """Validated rows as the networks train on them (standardised when asked, with
        a warning about wild feature scales), and each feature's largest magnitude."""
        raw_magnitude = np.maximum(np.abs(X).max(axis=0), 1.0)
        self._warn_about_scale(X)
        return self._standardized_for_fit(X), raw_magnitude

    def _drawn_seed(self):
        """The seed of a fit's weights, noise and batch order, drawn from random_state."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _trained_net(self, X, seed, member_seeds=None):
        """A net of this detector trained on the prepared rows ``X``."""
        device = resolve_device(self.device)
        name = type(self).__name__
        try:
            with _seeded(seed, device):
                net = self._make_net(seed, device, member_seeds)
                self._announce_extension(net, len(X))
                return net.fit(torch.from_numpy(np.require(X, requirements=["C", "W"])))
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(f"{name} {exc}{_scale_hint(X)}") from None
        except FitAborted:
            raise KeyboardInterrupt(f"{name}.fit was interrupted before its first epoch "
                                    "finished; the estimator is unchanged.") from None

    def _set_fitted(self, net, X, seed, raw_magnitude):
        """Keep the trained ``net`` and set ``offset_`` from the training rows' scores."""
        X_offset = self._rows_for_offset(X, seed)
        anomaly_scores = net.score_in_batches(X_offset, self._anomaly_score,
                                              self._score_batch_rows())
        if not np.isfinite(anomaly_scores).all():
            raise TrainingDivergedError(
                f"{type(self).__name__} training diverged: after {len(net.history)} epochs "
                f"the scores of {np.sum(~np.isfinite(anomaly_scores))} training rows are "
                f"not finite. Try a lower learning rate (lr={self.lr} now) or scaling the "
                f"features.{_scale_hint(X)}")
        self._warn_if_collapsed(X_offset, anomaly_scores)
        self.net_, self.history_ = net, net.history
        self.feature_magnitude_ = raw_magnitude
        self.offset_ = np.percentile(-anomaly_scores, 100.0 * self.contamination)

    def _warn_about_scale(self, X):
        """Warn when a table's features differ in scale by orders of magnitude."""
        if self.standardize or self.image_shape_ is not None or X.shape[1] < 2:
            return
        spread = X.std(axis=0, dtype=np.float64)
        varying = spread[spread > 0]  # constant columns have no scale to compare
        median = np.median(varying) if len(varying) else 0.0
        if median > 0 and spread.max() >= SCALE_SPREAD_WARNED * median:
            widest = int(spread.argmax())
            warnings.warn(
                f"{type(self).__name__}: feature {widest}'s standard deviation "
                f"({spread[widest]:.3g}) is {spread[widest] / median:,.0f} times the "
                f"median varying feature's ({median:.3g}). The networks' losses then weigh the "
                "widest features alone, and such fits can rank anomalies backwards "
                "(FenceGAN's AUROC on the raw features of the bundled KDD99 sample: "
                "0.30). Leave standardize at its default (True), or put "
                "sklearn.preprocessing.StandardScaler (or a log transform of "
                "heavy-tailed columns) in front.",
                UserWarning, stacklevel=6)

    def _warn_if_collapsed(self, X, anomaly_scores):
        """Warn when the fitted model scores most distinct training rows alike."""
        if len(X) < COLLAPSE_MIN_ROWS:
            return
        share = largest_tied_share(X, anomaly_scores)
        if share >= COLLAPSED_SHARE:
            warnings.warn(
                f"{type(self).__name__}: the fitted model gives {share:.0%} of the distinct "
                "training rows one and the same score, so it cannot rank them: its "
                "training collapsed. Fit again with another random_state or a lower "
                f"learning rate (lr={self.lr} now), or average several fits with "
                "skgan_ad.SeedEnsemble.", CollapsedTrainingWarning, stacklevel=6)

    def _standardized_for_fit(self, X):
        """``X`` standardised per feature when ``standardize`` applies; sets the
        ``feature_mean_`` and ``feature_scale_`` that scoring applies too."""
        for name in ("feature_mean_", "feature_scale_"):
            vars(self).pop(name, None)
        if not self.standardize or self.image_shape_ is not None:
            return X
        mean = X.mean(axis=0, dtype=np.float64)
        scale = X.std(axis=0, dtype=np.float64)
        scale[scale == 0] = 1.0  # a constant feature is centred, not divided by zero
        self.feature_mean_, self.feature_scale_ = mean, scale
        return ((X - mean) / scale).astype(np.float32)

    def _score_fn(self):
        """The anomaly score of a batch of raw rows, standardised first if fitted so."""
        if getattr(self, "feature_mean_", None) is None:
            return self._anomaly_score
        statistics = (torch.as_tensor(self.feature_mean_, dtype=torch.float32),
                      torch.as_tensor(self.feature_scale_, dtype=torch.float32))
        # Moved to the batches' device once, on the first batch: known mid-fit too
        # (validation callbacks), where ``net_`` is not set yet.
        on_device = {}

        def standardised_score(net, x):
            if x.device not in on_device:
                on_device[x.device] = tuple(value.to(x.device) for value in statistics)
            mean, scale = on_device[x.device]
            return self._anomaly_score(net, (x - mean) / scale)

        return standardised_score

    def _announce_extension(self, net, n_rows):
        """Warn when ``min_steps="auto"`` multiplies the passes ``epochs`` asks for."""
        passes = net.passes_per_epoch(n_rows)
        if self.min_steps == "auto" and passes > EXTENSION_WARNED:
            warnings.warn(
                f"{type(self).__name__} trains {passes * net.max_epochs:,} passes over the "
                f"{n_rows:,} training rows, {passes} for each of its {net.max_epochs} "
                f"epochs: min_steps='auto' trains at least {MIN_STEPS:,} steps, which "
                "small tables need (benchmarks/results/min_steps_validation.md). Pass "
                "min_steps=0 to train exactly the epochs, or an int to set the floor "
                "yourself.", UserWarning, stacklevel=6)

    def _check_layer_widths(self):
        """Refuse a ``*_hidden`` parameter that is not a list of layer widths.

        ``_parameter_constraints`` checks that it is a tuple; its items are checked
        here, so that an empty tuple or a width of 0 is named rather than failing
        inside torch.
        """
        for name, widths in self.get_params(deep=False).items():
            if name.endswith("_hidden") and not (widths and all(
                    isinstance(width, Integral) and not isinstance(width, bool)
                    and width > 0 for width in widths)):
                raise ValueError(
                    f"The '{name}' parameter of {type(self).__name__} must be a "
                    f"non-empty tuple of positive integers (layer widths). Got "
                    f"{widths!r} instead.")

    #: Table rows scored per batch when ``score_batch_size="auto"``.
    _table_score_batch_size = 4096

    def _score_batch_rows(self):
        """Rows per scoring batch: ``score_batch_size``, resolved for the fitted input."""
        if self.score_batch_size != "auto":
            return self.score_batch_size
        return (IMAGE_SCORE_BATCH_SIZE if getattr(self, "image_shape_", None) is not None
                else self._table_score_batch_size)

    def _rows_for_offset(self, X, seed):
        """The training rows whose scores set ``offset_``: all of them by default."""
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified at fit, batch by batch at scoring
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def _score_samples(self, X):
        anomaly_scores = self.net_.score_in_batches(X, self._score_fn(),
                                                    self._score_batch_rows())
        # A fitted model scores every training row finitely, so a score that is not
        # comes from float32 overflow on a row of extreme magnitude. Far enough outside
        # the training range, a network's output is its extrapolation, which ranks
        # nothing (Fence GAN's discriminator calls such rows real): both are the most
        # abnormal rows there are, and get a finite score below any the networks give.
        beyond = ~np.isfinite(anomaly_scores) | self._beyond_training_range(X)
        if beyond.any():
            warnings.warn(
                f"{beyond.sum()} rows lie far outside the training data's range (beyond "
                f"{BEYOND_TRAINING_RANGE:g} times a feature's largest training magnitude, "
                "or overflowing float32 inside the networks); they get the lowest score, "
                f"{LOWEST_SCORE:.3g}.", RuntimeWarning, stacklevel=3)
            anomaly_scores[beyond] = -LOWEST_SCORE
        return -anomaly_scores

    def _beyond_training_range(self, X):
        magnitude = getattr(self, "feature_magnitude_", None)
        if magnitude is None:  # a model saved before the attribute existed
            return np.zeros(X.shape[0], dtype=bool)
        limit = BEYOND_TRAINING_RANGE * magnitude
        if sp.issparse(X):
            return np.asarray((abs(X) @ sp.diags(1.0 / limit)).max(axis=1).todense()
                              ).ravel() > 1.0
        return (np.abs(X) > limit).any(axis=1)

    def score_samples(self, X):
        """Opposite of the method's anomaly score: the lower, the more abnormal.

        Scored in batches of ``score_batch_size`` rows with every module in eval mode, so a
        row's score does not depend on the rows scored with it.

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
        X = self._validate_input(X, reset=False)
        with _torch_threads(self.n_jobs):
            return self._score_samples(X)

    def save(self, path):
        """Write the fitted detector to a safetensors model file.

        Unlike pickle or joblib, loading the file with :func:`skgan_ad.load` runs no
        code from it, so it is the format to share models in (:func:`skgan_ad.save`
        writes a whole fitted Pipeline the same way). The weights are stored
        as tensors, the hyper-parameters and fitted values as JSON, the history per
        epoch; ``callbacks`` are code and are not stored.

        Parameters
        ----------
        path : str or path-like
            Where to write the file (conventionally ``*.safetensors``).

        Returns
        -------
        self : object
            The detector, unchanged.
        """
        _persistence.save(self, path)
        return self

    @classmethod
    def load(cls, path, *, device=None):
        """Load a detector of this class from a file written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The model file.
        device : str, torch.device or None, default=None
            Device of the loaded networks; ``None`` keeps the saved one.

        Returns
        -------
        estimator : object
            The fitted detector.

        Raises
        ------
        skgan_ad.exceptions.ModelFileError
            If the file is unreadable, corrupted, or holds another kind of detector.
        """
        estimator = _persistence.load(path, _detector_classes(), device=device)
        if not isinstance(estimator, cls):
            raise ModelFileError(f"{path} holds a model of class {type(estimator).__name__}, "
                                 f"not {cls.__name__}; use skgan_ad.load to load any model.")
        return estimator


def _detector_classes(cls=BaseGANDetector):
    """``cls`` and its subclasses by ``module.qualname``: the classes a file may name."""
    found, pending = {}, [cls]
    while pending:
        current = pending.pop()
        found[f"{current.__module__}.{current.__qualname__}"] = current
        pending.extend(current.__subclasses__())
    return found

