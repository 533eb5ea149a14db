"""One module per published method: its networks, its training step, its score."""

from .alad import ALAD
from .egbad import EGBAD

__all__ = ["ALAD", "EGBAD"]
