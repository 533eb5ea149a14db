"""Errors raised by skgan_ad beyond scikit-learn's own."""

__all__ = ["ModelFileError", "TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """A training loss or the fitted model's scores stopped being finite.

    Raised by ``fit``; the estimator keeps the state it had before the call.
    """


class ModelFileError(ValueError):
    """A model file cannot be loaded: unreadable, corrupted, or for another model."""
