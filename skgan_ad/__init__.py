"""skgan_ad: GAN-based anomaly detectors as scikit-learn estimators."""

from . import datasets, metrics
from ._discovery import all_detectors
from ._persistence import load
from .base import BaseGANDetector
from .methods import *  # noqa: F403 (the detectors, found in skgan_ad.methods)
from .methods import __all__ as _detector_names

__version__ = "0.1.0"

__all__ = [*_detector_names, "BaseGANDetector", "__version__", "all_detectors", "datasets", "load",
           "metrics"]
