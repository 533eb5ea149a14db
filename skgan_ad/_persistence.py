"""Model files that load without running code: safetensors weights, JSON settings.

A pickle (or joblib) file runs code when it is loaded, so a model file from someone
else is only as safe as its sender. :func:`save` writes a fitted detector as one
safetensors file instead: the weights as tensors, and the hyper-parameters and fitted
scalars as JSON in the file's metadata. :func:`load` reads it back without unpickling
anything, rebuilds the estimator from its class name (only classes already imported,
never importing a module named in the file), and checks the format version, a
checksum of the weights and every tensor's name and shape.
"""

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from skorch.history import History
from sklearn.utils.validation import check_is_fitted

from ._engine import resolve_device
from ._version import __version__
from .exceptions import ModelFileError

__all__ = ["load", "save"]

#: Marks a file as an skgan_ad model; the version changes when the layout does.
FILE_FORMAT = "skgan_ad.model"
FORMAT_VERSION = 1

# Fitted attributes kept elsewhere in the file: the net as tensors, the history as JSON.
_NET_ATTRIBUTES = ("net_", "history_")


def _checksum(tensors):
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].numpy().tobytes())
    return digest.hexdigest()


def _encode_param(name, value):
    if isinstance(value, tuple):
        return {"tuple": [_encode_param(name, item) for item in value]}
    if isinstance(value, torch.device):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    raise TypeError(f"hyper-parameter {name}={value!r} cannot be stored in a model file")


def _decode_param(value):
    if isinstance(value, dict):
        return tuple(_decode_param(item) for item in value["tuple"])
    return value


def _storable_params(estimator):
    params = estimator.get_params(deep=False)
    if params.get("callbacks"):
        warnings.warn("callbacks are code and are not stored in the model file; the loaded "
                      "estimator has callbacks=None.", UserWarning, stacklevel=3)
        params["callbacks"] = None
    if not (params.get("random_state") is None
            or isinstance(params["random_state"], (int, np.integer))):
        warnings.warn("a RandomState instance cannot be stored; the loaded estimator has "
                      "random_state=None (it only matters for refitting).", UserWarning,
                      stacklevel=3)
        params["random_state"] = None
    return {name: _encode_param(name, value) for name, value in params.items()}


def _fitted_attributes(estimator):
    """Split the estimator's fitted attributes into JSON values and tensors."""
    values, tensors = {}, {}
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_") or name in _NET_ATTRIBUTES:
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
            values[name] = {"str_array": [str(item) for item in value]}
        elif value is None or isinstance(value, tuple):
            values[name] = _encode_param(name, value)
        elif isinstance(value, (np.ndarray, torch.Tensor)):
            tensors[f"attribute/{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
        elif isinstance(value, (bool, int, float, str, np.integer, np.floating)):
            values[name] = value.item() if isinstance(value, np.generic) else value
        else:
            raise TypeError(f"fitted attribute {name} of type {type(value).__name__} "
                            "cannot be stored in a model file")
    return values, tensors


def save(estimator, path):
    """Write a fitted detector to ``path`` as a safetensors file.

    Parameters
    ----------
    estimator : BaseGANDetector
        A fitted detector.
    path : str or path-like
        Where to write. The file is written next to it first and then moved into
        place, so an existing file is never left half-written.
    """
    check_is_fitted(estimator)
    net = estimator.net_
    tensors = {f"module/{module}/{key}": tensor.detach().cpu().contiguous().clone()
               for module, state in net.modules_state().items()
               for key, tensor in state.items()}
    values, attribute_tensors = _fitted_attributes(estimator)
    tensors.update(attribute_tensors)
    cls = type(estimator)
    # Per-epoch history only: the per-batch losses would dominate the file's size.
    history = [{key: value for key, value in row.items() if key != "batches"}
               for row in net.history]
    metadata = {
        "format": FILE_FORMAT,
        "format_version": str(FORMAT_VERSION),
        "skgan_ad_version": __version__,
        "torch_version": torch.__version__,
        "estimator": f"{cls.__module__}.{cls.__qualname__}",
        "params": json.dumps(_storable_params(estimator)),
        "fitted": json.dumps(values),
        "ema_updates": str(net.ema_updates_),
        "history": json.dumps(history),
        "sha256": _checksum(tensors),
    }
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, partial, metadata=metadata)
    os.replace(partial, path)


def _read(path):
    try:
        with safe_open(path, framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    except FileNotFoundError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path} is not a readable skgan_ad model file "
                             f"(corrupted or truncated?): {exc}") from None
    if metadata.get("format") != FILE_FORMAT:
        raise ModelFileError(f"{path} is a safetensors file but not an skgan_ad model "
                             "(its metadata has no skgan_ad format marker).")
    return metadata, tensors


def load(path, classes, *, device=None):
    """Read a detector from ``path``, of one of ``classes`` (``{"module.qualname": class}``).

    :func:`skgan_ad.load` documents the behaviour; ``device=None`` keeps the saved one.
    """
    metadata, tensors = _read(path)
    try:
        version = int(metadata["format_version"])
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} has model file format {version}, written by skgan_ad "
                f"{metadata.get('skgan_ad_version')}; this skgan_ad ({__version__}) reads "
                f"format {FORMAT_VERSION} and older. Upgrade skgan_ad to load it.")
        if _checksum(tensors) != metadata["sha256"]:
            raise ModelFileError(f"{path} fails its checksum: the weights are corrupted.")
        if metadata["estimator"] not in classes:
            raise ModelFileError(f"{path} holds a model of class {metadata['estimator']}, which is not a "
                                 "detector known to this skgan_ad.")
        params = {name: _decode_param(value)
                  for name, value in json.loads(metadata["params"]).items()}
        fitted = json.loads(metadata["fitted"])
        history = json.loads(metadata["history"])
        ema_updates = int(metadata["ema_updates"])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{path} has damaged skgan_ad metadata: {exc!r}") from None
    if metadata.get("skgan_ad_version") != __version__:
        warnings.warn(f"{path} was written by skgan_ad {metadata.get('skgan_ad_version')} "
                      f"and is loaded by {__version__}; check its scores.", UserWarning,
                      stacklevel=2)

    cls = classes[metadata["estimator"]]
    try:
        estimator = cls(**params)
        if device is not None:
            estimator.set_params(device=device)
        estimator._validate_params()
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: its hyper-parameters do not fit {cls.__name__}: "
                             f"{exc}") from None
    for name, value in fitted.items():
        if isinstance(value, dict) and "str_array" in value:
            value = np.asarray(value["str_array"], dtype=object)
        setattr(estimator, name, _decode_param(value))
    for name, tensor in tensors.items():
        if name.startswith("attribute/"):
            setattr(estimator, name.removeprefix("attribute/"), tensor.numpy())

    net = estimator._make_net(seed=0, device=resolve_device(estimator.device))
    net.initialize()
    states = {module: {} for module in net.module_names_}
    for name, tensor in tensors.items():
        if name.startswith("module/"):
            module, key = name.removeprefix("module/").split("/", 1)
            if module not in states:
                raise ModelFileError(f"{path} has weights for a module {module!r} that "
                                     f"{cls.__name__} does not have.")
            states[module][key] = tensor
    for module, state in states.items():
        if not all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point()):
            raise ModelFileError(f"{path} has non-finite weights in {module}.")
        try:
            getattr(net, module + "_").load_state_dict(state)
        except RuntimeError as exc:
            details = " ".join(str(exc).split())
            raise ModelFileError(f"{path}: the weights of {module} do not fit "
                                 f"{cls.__name__}'s networks: {details}") from None
    net.ema_updates_ = ema_updates
    net.history = History(history)
    estimator.net_, estimator.history_ = net, net.history
    return estimator
