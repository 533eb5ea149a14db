"""One module per published method: its networks, its training step, its score.

A method is one file here whose ``__all__`` names its detector; the package finds it,
so nothing else lists the detectors (:func:`skgan_ad.all_detectors`).
"""

import importlib
import pkgutil

from ..base import BaseGANDetector

__all__ = []
for _module_info in pkgutil.iter_modules(__path__):
    if _module_info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_module_info.name}")
    for _name in _module.__all__:
        _detector = getattr(_module, _name)
        if not (isinstance(_detector, type) and issubclass(_detector, BaseGANDetector)):
            raise TypeError(f"{_module.__name__}.__all__ names {_name}, which is not a "
                            "BaseGANDetector: a method module exports its detector only.")
        globals()[_name] = _detector
        __all__.append(_name)
__all__.sort()
del _module_info, _module, _name, _detector
