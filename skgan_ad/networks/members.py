"""Several copies of one tabular network trained as one network.

Fitted one after another, the members of an ensemble (:class:`skgan_ad.SeedEnsemble`)
repeat every small operation once per member, and on a CPU a small network's step
costs mostly that fixed per-operation time. Stacked, each layer holds every member's
weights and runs once for all of them (a batched matrix product).

A stacked network takes a *member-major* batch: its first ``len(x) / n_members`` rows
belong to member 0, the next to member 1, and so on. Layers that treat rows one by
one (activations, dropout, concatenated features) work on it unchanged; the grouped
layers below keep each member's rows to its own weights and batch statistics, so
that every member trains as it would alone.
"""

import copy

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from .mlp import EqualizedLinear

__all__ = ["GroupedBatchNorm1d", "GroupedLinear", "MemberCopies", "copy_member",
           "stackable", "stack_members"]


def _member_rows(x, n_members):
    """``x`` as ``(n_members, rows per member, features)``."""
    return x.reshape(n_members, -1, x.shape[-1])


class GroupedLinear(nn.Module):
    """The linear layers of several members (``nn.Linear`` or :class:`EqualizedLinear`,
    whose run-time scale it keeps), applied to each member's rows."""

    def __init__(self, layers):
        super().__init__()
        self.scale = getattr(layers[0], "scale", 1.0)
        self.weight = nn.Parameter(
            torch.stack([layer.weight.detach().t() for layer in layers]).contiguous())
        self.bias = (None if layers[0].bias is None else nn.Parameter(
            torch.stack([layer.bias.detach() for layer in layers]).unsqueeze(1)))

    def forward(self, x):
        rows = _member_rows(x, len(self.weight))
        weight = self.weight if self.scale == 1.0 else self.weight * self.scale
        out = (torch.bmm(rows, weight) if self.bias is None
               else torch.baddbmm(self.bias, rows, weight))
        return out.reshape(-1, out.shape[-1])

    @torch.no_grad()
    def copy_member(self, member, layer):
        """Write member ``member``'s weights into the single layer ``layer``."""
        layer.weight.copy_(self.weight[member].t())
        if self.bias is not None:
            layer.bias.copy_(self.bias[member, 0])


class GroupedBatchNorm1d(nn.Module):
    """The ``nn.BatchNorm1d`` layers of several members, each normalising its own rows
    with its own statistics, as ``nn.BatchNorm1d`` does (biased batch variance to
    normalise, unbiased to update the running variance)."""

    def __init__(self, layers):
        super().__init__()
        first = layers[0]
        self.eps, self.momentum = first.eps, first.momentum

        def stacked(name):
            return torch.stack([getattr(layer, name).detach() for layer in layers]).unsqueeze(1)

        self.weight = nn.Parameter(stacked("weight"))
        self.bias = nn.Parameter(stacked("bias"))
        self.register_buffer("running_mean", stacked("running_mean").clone())
        self.register_buffer("running_var", stacked("running_var").clone())
        self.register_buffer("num_batches_tracked", first.num_batches_tracked.clone())

    def forward(self, x):
        # Members side by side as channels: one batch norm over (rows, members x
        # features) is every member's own, with PyTorch's fused kernel.
        n_members, n_features = len(self.weight), x.shape[-1]
        side_by_side = _member_rows(x, n_members).transpose(0, 1).reshape(
            -1, n_members * n_features)
        if self.training:
            self.num_batches_tracked += 1
        out = F.batch_norm(side_by_side, self.running_mean.view(-1), self.running_var.view(-1),
                           self.weight.view(-1), self.bias.view(-1), self.training,
                           self.momentum, self.eps)
        return out.reshape(-1, n_members, n_features).transpose(0, 1).reshape(x.shape)

    @torch.no_grad()
    def copy_member(self, member, layer):
        """Write member ``member``'s scale, shift and statistics into ``layer``."""
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(layer, name).copy_(getattr(self, name)[member, 0])
        layer.num_batches_tracked.copy_(self.num_batches_tracked)


class MemberCopies(nn.Module):
    """The copies of a module that training does not change (buffers, no weights: such
    as AnoGAN's search start), one per member, kept as each member drew it."""

    def __init__(self, modules):
        super().__init__()
        self.members = nn.ModuleList(copy.deepcopy(module) for module in modules)

    def forward(self, *args):
        raise RuntimeError("a module without weights is not part of a training step; "
                           "copy the members out to use it")

    @torch.no_grad()
    def copy_member(self, member, module):
        """Write member ``member``'s buffers into ``module``."""
        module.load_state_dict(self.members[member].state_dict())


def _untrained(module):
    return next(module.parameters(), None) is None


_GROUPED = {nn.Linear: GroupedLinear, EqualizedLinear: GroupedLinear,
            nn.BatchNorm1d: GroupedBatchNorm1d}


def stackable(module):
    """Whether :func:`stack_members` can stack copies of ``module``: it has no weights
    (:class:`MemberCopies` keeps each member's), or its only layers with weights or
    buffers are linear (``nn.Linear``, :class:`EqualizedLinear`) and ``nn.BatchNorm1d``
    (with running statistics and a momentum), without parametrisations such as
    spectral norm."""
    if _untrained(module):
        return True
    for layer in module.modules():
        if parametrize.is_parametrized(layer):
            return False
        if type(layer) is nn.BatchNorm1d:
            if not (layer.affine and layer.track_running_stats and layer.momentum):
                return False
        elif type(layer) not in _GROUPED and (
                next(layer.parameters(recurse=False), None) is not None
                or next(layer.buffers(recurse=False), None) is not None):
            return False
    return True


def stack_members(modules):
    """One network holding the weights of ``modules``, copies of one architecture
    (:func:`stackable`), for member-major batches."""
    if _untrained(modules[0]):
        return MemberCopies(modules)
    if type(modules[0]) in _GROUPED:
        return _GROUPED[type(modules[0])](modules)
    stacked = copy.deepcopy(modules[0])
    for name, layer in modules[0].named_modules():
        grouped = _GROUPED.get(type(layer))
        if grouped is not None:
            parent, _, child = name.rpartition(".")
            setattr(stacked.get_submodule(parent), child,
                    grouped([module.get_submodule(name) for module in modules]))
    return stacked


def copy_member(stacked, member, module):
    """Write member ``member`` of ``stacked`` into ``module``, a single copy of its
    architecture."""
    for name, layer in stacked.named_modules():
        if isinstance(layer, (GroupedLinear, GroupedBatchNorm1d, MemberCopies)):
            layer.copy_member(member, module.get_submodule(name) if name else module)
