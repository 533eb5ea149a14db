"""Loss terms and gradient helpers shared by the methods."""

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
