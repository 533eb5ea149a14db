"""skgan_ad: GAN-based anomaly detectors as scikit-learn estimators."""

from ._persistence import load
from .base import BaseGANDetector
from .methods import (
    ALAD,
    EGBAD,
    AnoGAN,
    FAnoGAN,
    FenceGAN,
    GANomaly,
    SimultaneousEncoderGAN,
)

__version__ = "0.1.0"

__all__ = [
    "ALAD",
    "EGBAD",
    "AnoGAN",
    "BaseGANDetector",
    "FAnoGAN",
    "FenceGAN",
    "GANomaly",
    "SimultaneousEncoderGAN",
    "__version__",
    "load",
]
