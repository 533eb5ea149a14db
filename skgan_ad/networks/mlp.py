"""Fully connected building blocks for tabular data.

Every tabular network of every method is assembled from :func:`mlp` and the two
discriminator shapes below, so that a method asks for "an encoder from x to z" or "a
discriminator of (x, z) pairs" and never writes its own layers.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Discriminator",
    "EqualizedLinear",
    "JointDiscriminator",
    "PairDiscriminator",
    "PixelNorm",
    "mlp",
    "normal_init",
    "xavier_init",
]


#: He's gain for layers followed by a (leaky) ReLU.
_HE_GAIN = math.sqrt(2)


def _activation(name, negative_slope):
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    raise ValueError(f"unknown activation {name!r}")


def mlp(
    in_features,
    hidden,
    out_features=None,
    *,
    activation="leaky_relu",
    negative_slope=0.2,
    dropout=0.0,
    batch_norm=False,
    pixel_norm=False,
    equalized_lr=False,
):
    """Build ``Linear -> [BatchNorm] -> activation -> [PixelNorm] -> [Dropout]`` blocks.

    Parameters
    ----------
    in_features : int
        Width of the input.
    hidden : tuple of int
        Widths of the hidden blocks, in order.
    out_features : int or None
        Width of a final linear layer without activation; ``None`` ends the network
        after the last hidden block (used for discriminator feature layers).
    activation : {"relu", "leaky_relu"}
        Activation of the hidden blocks.
    negative_slope : float
        Slope of LeakyReLU.
    dropout : float
        Dropout rate after each hidden activation.
    batch_norm : bool
        Batch normalisation before each hidden activation, with TensorFlow's
        defaults (momentum 0.99, epsilon 1e-3) as in the official code.
    pixel_norm : bool
        :class:`PixelNorm` after each hidden activation (progressive GAN generators).
    equalized_lr : bool
        :class:`EqualizedLinear` layers instead of ``torch.nn.Linear`` (progressive
        GANs): gain sqrt(2) before an activation, 1 for the output layer.

    Returns
    -------
    torch.nn.Sequential
    """
    layers = []
    width = in_features
    for units in hidden:
        layers.append(EqualizedLinear(width, units) if equalized_lr
                      else nn.Linear(width, units))
        if batch_norm:
            layers.append(nn.BatchNorm1d(units, eps=1e-3, momentum=0.01))
        layers.append(_activation(activation, negative_slope))
        if pixel_norm:
            layers.append(PixelNorm())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = units
    if out_features is not None:
        layers.append(EqualizedLinear(width, out_features, gain=1) if equalized_lr
                      else nn.Linear(width, out_features))
    net = nn.Sequential(*layers)
    net.out_features = width if out_features is None else out_features
    return net


class EqualizedLinear(nn.Linear):
    """Linear layer with the progressive GAN's equalised learning rate.

    The stored weights are N(0, 1) and scaled at run time by He's constant
    ``gain / sqrt(in_features)``, so that Adam's step size, which does not depend on
    the gradient's scale, is the same for every layer relative to its weights. Biases
    start at zero and are not scaled. The layer initialises itself.
    """

    def __init__(self, in_features, out_features, gain=_HE_GAIN):
        super().__init__(in_features, out_features)
        self.scale = gain / math.sqrt(in_features)
        nn.init.normal_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return F.linear(x, self.weight * self.scale, self.bias)


class PixelNorm(nn.Module):
    """Scale each row to unit root-mean-square, as progressive GANs normalise features.

    Row by row, so a row's output never depends on the rest of its batch.
    """

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class Discriminator(nn.Module):
    """Discriminator of single inputs (a plain GAN's D, a WGAN critic).

    The body's output is the feature layer used for feature matching; a linear head
    maps it to one logit.
    """

    def __init__(self, body):
        super().__init__()
        self.body = body
        self.head = nn.Linear(body.out_features, 1)

    def forward(self, x):
        features = self.body(x)
        return self.head(features).squeeze(1), features


class JointDiscriminator(nn.Module):
    """Discriminator of ``(x, z)`` pairs, as in BiGAN/ALI.

    ``x`` and ``z`` pass through their own branches; the concatenation passes through
    a joint body whose output is the feature layer used for feature matching, then
    through a linear head to one logit.
    """

    def __init__(self, x_branch, z_branch, joint):
        super().__init__()
        self.x_branch = x_branch
        self.z_branch = z_branch
        self.joint = joint
        self.head = nn.Linear(joint.out_features, 1)

    def forward(self, x, z):
        features = self.joint(torch.cat([self.x_branch(x), self.z_branch(z)], dim=1))
        return self.head(features).squeeze(1), features


class PairDiscriminator(nn.Module):
    """Discriminator of ``(a, b)`` pairs of the same space (ALAD's D_xx and D_zz)."""

    def __init__(self, body):
        super().__init__()
        self.body = body
        self.head = nn.Linear(body.out_features, 1)

    def forward(self, a, b):
        features = self.body(torch.cat([a, b], dim=1))
        return self.head(features).squeeze(1), features


#: Layers whose weights the initialisers below draw.
_WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def normal_init(module, std=0.02):
    """DCGAN initialisation of every layer: weights N(0, std), zero biases.

    Dense and (transposed) convolution weights are drawn from N(0, std), batch-norm
    scales from N(1, std) with their running statistics reset, as the DCGAN-style
    official code initialises (``weights_init`` in GANomaly's ``lib/networks.py``).
    Layers that initialise themselves (:class:`EqualizedLinear`) are left alone.
    """
    for layer in module.modules():
        if isinstance(layer, EqualizedLinear):
            continue
        if isinstance(layer, _WEIGHTED):
            nn.init.normal_(layer.weight, 0.0, std)
            _zero_bias(layer)
        elif isinstance(layer, _BATCH_NORMS):
            nn.init.normal_(layer.weight, 1.0, std)
            nn.init.zeros_(layer.bias)
            layer.reset_running_stats()
    return module


def xavier_init(module):
    """Glorot-uniform weights and zero biases, TensorFlow's ``xavier_initializer``.

    Covers dense and (transposed) convolution layers; batch norms get TensorFlow's
    unit scales, zero offsets and fresh running statistics.
    """
    for layer in module.modules():
        if isinstance(layer, EqualizedLinear):
            continue
        if isinstance(layer, _WEIGHTED):
            nn.init.xavier_uniform_(layer.weight)
            _zero_bias(layer)
        elif isinstance(layer, _BATCH_NORMS):
            layer.reset_parameters()
    return module


def _zero_bias(layer):
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
