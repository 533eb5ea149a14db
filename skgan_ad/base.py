"""The scikit-learn face shared by every detector."""

import contextlib
import functools
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import AdversarialNet

__all__ = ["BaseGANDetector"]


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; "
                         "use device='auto' or 'cpu'.")
    return str(resolved)


@contextlib.contextmanager
def _seeded(seed, device):
    """Seed torch for the block and restore the caller's random state afterwards."""
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class BaseGANDetector(OutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class of the GAN anomaly detectors.

    A subclass describes its method through four hooks: :meth:`_build_modules` (the
    named torch modules), :meth:`_optimizer_groups`, :meth:`_train_step` (one
    iteration of the method's losses) and :meth:`_anomaly_score` (the paper's score,
    higher = more anomalous). Training, thresholds, input checks and batching live
    here and in :class:`skgan_ad._engine.AdversarialNet`.

    ``score_samples`` is the negated anomaly score (higher = more normal, the
    scikit-learn convention), ``offset_`` is its ``contamination`` quantile on the
    training data, and ``decision_function = score_samples - offset_`` is negative
    for outliers.
    """

    _parameter_constraints = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "beta1": [Interval(Real, 0, 1, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
        "score_batch_size": [Interval(Integral, 1, None, closed="left")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    #: Names of the losses the training step returns, recorded in ``history_``.
    _loss_names = ()
    #: Modules whose moving average is used at scoring time.
    _ema_modules = ()

    @abstractmethod
    def _build_modules(self):
        """Return the method's torch modules by name, freshly initialised."""

    @abstractmethod
    def _optimizer_groups(self):
        """Return ``{optimizer name: (module names...)}``."""

    @abstractmethod
    def _train_step(self, net, x, x_other):
        """Run one training iteration on a batch; return the named losses."""

    @abstractmethod
    def _anomaly_score(self, net, x):
        """Return the method's anomaly score of a batch (higher = more anomalous)."""

    def _validate_input(self, X, *, reset):
        try:
            return validate_data(self, X, reset=reset, dtype=np.float32,
                                 ensure_min_samples=2 if reset else 1)
        except ValueError as exc:
            if "could not convert" in str(exc) or "string" in str(exc):
                raise ValueError(
                    f"{type(self).__name__} needs numeric input, but X has non-numeric "
                    f"values ({exc}). Encode categorical columns first, e.g. with "
                    "sklearn.preprocessing.OneHotEncoder or "
                    "skgan_ad.datasets.make_kdd99_preprocessor().") from exc
            raise

    def _make_net(self, seed, device):
        callbacks = list(self.callbacks or ())
        if self.verbose:
            from skorch.callbacks import ProgressBar
            callbacks.insert(0, ("progress_bar", ProgressBar(batches_per_epoch="count")))
        return AdversarialNet(
            build_modules=self._build_modules,
            optimizer_groups=self._optimizer_groups(),
            step=self._train_step,
            loss_names=self._loss_names,
            ema_decay=self.ema_decay,
            ema_modules=self._ema_modules,
            seed=seed,
            # The fused implementation (one kernel per optimizer) is the same update
            # and about a quarter faster per step for these small networks on CPU.
            optimizer=functools.partial(torch.optim.Adam, betas=(self.beta1, 0.999),
                                        fused=True),
            lr=self.lr,
            max_epochs=self.epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose),
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
        X = self._validate_input(X, reset=True)
        device = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with _seeded(seed, device):
            self.net_ = self._make_net(seed, device).fit(torch.from_numpy(X.copy()))
        self.history_ = self.net_.history
        self.offset_ = np.percentile(self._score_samples(X), 100.0 * self.contamination)
        return self

    def _score_samples(self, X):
        return -self.net_.score_in_batches(X, self._anomaly_score, self.score_batch_size)

    def score_samples(self, X):
        """Opposite of the method's anomaly score: the lower, the more abnormal.

        Scored in batches of ``score_batch_size`` with every module in eval mode, so a
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
        return self._score_samples(self._validate_input(X, reset=False))

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
