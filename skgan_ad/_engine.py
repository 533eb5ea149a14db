"""The adversarial training engine: one skorch net that trains any set of modules.

Every detector trains through :class:`AdversarialNet`. A method supplies its named
modules, the grouping of those modules into optimizers, its training phases and a
training step that updates them from one batch. The step asks the net for what it
needs (noise, the current phase, epoch and batch, :meth:`AdversarialNet.minimise`),
and the net does the rest the way skorch does it: epochs, device placement, gradient
scaling, callbacks (progress bar, history, ``on_grad_computed``, user callbacks),
pickling, and an exponential moving average of the weights for scoring.
"""

import contextlib
import contextvars
import copy
import itertools
import math
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.callbacks import PassthroughScoring
from skorch.utils import TeeGenerator
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm

from .exceptions import TrainingDivergedError
from .networks.gan_ensemble import ModuleBank, is_discriminator
from .networks.members import copy_member, stack_members

__all__ = ["AdversarialNet", "FitAborted", "net_factory", "pad_rows", "resolve_device"]


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available; "
                         "use device='auto' or 'cpu'.")
    return str(resolved)


class FitAborted(Exception):
    """Fit was interrupted before its first epoch finished: there is no model to keep."""


class _BatchIterator:
    """Mini-batches sliced from one float32 tensor by shuffled indices, ``passes`` times.

    Yields ``(x, x_other)``: ``x_other`` is drawn from an independent shuffle, as the
    official BiGAN/ALAD code feeds the generator/encoder update a different batch from
    the discriminator update; it is ``x`` itself when ``independent_batches`` is False.
    Like the official code, the remainder that does not fill a batch is dropped in each
    pass (a data set smaller than one batch is used whole). Each pass is shuffled anew.
    """

    def __init__(self, X, batch_size, generator, independent_batches, passes=1):
        self.X = X
        self.batch_size = min(batch_size, len(X))
        self.generator = generator
        self.independent_batches = independent_batches
        self.passes = passes

    @property
    def batches_per_pass(self):
        return self.whole_batches(len(self.X), self.batch_size)

    @staticmethod
    def whole_batches(n_rows, batch_size):
        """Batches in one pass over ``n_rows`` rows (all rows when fewer than a batch)."""
        return n_rows // min(batch_size, n_rows)

    def __len__(self):
        return self.passes * self.batches_per_pass

    def _order(self):
        return torch.randperm(len(self.X), generator=self.generator)

    def __iter__(self):
        for _ in range(self.passes):
            order = self._order()
            other = self._order() if self.independent_batches else order
            for start in range(0, self.batches_per_pass * self.batch_size,
                               self.batch_size):
                x = self.X[order[start:start + self.batch_size]]
                x_other = (x if other is order
                           else self.X[other[start:start + self.batch_size]])
                yield x, x_other


class _MemberBatches:
    """The batches of several members' iterators, member-major: each member's batch,
    one after the other, in one tensor."""

    def __init__(self, iterators):
        self.iterators = iterators

    def __len__(self):
        return len(self.iterators[0])

    def __iter__(self):
        for batches in zip(*self.iterators):
            yield tuple(torch.cat(parts) for parts in zip(*batches))


class _EpochLoss(PassthroughScoring):
    """The epoch's mean of one loss over the batches that computed it; NaN if none did.

    A method's phases compute different losses (f-AnoGAN's encoder phase has no critic
    loss); recording NaN keeps every epoch's row, and so every column of the printed
    log, the same.
    """

    def __init__(self, name):
        super().__init__(name, lower_is_better=None, on_train=True)

    def on_epoch_end(self, net, **kwargs):
        try:
            score = self.get_avg_score(net.history)
        except KeyError:
            score = math.nan
        net.history.record(self.name, score)


class AdversarialNet(NeuralNet):
    """skorch net holding several modules and optimizers, trained by a supplied step.

    Parameters
    ----------
    build_modules : callable
        ``build_modules() -> dict[str, torch.nn.Module]``. Each module is registered
        with skorch as ``<name>_`` (device placement, ``set_params`` prefixes,
        pickling, checkpoints).
    optimizer_groups : dict of str to tuple
        Optimizer name (registered as ``<name>_``) to the names of the modules it
        updates, or to ``(module names, factory)`` for a group that needs its own kind
        of optimizer: ``factory(param_groups)`` then builds it with its own settings,
        in place of the net's ``optimizer`` and ``lr``.
    step : callable
        ``step(net, x, x_other) -> dict[str, torch.Tensor]`` performs every update of
        one training iteration through :meth:`minimise` and returns the named losses;
        each is recorded in the batch history and averaged per epoch. ``train_loss``
        is their sum.
    loss_names : tuple of str
        Names of the losses ``step`` may return.
    phases : tuple of (str, int)
        The training phases in order, each with its number of epochs; ``max_epochs``
        is their total, and :attr:`phase` names the current one.
    ema_decay : float or None
        Decay of an exponential moving average of the weights of ``ema_modules``; the
        averaged copies (``<name>_ema_``) are the ones :meth:`scoring_module` returns;
        they start from the initial weights, as TensorFlow's averages do. At the end of training, the spectral norms of the averaged copies are fitted
        to the averaged weights (:func:`refit_spectral_norms`).
    ema_warmup : bool
        Whether the decay is capped by ``(1 + t) / (10 + t)`` at update ``t``
        (TensorFlow's ``num_updates`` warm-up), so that a short training is not
        averaged towards the random initial weights.
    ema_modules : tuple of str
        Modules to average.
    independent_batches : bool
        Whether ``step`` receives a second, independently shuffled batch as
        ``x_other`` (otherwise ``x_other`` is ``x``).
    seed : int
        Seed of the batch order.
    member_seeds : tuple of int or None
        Train one stacked network per module for several members at once (see
        :mod:`skgan_ad.networks.members`): member ``m`` is built after
        ``torch.manual_seed(member_seeds[m])`` and reads its own batch order, seeded
        by the same seed, so it starts and walks through the data as the single net
        of that seed does; the losses of each member's rows are its own. ``None``
        (default) trains one network, seeded by ``seed``.
    ensemble_size : int
        Generators and discriminators trained together as Han, Chen and Liu's GAN
        ensemble (:mod:`skgan_ad.networks.gan_ensemble`): each module is a
        :class:`~skgan_ad.networks.gan_ensemble.ModuleBank` of this many copies,
        every step trains one random pair (:meth:`use_pair`) and
        :meth:`score_in_batches` averages the score over all pairs. 1 (default) is
        one GAN.
    min_steps : int
        Fewest training steps (batches) of a fit. When the phases' epochs give fewer,
        every epoch makes the same number of passes, the fewest that reach
        ``min_steps``; epochs keep their meaning for the phases and the history.
        0 trains exactly one pass per epoch.
    precision : {"float32", "bfloat16", "float16"}
        Precision of the forward passes: "float32", or mixed precision through
        :func:`torch.autocast` with that dtype (weights, optimizer state and moving
        averages stay float32). "float16" scales the losses with a
        :class:`torch.amp.GradScaler` (``grad_scaler_``) so small gradients survive.
    compile : bool, default=False
        skorch's parameter: whether every module (moving averages included) is compiled
        in place with :meth:`torch.nn.Module.compile`, with the keyword arguments given
        as ``compile__<name>`` (e.g. ``compile__mode="reduce-overhead"``). In-place
        compilation keeps the modules' names, state dicts and pickling as they are.
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``optimizer``, ``lr``, ``batch_size``,
        ``callbacks``, ``device``, ``verbose``...).
    """

    def __init__(self, build_modules, optimizer_groups, step, loss_names, *,
                 phases=(("train", 1),), ema_decay=None, ema_warmup=False,
                 ema_modules=(), independent_batches=False, seed=0, member_seeds=None,
                 ensemble_size=1, min_steps=0, precision="float32", **kwargs):
        kwargs.setdefault("train_split", None)
        kwargs.setdefault("max_epochs", sum(epochs for _, epochs in phases))
        super().__init__(module=None, criterion=None, **kwargs)
        self.build_modules = build_modules
        self.optimizer_groups = optimizer_groups
        self.step = step
        self.loss_names = loss_names
        self.phases = phases
        self.ema_decay = ema_decay
        self.ema_warmup = ema_warmup
        self.ema_modules = ema_modules
        self.independent_batches = independent_batches
        self.seed = seed
        self.member_seeds = member_seeds
        self.ensemble_size = ensemble_size
        self.min_steps = min_steps
        self.precision = precision

    @property
    def _default_callbacks(self):
        return [*super()._default_callbacks,
                *((name, _EpochLoss(name)) for name in self.loss_names)]

    @property
    def n_members(self):
        """Members trained at once: the rows of a batch belong to this many networks."""
        return 1 if self.member_seeds is None else len(self.member_seeds)

    def _gan_ensemble_modules(self):
        """One detector's modules: ``build_modules()``, or banks of ``ensemble_size``
        copies, each drawn afresh."""
        if self.ensemble_size == 1:
            return self.build_modules()
        copies = [self.build_modules() for _ in range(self.ensemble_size)]
        return {name: ModuleBank([modules[name] for modules in copies])
                for name in copies[0]}

    def _built_modules(self):
        if self.member_seeds is None:
            return self._gan_ensemble_modules()
        members = []
        for seed in self.member_seeds:
            torch.manual_seed(seed)
            members.append(self._gan_ensemble_modules())
        return {name: stack_members([modules[name] for modules in members])
                for name in members[0]}

    def initialize_module(self):
        self.module_names_ = []
        for name, module in self._built_modules().items():
            setattr(self, name + "_", module)
            self.module_names_.append(name)
        for name in self.ema_modules if self.ema_decay is not None else ():
            average = copy.deepcopy(getattr(self, name + "_")).requires_grad_(False)
            setattr(self, name + "_ema_", average)
            self.module_names_.append(name + "_ema")
        self.ema_updates_ = 0
        if self.compile:
            for name in self.module_names_:
                getattr(self, name + "_").compile(**self.get_params_for("compile"))
        return self

    def use_pair(self, generator, discriminator):
        """Make generator ``generator`` (with its encoders) and discriminator
        ``discriminator`` the ones that run, in a GAN ensemble (``ensemble_size``)."""
        # Looked up each time, not kept: pickling copies the modules apart from the net.
        for name in self.module_names_:
            for bank in getattr(self, name + "_").modules():
                if isinstance(bank, ModuleBank):
                    bank.active = discriminator if is_discriminator(name) else generator

    def copy_member_into(self, member, net):
        """Write member ``member``'s weights, moving averages and batch-norm
        statistics into ``net``, an initialised single net of the same detector, and
        give it this net's history and moving-average count."""
        for name in self.module_names_:
            copy_member(getattr(self, name + "_"), member, getattr(net, name + "_"))
        net.history = copy.deepcopy(self.history)
        net.ema_updates_ = self.ema_updates_
        return net

    def modules_state(self):
        """Every module's ``state_dict`` (moving averages included), by module name."""
        return {name: getattr(self, name + "_").state_dict() for name in self.module_names_}

    def initialize_criterion(self):
        # The losses belong to each method's step, not to a skorch criterion.
        return self

    def initialize_optimizer(self, *_, **__):
        for group, spec in self.optimizer_groups.items():
            module_names, factory = spec if callable(spec[-1]) else (spec, None)
            named_params = itertools.chain.from_iterable(
                getattr(self, name + "_").named_parameters() for name in module_names)
            args, kwargs = self.get_params_for_optimizer(group, named_params)
            optimizer = self.optimizer(*args, **kwargs) if factory is None else factory(*args)
            setattr(self, group + "_", optimizer)
        self.grad_scaler_ = (torch.amp.GradScaler(torch.device(self.device).type)
                             if self.precision == "float16" else None)
        return self

    # -- What a method's training step uses ------------------------------------------

    @property
    def epoch(self):
        """The current epoch, counted from 1 (skorch opens its history row first)."""
        return len(self.history)

    @property
    def batch_index(self):
        """The current batch of the epoch, counted from 0."""
        return len(self.history[-1, "batches"]) - 1

    @property
    def phase(self):
        """The name of the current training phase (see ``phases``)."""
        epochs_before = 0
        for name, epochs in self.phases:
            epochs_before += epochs
            if self.epoch <= epochs_before:
                return name
        return self.phases[-1][0]

    def sample_noise(self, n_rows, size):
        """Standard normal noise of shape ``(n_rows, size)`` on the batch's device."""
        return torch.randn(n_rows, size, device=self._batch_device)

    def backward(self, loss):
        """Back-propagate ``loss``, scaled when float16 training needs it."""
        if self.grad_scaler_ is not None:
            loss = self.grad_scaler_.scale(loss)
        loss.backward()

    def minimise(self, loss, *optimizers):
        """Take one step of ``optimizers`` down the gradient of ``loss``.

        Zeroes their gradients, back-propagates (:meth:`backward`), notifies the
        callbacks' ``on_grad_computed`` with the parameters about to be stepped (so
        :class:`skorch.callbacks.GradientNormClipping` and user callbacks see every
        update, with float16 gradients already unscaled), then steps them.
        """
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        # A loss is a mean over the rows of every member: times the members, each
        # member's weights get the gradient of the mean over its own rows.
        self.backward(loss * self.n_members if self.n_members > 1 else loss)
        scaler = self.grad_scaler_
        if scaler is not None:
            for optimizer in optimizers:
                scaler.unscale_(optimizer)
        self.notify("on_grad_computed", training=True, batch=self._batch,
                    named_parameters=TeeGenerator(self._named_parameters_of(optimizers)))
        for optimizer in optimizers:
            if scaler is None:
                optimizer.step()
            else:
                scaler.step(optimizer)
        if scaler is not None:
            scaler.update()

    def _named_parameters_of(self, optimizers):
        """``(module.parameter name, parameter)`` of the modules ``optimizers`` update."""
        for group, spec in self.optimizer_groups.items():
            if any(getattr(self, group + "_") is optimizer for optimizer in optimizers):
                module_names = spec[0] if callable(spec[-1]) else spec
                for name in module_names:
                    for key, parameter in getattr(self, name + "_").named_parameters():
                        yield f"{name}.{key}", parameter

    # -- The training loop -----------------------------------------------------------

    def forward_context(self):
        """The context of the forward passes: the net's ``precision`` and compilation."""
        context = contextlib.ExitStack()
        if self.precision != "float32":
            context.enter_context(torch.autocast(torch.device(self.device).type,
                                                 dtype=getattr(torch, self.precision)))
        if self.compile:
            # Every module of one class shares a compiled-code cache (e.g. ALAD's three
            # pair discriminators, each also in training, scoring and no-grad use);
            # torch's default of 8 entries would leave most of them uncompiled.
            context.enter_context(torch._dynamo.config.patch(recompile_limit=64))
        return context

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        passes = self.passes_per_epoch(len(dataset))
        iterators = [_BatchIterator(dataset, self.batch_size,
                                    torch.Generator().manual_seed(seed),
                                    self.independent_batches, passes)
                     for seed in (self.member_seeds or (self.seed,))]
        return iterators[0] if len(iterators) == 1 else _MemberBatches(iterators)

    def passes_per_epoch(self, n_rows):
        """Passes over ``n_rows`` rows in one epoch: 1, or enough to reach ``min_steps``."""
        batches_per_pass = _BatchIterator.whole_batches(n_rows, self.batch_size)
        return max(1, math.ceil(self.min_steps / (self.max_epochs * batches_per_pass)))

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        x, x_other = (part.to(self.device, non_blocking=True) for part in batch)
        self._batch, self._batch_device = batch, x.device
        if self.ensemble_size > 1:
            self.use_pair(*torch.randint(self.ensemble_size, (2,)).tolist())
        with self.forward_context():
            losses = self.step(self, x, x_other)
        # One device-to-host transfer for all losses, not one per loss.
        values = torch.stack([loss.detach() for loss in losses.values()]).tolist()
        for name, value in zip(losses, values):
            self.history.record_batch(name, value)
        diverged = [name for name, value in zip(losses, values) if not math.isfinite(value)]
        if diverged:
            raise TrainingDivergedError(
                f"training diverged: {diverged[0]} became "
                f"{values[list(losses).index(diverged[0])]} at epoch {self.epoch}, "
                f"batch {self.batch_index + 1}. Try a lower learning rate "
                f"(lr={self.lr} now) or scaling the features (e.g. StandardScaler).")
        self._update_ema()
        # A host tensor, so skorch's ``loss.item()`` does not synchronise again.
        return {"loss": torch.tensor(sum(values)), "y_pred": None}

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._last_epoch = None

    def on_epoch_end(self, net, **kwargs):
        # Kept in memory so that an interrupt can fall back to a finished epoch.
        self._last_epoch = (len(self.history), self.ema_updates_,
                            copy.deepcopy(self.modules_state()))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._last_epoch = None
        self._batch = self._batch_device = None
        for name in self.ema_modules if self.ema_decay is not None else ():
            refit_spectral_norms(getattr(self, name + "_ema_"))

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Run the epochs; on an interrupt keep the model of the last finished epoch.

        skorch stops quietly on ``KeyboardInterrupt``, leaving the weights of the
        interrupted batch; here they are replaced by those of the last finished epoch
        (and the history ends there), so the fitted model is one that really exists.
        With no finished epoch there is no model, and :class:`FitAborted` is raised.
        """
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            if self._last_epoch is None:
                raise FitAborted("interrupted before the first epoch finished") from None
            epochs_done, self.ema_updates_, states = self._last_epoch
            for name, state in states.items():
                getattr(self, name + "_").load_state_dict(state)
            del self.history[epochs_done:]
            warnings.warn(f"fit was interrupted; keeping the model of epoch {epochs_done}, "
                          "the last one that finished.", UserWarning, stacklevel=2)
            return self

    @torch.no_grad()
    def _update_ema(self):
        if self.ema_decay is None:
            return
        self.ema_updates_ += 1
        t = self.ema_updates_
        decay = (min(self.ema_decay, (1 + t) / (10 + t)) if self.ema_warmup
                 else self.ema_decay)
        for name in self.ema_modules:
            live, average = getattr(self, name + "_"), getattr(self, name + "_ema_")
            torch._foreach_lerp_(list(average.parameters()),
                                 list(live.parameters()), 1 - decay)
            # Batch-norm statistics are not averaged (tf.train.ExponentialMovingAverage
            # in the official code averages trainable variables only).
            for avg_buffer, buffer in zip(average.buffers(), live.buffers()):
                avg_buffer.copy_(buffer)

    def scoring_module(self, name):
        """The module used at scoring time: its moving average if there is one."""
        average = getattr(self, name + "_ema_", None)
        return average if average is not None else getattr(self, name + "_")

    def score_in_batches(self, X, score_fn, batch_size):
        """Apply ``score_fn(net, x_batch)`` to ``X`` in batches of ``batch_size`` rows.

        Every module is in eval mode, and every batch has exactly ``batch_size`` rows
        (the last one is padded with copies of its first row), so a row's score does
        not depend on the other rows nor on how many there are: matrix kernels pick
        their algorithm, and so their rounding, by the shape. ``X`` is a 2-D array of
        any float dtype or a sparse matrix; only one batch at a time is converted to
        float32 and moved to the device, so memory is bounded by the batch, not by
        ``X``.
        """
        self._set_training(False)
        n_rows = X.shape[0]
        scores = np.empty(n_rows, dtype=np.float64)
        with torch.no_grad(), self.forward_context():
            for start in range(0, n_rows, batch_size):
                rows = _float32_rows(X[start:start + batch_size])
                n_batch_rows = len(rows)
                x = pad_rows(torch.from_numpy(rows), batch_size).to(self.device)
                scores[start:start + n_batch_rows] = (
                    self._pairs_mean(score_fn, x)[:n_batch_rows].double().cpu().numpy())
        return scores

    def _pairs_mean(self, score_fn, x):
        """``score_fn(self, x)``; in a GAN ensemble, its mean over every generator and
        discriminator pair [Han et al.'s code]."""
        if self.ensemble_size == 1:
            return score_fn(self, x)
        total = 0
        for pair in itertools.product(range(self.ensemble_size), repeat=2):
            self.use_pair(*pair)
            total = total + score_fn(self, x)
        return total / self.ensemble_size ** 2


@torch.no_grad()
def refit_spectral_norms(module):
    """Fit every spectral norm in ``module`` to the module's own weights.

    A moving average takes the live network's power-iteration vectors with its
    buffers; they estimate the live weights' largest singular value, not the averaged
    weights'. Here each is replaced by the exact top singular vectors of the weights
    it scales, so the averaged layers have spectral norm 1 as the live ones do.
    """
    for layer in module.modules():
        if not parametrize.is_parametrized(layer):
            continue
        for parametrizations in layer.parametrizations.values():
            weight = parametrizations.original
            for norm in parametrizations:
                if isinstance(norm, _SpectralNorm):
                    left, _, right = torch.linalg.svd(
                        norm._reshape_weight_to_matrix(weight), full_matrices=False)
                    norm._u.copy_(left[:, 0])
                    norm._v.copy_(right[0])


def pad_rows(x, n_rows):
    """The tensor ``x`` followed by copies of its first row, ``n_rows`` rows in all."""
    if len(x) >= n_rows:
        return x
    return torch.cat([x, x[:1].expand(n_rows - len(x), *x.shape[1:])])


#: Builds the net a detector trains, from :class:`AdversarialNet`'s parameters. A
#: context variable, so an optional engine swaps in a subclass for one block of code
#: in one thread (:func:`skgan_ad.distributed.accelerated_training` does).
net_factory = contextvars.ContextVar("net_factory", default=AdversarialNet)


def _float32_rows(rows):
    """A dense float32 array of ``rows`` (an array slice or a sparse matrix slice).

    Converting slice by slice keeps the memory of scoring bounded by the batch when
    the caller's array is float64 or sparse.
    """
    if sp.issparse(rows):
        rows = rows.toarray()
    with np.errstate(over="ignore"):  # overflow is reported below, in words
        # Writable and contiguous, as torch.from_numpy wants; copies only if needed.
        converted = np.require(rows, np.float32, ["C", "W"])
    if converted.dtype != getattr(rows, "dtype", None) and not np.isfinite(converted).all():
        raise ValueError("X has values too large for float32 (beyond ±3.4e38); scale the "
                         "features first, e.g. with sklearn.preprocessing.StandardScaler.")
    return converted
