"""One module per published method: its networks, its training step, its score."""

from .alad import ALAD
from .anogan import AnoGAN
from .egbad import EGBAD
from .fanogan import FAnoGAN
from .fencegan import FenceGAN
from .ganomaly import GANomaly
from .simultaneous_encoder import SimultaneousEncoderGAN

__all__ = ["ALAD", "EGBAD", "AnoGAN", "FAnoGAN", "FenceGAN", "GANomaly",
           "SimultaneousEncoderGAN"]
