"""Finding the package's detectors, as :func:`sklearn.utils.all_estimators` does."""

from . import methods

__all__ = ["all_detectors"]


def all_detectors():
    """Every detector of the package, found in :mod:`skgan_ad.methods`.

    The package, its tests, the demo and the benchmarks all take the list from here,
    so a new method is one module in :mod:`skgan_ad.methods`.

    Returns
    -------
    detectors : list of (str, type)
        ``(name, class)`` pairs, sorted by name.

    Examples
    --------
    >>> from skgan_ad import all_detectors
    >>> [name for name, _ in all_detectors()][:3]
    ['ALAD', 'AnoGAN', 'EGBAD']
    """
    return [(name, getattr(methods, name)) for name in methods.__all__]
