"""Loss terms and update helpers shared by the methods."""

import contextlib

import torch
import torch.nn.functional as F


def bce(logits, target):
    """Mean sigmoid cross-entropy of ``logits`` against a constant ``target``."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def bce_per_row(logits):
    """Sigmoid cross-entropy of each logit against the label "real": -log sigmoid."""
    return F.softplus(-logits)


def feature_distance(a, b, degree):
    """Row-wise ``degree``-norm of ``a - b`` over the flattened features."""
    return torch.linalg.vector_norm((a - b).flatten(1), ord=degree, dim=1)


def minimise(loss, *optimizers):
    """Zero the gradients of ``optimizers``, back-propagate ``loss`` and step them."""
    for optimizer in optimizers:
        optimizer.zero_grad(set_to_none=True)
    loss.backward()
    for optimizer in optimizers:
        optimizer.step()


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
