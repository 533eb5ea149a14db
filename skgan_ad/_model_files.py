"""``skgan_ad.save`` and ``skgan_ad.load``: model files that run no code when loaded.

A bare detector is one safetensors file (:mod:`skgan_ad._persistence`). A fitted
Pipeline, ColumnTransformer or FeatureUnion that holds detectors is one zip archive:

* ``estimator.skops``: the scikit-learn part, written by ``skops.io`` (the ecosystem's
  secure format: it records types by name and loads only the types it is told to
  trust), with each detector replaced by a :class:`DetectorSlot`;
* ``detector-<i>.safetensors``: the detectors, as :meth:`BaseGANDetector.save` writes
  them;
* ``manifest.json``: the format and its version, the versions that wrote it and the
  SHA-256 of every other member.
"""

import copy
import hashlib
import json
import tempfile
import warnings
import zipfile
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import FeatureUnion, Pipeline

from . import _persistence
from ._version import __version__
from .base import BaseGANDetector, _detector_classes
from .ensemble import _NormalisedScoreMean
from .exceptions import ModelFileError

__all__ = ["load", "save"]

ARCHIVE_FORMAT = "skgan_ad.composite"
ARCHIVE_VERSION = 1
_MANIFEST = "manifest.json"
_SKELETON = "estimator.skops"
_ZIP_MAGIC = b"PK\x03\x04"

#: Types of this package that a file may name beside skops' own trusted ones. The
#: detector classes are among them for unfitted ones, which hold only hyper-parameters
#: (a fitted one's networks would need torch's types, which are not trusted).
def _own_trusted_types():
    return ("skgan_ad._model_files.DetectorSlot", "skgan_ad.datasets._log1p_counts",
            "skgan_ad.ensemble.SeedEnsemble", "skgan_ad.ensemble.VotingDetector",
            *_detector_classes())


class DetectorSlot:
    """Stands for the ``index``-th detector of an archive inside its skops part."""

    def __init__(self, index):
        self.index = index


def _replace_detectors(estimator, replace):
    """A shallow copy of ``estimator`` with each fitted detector ``d`` replaced by
    ``replace(d)``, looking inside Pipeline, FeatureUnion, ColumnTransformer and
    the ensembles. An unfitted detector (an ensemble's template) holds only its
    hyper-parameters, and skops stores it as it is."""
    if isinstance(estimator, DetectorSlot) or (
            isinstance(estimator, BaseGANDetector) and estimator.__sklearn_is_fitted__()):
        return replace(estimator)
    if isinstance(estimator, _NormalisedScoreMean) and hasattr(estimator, "estimators_"):
        copied = copy.copy(estimator)
        copied.estimators_ = [_replace_detectors(member, replace)
                              for member in estimator.estimators_]
        return copied
    if isinstance(estimator, Pipeline):
        copied = copy.copy(estimator)
        copied.steps = [(name, _replace_detectors(step, replace))
                        for name, step in estimator.steps]
        return copied
    if isinstance(estimator, FeatureUnion):
        copied = copy.copy(estimator)
        copied.transformer_list = [(name, _replace_detectors(step, replace))
                                   for name, step in estimator.transformer_list]
        return copied
    if isinstance(estimator, ColumnTransformer):
        copied = copy.copy(estimator)
        for attribute in ("transformers", "transformers_"):
            if hasattr(estimator, attribute):
                setattr(copied, attribute, [
                    (name, _replace_detectors(step, replace), _plain_columns(columns))
                    for name, step, columns in getattr(estimator, attribute)])
        if hasattr(estimator, "_columns"):  # the fitted column selections
            copied._columns = [_plain_columns(columns) for columns in estimator._columns]
        return copied
    return estimator


def _plain_columns(columns):
    # A pandas Index (``frame.columns[...]``) selects what its list does, and skops
    # stores a list as data, where an Index would need pandas internals trusted.
    return columns.tolist() if isinstance(columns, pd.Index) else columns


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def save(estimator, path):
    """Write a fitted detector, or a fitted Pipeline holding detectors, to ``path``.

    Loading the file with :func:`load` runs no code from it. A detector is written as
    :meth:`BaseGANDetector.save` writes it (one safetensors file). A
    :class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn.compose.ColumnTransformer`,
    :class:`~sklearn.pipeline.FeatureUnion`, :class:`~skgan_ad.SeedEnsemble` or
    :class:`~skgan_ad.VotingDetector` (nested as deep as needed) is written as
    one archive: its scikit-learn part by ``skops.io``, each detector step as
    safetensors, and a manifest with every member's SHA-256 checksum.

    Parameters
    ----------
    estimator : BaseGANDetector, Pipeline, ColumnTransformer, FeatureUnion, SeedEnsemble \
            or VotingDetector
        Fitted. Every step that is not a detector must be a type ``skops.io`` stores
        (scikit-learn's estimators, NumPy functions, ...); a type that loading would
        have to trust explicitly is named in a warning.
    path : str or path-like
        Where to write. The file is written next to it first and then moved into
        place, so an existing file is never left half-written.

    Returns
    -------
    estimator : object
        ``estimator``, unchanged.
    """
    if isinstance(estimator, BaseGANDetector):
        _persistence.save(estimator, path)
        return estimator
    detectors = []

    def take(detector):
        detectors.append(detector)
        return DetectorSlot(len(detectors) - 1)

    skeleton = _replace_detectors(estimator, take)
    import skops.io  # here, not at the top: importing it costs more than a second

    try:
        skeleton_bytes = skops.io.dumps(skeleton)
    except Exception as exc:  # skops names the type it cannot store
        raise TypeError(
            f"skgan_ad.save cannot store this {type(estimator).__name__}: {exc}. It stores a "
            "detector, or a Pipeline, ColumnTransformer, FeatureUnion, SeedEnsemble or "
            "VotingDetector "
            "whose steps are detectors and scikit-learn transformers.") from None
    untrusted = _untrusted_types(skeleton_bytes)
    if untrusted:
        warnings.warn(
            f"loading this file will need trusted={untrusted!r} in skgan_ad.load: these "
            "types are not among those loaded without asking.", UserWarning, stacklevel=2)
    members = {_SKELETON: skeleton_bytes}
    with tempfile.TemporaryDirectory() as folder:
        for index, detector in enumerate(detectors):
            detector_path = Path(folder) / f"detector-{index}.safetensors"
            _persistence.save(detector, detector_path)
            members[detector_path.name] = detector_path.read_bytes()
    manifest = {
        "format": ARCHIVE_FORMAT,
        "format_version": ARCHIVE_VERSION,
        "skgan_ad_version": __version__,
        "sklearn_version": sklearn.__version__,
        "skops_version": version("skops"),
        "detectors": len(detectors),
        "sha256": {name: _sha256(data) for name, data in members.items()},
    }
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
        for name, data in members.items():
            archive.writestr(name, data)
    partial.replace(path)
    return estimator


def _untrusted_types(skeleton_bytes):
    import skops.io

    return [name for name in skops.io.get_untrusted_types(data=skeleton_bytes)
            if name not in _own_trusted_types()]


def _read_archive(path):
    """The archive's manifest and members, each checked against its checksum."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is not a readable skgan_ad model file (corrupted or "
                             f"truncated?): {exc}") from None
    try:
        manifest = json.loads(members.pop(_MANIFEST))
        if manifest["format"] != ARCHIVE_FORMAT:
            raise ValueError(f"format {manifest['format']!r}")
        version = int(manifest["format_version"])
        checksums = dict(manifest["sha256"])
        n_detectors = int(manifest["detectors"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} is a zip file but not an skgan_ad model archive "
                             f"(its manifest is missing or damaged: {exc!r}).") from None
    if version > ARCHIVE_VERSION:
        raise ModelFileError(
            f"{path} has model archive format {version}, written by skgan_ad "
            f"{manifest.get('skgan_ad_version')}; this skgan_ad ({__version__}) reads "
            f"format {ARCHIVE_VERSION} and older. Upgrade skgan_ad to load it.")
    expected = {_SKELETON, *(f"detector-{i}.safetensors" for i in range(n_detectors))}
    if set(members) != expected or set(checksums) != expected:
        raise ModelFileError(f"{path} does not hold the members its manifest lists: "
                             f"{sorted(members)} against {sorted(checksums)}.")
    for name, data in members.items():
        if _sha256(data) != checksums[name]:
            raise ModelFileError(f"{path} fails its checksum: {name} is corrupted.")
    for name in ("skgan_ad_version", "sklearn_version"):
        written_by = manifest.get(name)
        running = __version__ if name == "skgan_ad_version" else sklearn.__version__
        if written_by != running:
            warnings.warn(f"{path} was written with {name.removesuffix('_version')} "
                          f"{written_by} and is loaded with {running}; check its scores.",
                          UserWarning, stacklevel=3)
    return members, n_detectors


def load(path, *, device=None, trusted=()):
    """Load a detector or a Pipeline written by :func:`save` (or ``detector.save``).

    Loading runs no code from the file. A detector file holds only tensors and JSON,
    and the class it names must be a detector of this package. An archive's
    scikit-learn part is read by ``skops.io``, which builds only the types it trusts:
    scikit-learn's own and NumPy's, and those named in ``trusted``; any other type the
    file names is refused by name before anything is built.

    Parameters
    ----------
    path : str or path-like
        The model file.
    device : str, torch.device or None, default=None
        Device of the loaded detectors' networks; ``None`` keeps the saved ``device``
        parameter (``"auto"`` unless the model was fitted with an explicit device).
    trusted : sequence of str, default=()
        Further types (``"module.qualname"``) an archive may build, for transformers
        of your own that you know to be safe: read the names the error lists, and
        pass those you trust.

    Returns
    -------
    estimator : object
        The fitted detector or Pipeline; it scores exactly as the saved one.

    Raises
    ------
    skgan_ad.exceptions.ModelFileError
        If the file is not a readable skgan_ad model file, was written by a newer
        format, fails its checksum, names a type that is not trusted, or its weights do
        not fit the named detector.
    """
    with open(path, "rb") as file:
        is_archive = file.read(len(_ZIP_MAGIC)) == _ZIP_MAGIC
    classes = _detector_classes()
    if not is_archive:
        return _persistence.load(path, classes, device=device)
    members, n_detectors = _read_archive(path)
    skeleton_bytes = members[_SKELETON]
    try:
        untrusted = _untrusted_types(skeleton_bytes)
    except Exception as exc:  # not a skops payload at all
        raise ModelFileError(f"{path}: its scikit-learn part is not readable by skops.io: "
                             f"{exc}") from None
    refused = [name for name in untrusted if name not in trusted]
    if refused:
        raise ModelFileError(
            f"{path} names types that are not trusted: {refused}. Nothing was loaded. If "
            "you know them to be safe (your own transformers, say), pass "
            f"trusted={refused!r} to skgan_ad.load.")
    import skops.io

    try:
        skeleton = skops.io.loads(skeleton_bytes, trusted=[*_own_trusted_types(), *untrusted])
    except Exception as exc:
        raise ModelFileError(f"{path}: its scikit-learn part failed to load: {exc}") from None
    detectors = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(n_detectors):
            detector_path = Path(folder) / f"detector-{index}.safetensors"
            detector_path.write_bytes(members[detector_path.name])
            try:
                with warnings.catch_warnings():
                    # The manifest's versions were checked above, for the whole file.
                    warnings.filterwarnings("ignore", "was written by skgan_ad")
                    detectors.append(_persistence.load(detector_path, classes, device=device))
            except ModelFileError as exc:
                raise ModelFileError(str(exc).replace(
                    str(detector_path), f"{path} ({detector_path.name})")) from None

    def restore(slot):
        if not isinstance(slot, DetectorSlot) or not 0 <= slot.index < len(detectors):
            raise ModelFileError(f"{path} has a detector step that its archive does not hold.")
        return detectors[slot.index]

    return _replace_detectors(skeleton, restore)
