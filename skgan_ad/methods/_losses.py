"""Loss terms and update helpers shared by the methods."""

import contextlib
import contextvars

import torch
import torch.nn.functional as F

from .._engine import active_grad_scaler


def bce(logits, target):
    """Mean sigmoid cross-entropy of ``logits`` against a constant ``target``."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def bce_per_row(logits):
    """Sigmoid cross-entropy of each logit against the label "real": -log sigmoid."""
    return F.softplus(-logits)


def feature_distance(a, b, degree):
    """Row-wise ``degree``-norm of ``a - b`` over the flattened features."""
    return torch.linalg.vector_norm((a - b).flatten(1), ord=degree, dim=1)


#: How :func:`minimise` back-propagates. A context variable, so an engine that trains
#: one net its own way (an Accelerator scales the loss for mixed precision and gradient
#: accumulation) changes it for that net's training steps only.
_backward = contextvars.ContextVar("backward", default=torch.Tensor.backward)


@contextlib.contextmanager
def backward_by(backward):
    """Make :func:`minimise` call ``backward(loss)`` instead of ``loss.backward()``."""
    token = _backward.set(backward)
    try:
        yield
    finally:
        _backward.reset(token)


def minimise(loss, *optimizers):
    """Zero the gradients of ``optimizers``, back-propagate ``loss`` and step them."""
    for optimizer in optimizers:
        optimizer.zero_grad(set_to_none=True)
    scaler = active_grad_scaler.get()
    if scaler is None:
        _backward.get()(loss)
        for optimizer in optimizers:
            optimizer.step()
        return
    _backward.get()(scaler.scale(loss))
    for optimizer in optimizers:
        scaler.step(optimizer)
    scaler.update()


@contextlib.contextmanager
def frozen(*modules):
    """Compute no weight gradients for ``modules`` (gradients still flow through them).

    The generator/encoder updates back-propagate through the discriminators; their
    weight gradients would be discarded, so they are not computed.
    """
    parameters = [p for module in modules for p in module.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


def gradient_penalty(critic, real, fake):
    """WGAN-GP penalty: mean of ``(||grad critic(x_hat)||_2 - 1)^2``.

    ``x_hat`` mixes each real row with a generated one at a uniform random point on
    the segment between them (Gulrajani et al., 2017). ``critic(x)`` returns
    ``(scores, features)``.
    """
    mixing = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device)
    # Under autocast the generated rows may be half precision; the mix is float32.
    mixed = torch.lerp(real, fake.to(real.dtype), mixing).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(mixed)[0].sum(), mixed, create_graph=True)
    return (gradient.flatten(1).norm(dim=1) - 1).pow(2).mean()
