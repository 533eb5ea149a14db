"""skgan_ad: GAN-based anomaly detectors as scikit-learn estimators."""

from . import datasets, ensemble, metrics
from ._discovery import all_detectors
from ._model_files import load, save
from ._version import __version__
from .base import BaseGANDetector
from .ensemble import SeedEnsemble, VotingDetector
from .methods import *  # noqa: F403 (the detectors, found in skgan_ad.methods)
from .methods import __all__ as _detector_names

__all__ = [*_detector_names, "BaseGANDetector", "SeedEnsemble", "VotingDetector", "__version__",
           "all_detectors", "datasets", "ensemble", "load", "metrics", "save"]
