"""Scaling out on existing engines: Dask for search and scoring, Accelerate for training.

An optional module: it needs the ``distributed`` extra (``pip install
skgan_ad[distributed]``), and ``import skgan_ad`` never imports it, Dask or Accelerate.

* **Hyper-parameter search on a cluster** needs nothing from here: the detectors are
  plain scikit-learn estimators, so ``GridSearchCV`` runs its fits on a Dask cluster
  under ``joblib.parallel_config(backend="dask")``.
* **Scoring data larger than memory**: :func:`score_dask_array` scores a chunked
  ``dask.array`` block by block.
* **Multi-GPU training**: inside :func:`accelerated_training`, detectors train through a
  HuggingFace ``Accelerator`` (data-parallel over the processes of ``accelerate
  launch``, mixed precision), by way of :class:`AcceleratedAdversarialNet`.
"""

import contextlib
import functools
import importlib
import itertools
import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch.hf import AccelerateMixin

from ._engine import AdversarialNet, net_factory

__all__ = ["AcceleratedAdversarialNet", "accelerated_training", "score_dask_array"]

#: Scoring methods :func:`score_dask_array` maps over the blocks, with their dtypes.
_SCORING_METHODS = {"decision_function": np.float64, "score_samples": np.float64,
                    "predict": np.dtype(int)}


def _import_extra(module):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"skgan_ad.distributed needs {module.split('.')[0]}, which is "
                          "not installed: pip install skgan_ad[distributed]") from exc


def _score_block(block, detector, method):
    return getattr(detector, method)(block)


def score_dask_array(detector, X, method="decision_function"):
    """Score a chunked ``dask.array`` with a fitted detector, one block at a time.

    Each block of rows is scored by ``detector.<method>`` wherever Dask runs its
    tasks (threads, processes or a cluster), so only a few blocks are in memory at
    once and ``X`` may be larger than memory. dask-ml's ``ParallelPostFit`` wraps
    ``predict`` only; this also maps ``decision_function`` and ``score_samples``.

    Parameters
    ----------
    detector : estimator
        A fitted detector, or a fitted Pipeline ending in one.
    X : dask.array.Array of shape (n_samples, n_features)
        The data, chunked along the rows. Chunks that split the columns are merged
        (with a warning): each block must hold whole rows.
    method : {"decision_function", "score_samples", "predict"}, \
            default="decision_function"
        The detector's method to apply to each block.

    Returns
    -------
    scores : dask.array.Array of shape (n_samples,)
        Lazy: nothing is scored until it is computed. Its chunks are the row chunks
        of ``X``; float64, or int for ``predict``.

    Examples
    --------
    >>> import dask.array as da
    >>> from skgan_ad import EGBAD
    >>> from skgan_ad.distributed import score_dask_array
    >>> X = da.random.default_rng(0).normal(size=(1000, 4), chunks=(250, 4))
    >>> detector = EGBAD(epochs=1, min_steps=0, random_state=0).fit(X[:200].compute())
    >>> scores = score_dask_array(detector, X)
    >>> scores.chunks
    ((250, 250, 250, 250),)
    >>> scores.compute().shape
    (1000,)
    """
    da = _import_extra("dask.array")
    if method not in _SCORING_METHODS:
        raise ValueError(f"method={method!r} is not one of {sorted(_SCORING_METHODS)}.")
    check_is_fitted(detector)
    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array, not {type(X).__name__}; score an "
                        f"in-memory array with detector.{method}(X) directly.")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows x features), but it has {X.ndim} "
                         f"dimension(s), shape {X.shape}.")
    if np.isnan(X.shape[1]):
        raise ValueError("X has an unknown number of columns; call "
                         "X.compute_chunk_sizes() first.")
    expected = getattr(detector, "n_features_in_", X.shape[1])
    if X.shape[1] != expected:
        raise ValueError(f"X has {X.shape[1]} features, but the detector was fitted "
                         f"on {expected}.")
    if len(X.chunks[1]) > 1:
        warnings.warn(f"X is chunked along its columns too ({len(X.chunks[1])} column "
                      "chunks), but each block must hold whole rows: rechunking it to "
                      "one column chunk. Chunk X as X.rechunk({1: -1}) to avoid this.",
                      UserWarning, stacklevel=2)
        X = X.rechunk({1: -1})
    dtype = _SCORING_METHODS[method]
    # The detector enters the graph once, as a delayed object, not once per block.
    return X.map_blocks(_score_block, _import_extra("dask").delayed(detector, pure=True),
                        method, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype))


class _ProcessShare:
    """This process's share of each epoch's batches, moved to the accelerator's device.

    Every process shuffles alike (the same seed) and takes every ``num_processes``-th
    batch, so the processes train on disjoint batches and on as many of them each:
    data-parallel training synchronises the processes at every step.
    """

    def __init__(self, batches, accelerator):
        self.batches = batches
        self.accelerator = accelerator

    def __len__(self):
        return len(self.batches) // self.accelerator.num_processes

    def __iter__(self):
        n_processes = self.accelerator.num_processes
        share = itertools.islice(self.batches, self.accelerator.process_index,
                                 len(self) * n_processes, n_processes)
        for batch in share:
            yield tuple(part.to(self.accelerator.device) for part in batch)


class AcceleratedAdversarialNet(AccelerateMixin, AdversarialNet):
    """:class:`~skgan_ad._engine.AdversarialNet` trained through HuggingFace Accelerate.

    skorch's :class:`~skorch.hf.AccelerateMixin` prepares the modules and optimizers
    (device placement, ``DistributedDataParallel`` over processes, mixed precision);
    this class adds what a net with several modules and a method-supplied step needs:
    :meth:`backward` goes through ``accelerator.backward``, each process trains on its
    share of every epoch's batches (``batch_size`` is per process), and after training
    the unwrapped modules score on the accelerator's device.

    Detectors build it inside :func:`accelerated_training`; it takes the parameters of
    ``AdversarialNet`` plus ``accelerator`` and leaves ``device`` to the accelerator.
    """

    def _initialize_accelerator(self):
        # Modules with nothing to train (the moving averages, fixed tensors) go to the
        # accelerator's device but are not wrapped for data-parallel training, which
        # refuses them, so AccelerateMixin does not see them.
        untrained = [name for name in self._modules if not any(
            parameter.requires_grad for parameter in getattr(self, name + "_").parameters())]
        with self._current_init_context("module"):
            for name in untrained:
                setattr(self, name + "_", self.accelerator.prepare_model(
                    getattr(self, name + "_"), evaluation_mode=True))
        modules = self._modules
        self._modules = [name for name in modules if name not in untrained]
        try:
            return super()._initialize_accelerator()
        finally:
            self._modules = modules

    def get_iterator(self, dataset, training=False):
        batches = super().get_iterator(dataset, training=training)
        n_processes = self.accelerator.num_processes
        if len(batches) < n_processes:
            raise ValueError(
                f"{len(dataset)} rows make {len(batches)} batch(es) per epoch, too few for "
                f"{n_processes} processes to take one each; use batch_size <= "
                f"{len(dataset) // n_processes} or fewer processes.")
        return _ProcessShare(batches, self.accelerator)

    def train_step(self, batch, **fit_params):
        # AccelerateMixin.train_step accumulates over ``module_``; this net's modules
        # are several.
        modules = [getattr(self, name + "_") for name in self.module_names_]
        with self.accelerator.accumulate(*modules):
            return super(AccelerateMixin, self).train_step(batch, **fit_params)

    def backward(self, loss):
        # Through the accelerator: its loss scaling and gradient accumulation.
        self.accelerator.backward(loss)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if self.ensemble_size > 1 and self.accelerator.num_processes > 1:
            raise ValueError(
                "ensemble_size > 1 trains one random generator/discriminator pair per "
                "step, which data-parallel training over several processes cannot "
                "synchronise; fit it in one process, or with ensemble_size=1.")
        seeds = _import_extra("accelerate.utils").gather_object([self.seed])
        if len(set(seeds)) > 1:
            raise ValueError("the processes fit detectors with different random states, so "
                             "they would shuffle differently; give the detector an int "
                             "random_state for training with several processes.")
        if self.accelerator.process_index:
            # Each process draws its own latent noise; process 0 draws what a
            # single-process fit does.
            torch.manual_seed(self.seed + self.accelerator.process_index)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if self.accelerator.num_processes > 1:
            # The averaged gradients keep the weights equal, but each process updates
            # batch-norm statistics from its own batches after the last broadcast;
            # process 0's make every process's model the same.
            broadcast = _import_extra("accelerate.utils").broadcast
            for name in self.module_names_:
                for buffer in getattr(self, name + "_").buffers():
                    buffer.copy_(broadcast(buffer.clone(), from_process=0))
        # The unwrapped modules stay where the accelerator put them; scoring moves each
        # batch to ``device``.
        self.device = str(self.accelerator.device)


def _accelerated_net(accelerator, *, device, verbose, **net_params):
    # The accelerator places the modules and batches, so skorch's device stays unset.
    # The epoch log goes through the accelerator's print (main process only) when
    # verbose; skorch's PrintLog would print to any other sink even at verbose=0.
    return AcceleratedAdversarialNet(
        accelerator=accelerator, device=None, verbose=verbose,
        callbacks__print_log__sink=accelerator.print if verbose else print, **net_params)


@contextlib.contextmanager
def accelerated_training(accelerator):
    """Train the detectors fitted in this block through a HuggingFace ``Accelerator``.

    Run the script with ``accelerate launch`` to train on several GPUs (or processes)
    at once: each process trains on its share of every epoch's batches
    (``batch_size`` rows per process per step) and the gradients are averaged across
    processes, so every process ends with the same networks. The accelerator's mixed
    precision (``"bf16"``) and device placement apply; the detector's ``device`` is
    not used. The fitted detector is an ordinary one: it scores, saves and loads as
    usual, on the accelerator's device.

    The setting holds for this block in this thread, like
    ``joblib.parallel_config``; fits in other threads train as usual. Fit the
    detectors inside the block; score, save and load them after it.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        The accelerator to train with, in full precision or
        ``mixed_precision="bf16"`` (fp16 is refused: see Raises).

    Yields
    ------
    accelerator : accelerate.Accelerator
        The same accelerator.

    Raises
    ------
    TypeError
        If ``accelerator`` is not an ``accelerate.Accelerator``.
    ValueError
        If it uses fp16 mixed precision, whose one loss scaler the several optimizers
        of a GAN update cannot share.

    Examples
    --------
    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from skgan_ad import ALAD
    >>> from skgan_ad.distributed import accelerated_training
    >>> X = np.random.RandomState(0).normal(size=(200, 4))
    >>> with accelerated_training(Accelerator(cpu=True)):
    ...     detector = ALAD(epochs=1, min_steps=0, random_state=0).fit(X)
    >>> detector.score_samples(X).shape
    (200,)
    """
    accelerate = _import_extra("accelerate")
    if not isinstance(accelerator, accelerate.Accelerator):
        raise TypeError(f"accelerator must be an accelerate.Accelerator, not "
                        f"{type(accelerator).__name__}.")
    if accelerator.mixed_precision == "fp16":
        raise ValueError("fp16 mixed precision is not supported: accelerate's one loss "
                         "scaler updates its scale after each optimizer's step, and a GAN "
                         "update steps several optimizers after one backward pass. Use "
                         "mixed_precision='bf16'.")
    token = net_factory.set(functools.partial(_accelerated_net, accelerator))
    try:
        yield accelerator
    finally:
        net_factory.reset(token)
