"""DCGAN-style convolutional blocks for images passed as flat rows.

Images travel through scikit-learn (and through every method's losses) as flat rows of
``channels * height * width`` values; these blocks reshape them at their input and
flatten them at their output, so a method's code is the same for tables and images.

Down-sampling follows DCGAN (Radford et al., 2016): 4x4 convolutions of stride 2 that
halve the image until it is at most 4 pixels high and wide, doubling the channels from
64 (capped at 512). Up-sampling mirrors it with transposed convolutions from a 4x4 (or
smaller) seed and crops the result to the image size, so sizes that are not powers of
two (28x28 MNIST) need no padding of the data.
"""

import math

from torch import nn

from .mlp import _activation

__all__ = ["ImageBlocks"]

#: Channels of the first convolution and the cap of their doubling, as in DCGAN.
BASE_CHANNELS, MAX_CHANNELS = 64, 512


def _halvings(height, width):
    """Stride-2 convolutions that bring the larger side down to 4 pixels or fewer."""
    return max(1, math.ceil(math.log2(max(height, width) / 4)))


def _channels(n_layers):
    return [min(BASE_CHANNELS * 2**layer, MAX_CHANNELS) for layer in range(n_layers)]


class _Crop(nn.Module):
    """Keep the top-left ``height x width`` pixels of a batch of images."""

    def __init__(self, height, width):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, images):
        return images[:, :, :self.height, :self.width]


#: Normalisations of a convolution layer (``conv_norm``): DCGAN's batch norm, the
#: layer norm of WGAN-GP critics (over channels and pixels, one scale and offset per
#: channel), or none.
CONV_NORMS = ("batch", "layer", None)


def _norm_layer(kind, channels):
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    raise ValueError(f"conv_norm must be one of {CONV_NORMS}, not {kind!r}")


def _conv_stack(in_channels, height, width, *, activation="leaky_relu",
                negative_slope=0.2, dropout=0.0, conv_norm="batch"):
    """Strided convolutions from an image to a flat feature vector; returns (net, width).

    As in DCGAN, the first layer has no normalisation, and a convolution followed by
    one has no bias (the normalisation's offset replaces it).
    """
    layers = []
    for layer, channels in enumerate(_channels(_halvings(height, width))):
        norm = conv_norm if layer > 0 else None
        layers.append(nn.Conv2d(in_channels, channels, 4, stride=2, padding=1,
                                bias=norm is None))
        if norm is not None:
            layers.append(_norm_layer(norm, channels))
        layers.append(_activation(activation, negative_slope))
        if dropout:
            layers.append(nn.Dropout(dropout))
        in_channels = channels
        height, width = height // 2, width // 2  # 4x4 kernel, stride 2, padding 1
    layers.append(nn.Flatten())
    return layers, in_channels * height * width


class ImageBlocks:
    """Convolutional blocks for images of shape ``(channels, height, width)``.

    Offers the same blocks as :class:`~skgan_ad.networks.TabularBlocks`, with the same
    signatures, laid out as the DCGAN networks (Radford et al., 2016) that the
    official image code of GANomaly, AnoGAN, EGBAD, ALAD and Fence GAN builds on:
    batch norm after every convolution but a discriminator's or encoder's first,
    LeakyReLU in encoders and discriminators, batch norm and ReLU in generators, and a
    tanh generator output, so pixels belong in [-1, 1] as the papers scale them.

    Layer options: ``activation``, ``negative_slope`` and ``dropout`` apply to the
    convolutions; the image-only options below are ignored by the tabular blocks, and
    options that only concern dense layers (``batch_norm``, ``pixel_norm``,
    ``equalized_lr``) are ignored here.

    - ``conv_norm`` : {"batch", "layer", None}, default "batch" -- the normalisation
      of the convolutions (a WGAN-GP critic takes "layer", since a gradient penalty
      is defined per row and batch norm mixes the rows).
    - ``dense_features`` : bool, default False -- whether a feature branch
      (:meth:`x_branch`, :meth:`pair_body`) ends in a dense layer of ``hidden[-1]``
      units; otherwise its features are the flattened last convolution map, as in
      the DCGAN discriminators.
    - ``tanh_output`` : bool, default True -- whether a generator ends in tanh.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    """

    def __init__(self, image_shape):
        self.image_shape = tuple(image_shape)
        self.n_features = math.prod(self.image_shape)
        _, height, width = self.image_shape
        if min(height, width) < 2**_halvings(height, width):
            raise ValueError(f"images of {height}x{width} pixels are too elongated for "
                             "the convolutional blocks: the shorter side must be at least "
                             f"{2**_halvings(height, width)} pixels; pad them first.")

    def _features(self, in_channels, hidden, layer_options):
        _, height, image_width = self.image_shape
        conv, flat = _conv_stack(in_channels, height, image_width,
                                 **_conv_options(layer_options))
        net = nn.Sequential(nn.Unflatten(1, (in_channels, height, image_width)), *conv)
        if layer_options.get("dense_features", False):
            net.append(nn.Linear(flat, hidden[-1]))
            net.append(_activation(layer_options.get("activation", "leaky_relu"),
                                   layer_options.get("negative_slope", 0.2)))
            flat = hidden[-1]
        net.out_features = flat
        return net

    def encoder(self, latent_dim, hidden, **layer_options):
        """Convolutions from an image to the latent space (linear output).

        The last layer maps the final feature map to ``latent_dim`` values, as
        DCGAN encoders' last 4x4 convolution without padding does.
        """
        net = self._features(self.image_shape[0], hidden,
                             {**layer_options, "dense_features": False})
        net.append(nn.Linear(net.out_features, latent_dim))
        net.out_features = latent_dim
        return net

    def generator(self, latent_dim, hidden, **layer_options):
        """Transposed convolutions from the latent space to a flat image.

        A dense layer makes a ``seed x seed`` map of the widest channel count, each
        transposed convolution doubles it (``conv_norm`` and the activation between,
        batch norm and ReLU as in DCGAN's generator), and the last one makes the image
        channels, cropped to the image size and passed through tanh unless
        ``tanh_output=False``.
        """
        channels, height, width = self.image_shape
        n_layers = _halvings(height, width)
        seed_h, seed_w = math.ceil(height / 2**n_layers), math.ceil(width / 2**n_layers)
        widths = _channels(n_layers)[::-1]
        conv_norm = layer_options.get("conv_norm", "batch")
        activation = _activation(layer_options.get("activation", "relu"),
                                 layer_options.get("negative_slope", 0.2))

        def normalised(n_channels):
            norm = [] if conv_norm is None else [_norm_layer(conv_norm, n_channels)]
            return [*norm, activation]

        layers = [nn.Linear(latent_dim, widths[0] * seed_h * seed_w,
                            bias=conv_norm is None),
                  nn.Unflatten(1, (widths[0], seed_h, seed_w)), *normalised(widths[0])]
        for in_channels, out_channels in zip(widths, [*widths[1:], channels]):
            last = out_channels == channels
            layers.append(nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2,
                                             padding=1, bias=last or conv_norm is None))
            if not last:
                layers += normalised(out_channels)
        layers += [_Crop(height, width), nn.Flatten()]
        if layer_options.get("tanh_output", True):
            layers.append(nn.Tanh())
        net = nn.Sequential(*layers)
        net.out_features = self.n_features
        return net

    def x_branch(self, hidden, **layer_options):
        """Convolutional features of an image (``dense_features`` adds a dense layer)."""
        return self._features(self.image_shape[0], hidden, layer_options)

    def pair_body(self, hidden, **layer_options):
        """Features of two images given side by side as one row, stacked as channels."""
        return self._features(2 * self.image_shape[0], hidden, layer_options)


def _conv_options(layer_options):
    return {key: layer_options[key] for key in
            ("activation", "negative_slope", "dropout", "conv_norm")
            if key in layer_options}
