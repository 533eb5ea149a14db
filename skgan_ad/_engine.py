"""The adversarial training engine: one skorch net that trains any set of modules.

Every detector trains through :class:`AdversarialNet`. A method supplies three things:
a builder of its named modules, the grouping of those modules into optimizers, and a
training step that updates them from one batch. The net does the rest the way skorch
does it: epochs, device placement, callbacks (progress bar, history, user callbacks),
pickling, and an exponential moving average of the weights for scoring.
"""

import copy
import itertools

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import PassthroughScoring

__all__ = ["AdversarialNet"]


class _BatchIterator:
    """Mini-batches sliced from one float32 tensor by shuffled indices.

    Yields ``(x, x_other)``: ``x_other`` is drawn from an independent shuffle, as the
    official BiGAN/ALAD code feeds the generator/encoder update a different batch from
    the discriminator update; it is ``x`` itself when ``independent_batches`` is False.
    Like the official code, the remainder that does not fill a batch is dropped in each
    epoch (a data set smaller than one batch is used whole).
    """

    def __init__(self, X, batch_size, generator, independent_batches):
        self.X = X
        self.batch_size = min(batch_size, len(X))
        self.generator = generator
        self.independent_batches = independent_batches

    def __len__(self):
        return len(self.X) // self.batch_size

    def _order(self):
        return torch.randperm(len(self.X), generator=self.generator)

    def __iter__(self):
        order = self._order()
        other = self._order() if self.independent_batches else order
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            x = self.X[order[start:start + self.batch_size]]
            x_other = x if other is order else self.X[other[start:start + self.batch_size]]
            yield x, x_other


class AdversarialNet(NeuralNet):
    """skorch net holding several modules and optimizers, trained by a supplied step.

    Parameters
    ----------
    build_modules : callable
        ``build_modules() -> dict[str, torch.nn.Module]``. Each module is registered
        with skorch as ``<name>_`` (device placement, ``set_params`` prefixes,
        pickling, checkpoints).
    optimizer_groups : dict of str to tuple of str
        Optimizer name (registered as ``<name>_``) to the modules it updates.
    step : callable
        ``step(net, x, x_other) -> dict[str, torch.Tensor]`` performs every update of
        one training iteration and returns the named losses; each is recorded in the
        batch history and averaged per epoch. ``train_loss`` is their sum.
    loss_names : tuple of str
        Names of the losses returned by ``step``.
    ema_decay : float or None
        Decay of an exponential moving average of the weights of ``ema_modules``; the
        averaged copies (``<name>_ema_``) are the ones :meth:`scoring_module` returns.
        The decay is capped by ``(1 + t) / (10 + t)`` at update ``t`` (TensorFlow's
        ``num_updates`` warm-up), so short trainings are not averaged towards the
        random initial weights; long ones use ``ema_decay`` as the official code does.
    ema_modules : tuple of str
        Modules to average.
    independent_batches : bool
        Whether ``step`` receives a second, independently shuffled batch.
    seed : int
        Seed of the batch order.
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``optimizer``, ``lr``, ``max_epochs``,
        ``batch_size``, ``callbacks``, ``device``, ``verbose``...).
    """

    def __init__(self, build_modules, optimizer_groups, step, loss_names, *,
                 ema_decay=None, ema_modules=(), independent_batches=True, seed=0,
                 **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(module=None, criterion=None, **kwargs)
        self.build_modules = build_modules
        self.optimizer_groups = optimizer_groups
        self.step = step
        self.loss_names = loss_names
        self.ema_decay = ema_decay
        self.ema_modules = ema_modules
        self.independent_batches = independent_batches
        self.seed = seed

    @property
    def _default_callbacks(self):
        return [
            *super()._default_callbacks,
            *((name, PassthroughScoring(name=name, on_train=True))
              for name in self.loss_names),
        ]

    def initialize_module(self):
        for name, module in self.build_modules().items():
            setattr(self, name + "_", module)
        for name in self.ema_modules if self.ema_decay is not None else ():
            average = copy.deepcopy(getattr(self, name + "_")).requires_grad_(False)
            setattr(self, name + "_ema_", average)
        self.ema_updates_ = 0
        return self

    def initialize_criterion(self):
        # The losses belong to each method's step, not to a skorch criterion.
        return self

    def initialize_optimizer(self, *_, **__):
        for group, module_names in self.optimizer_groups.items():
            named_params = itertools.chain.from_iterable(
                getattr(self, name + "_").named_parameters() for name in module_names)
            args, kwargs = self.get_params_for_optimizer(group, named_params)
            setattr(self, group + "_", self.optimizer(*args, **kwargs))
        return self

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        generator = torch.Generator().manual_seed(self.seed)
        return _BatchIterator(dataset, self.batch_size, generator,
                              self.independent_batches)

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        x, x_other = (part.to(self.device, non_blocking=True) for part in batch)
        losses = self.step(self, x, x_other)
        # One device-to-host transfer for all losses, not one per loss.
        values = torch.stack([loss.detach() for loss in losses.values()]).tolist()
        for name, value in zip(losses, values):
            self.history.record_batch(name, value)
        self._update_ema()
        # A host tensor, so skorch's ``loss.item()`` does not synchronise again.
        return {"loss": torch.tensor(sum(values)), "y_pred": None}

    @torch.no_grad()
    def _update_ema(self):
        if self.ema_decay is None:
            return
        self.ema_updates_ += 1
        t = self.ema_updates_
        decay = min(self.ema_decay, (1 + t) / (10 + t))
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
        """Apply ``score_fn(net, x_batch)`` to ``X`` batch by batch, in eval mode.

        Only one batch at a time is moved to the device, so memory is bounded by the
        batch, not by ``X``.
        """
        self._set_training(False)
        scores = np.empty(len(X), dtype=np.float64)
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                chunk = np.array(X[start:start + batch_size], dtype=np.float32)
                x = torch.from_numpy(chunk).to(self.device)
                scores[start:start + len(chunk)] = score_fn(self, x).double().cpu().numpy()
        return scores
