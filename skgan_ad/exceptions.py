"""Errors raised by skgan_ad beyond scikit-learn's own."""

__all__ = ["CollapsedTrainingWarning", "ModelFileError", "TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """A training loss or the fitted model's scores stopped being finite.

    Raised by ``fit``; the estimator keeps the state it had before the call.
    """


class ModelFileError(ValueError):
    """A model file cannot be loaded: unreadable, corrupted, or for another model."""


class CollapsedTrainingWarning(UserWarning):
    """A fitted model gives most distinct training rows one and the same score.

    Warned by ``fit``: such a model cannot rank those rows (a saturated discriminator,
    say). The fit is kept; another seed, a lower learning rate or
    :class:`skgan_ad.SeedEnsemble` may do better.
    """
