"""Network building blocks shared by every detector.

A method asks :func:`make_blocks` for the blocks that fit its input and then builds
its networks from them ("an encoder from x to z", "the x branch of a discriminator"),
so the choice between tabular and image networks lives here and not in the methods.
"""

from .conv import ImageBlocks
from .mlp import (
    Discriminator,
    EqualizedLinear,
    JointDiscriminator,
    PairDiscriminator,
    PixelNorm,
    mlp,
    normal_init,
    xavier_init,
)

__all__ = [
    "Discriminator",
    "ImageBlocks",
    "EqualizedLinear",
    "JointDiscriminator",
    "PairDiscriminator",
    "PixelNorm",
    "TabularBlocks",
    "make_blocks",
    "mlp",
    "normal_init",
    "xavier_init",
]


#: Layer options that only the image blocks read (see :class:`ImageBlocks`).
IMAGE_ONLY_OPTIONS = ("conv_norm", "dense_features", "tanh_output")


def _tabular_options(layer_options):
    return {key: value for key, value in layer_options.items()
            if key not in IMAGE_ONLY_OPTIONS}


class TabularBlocks:
    """Fully connected blocks for inputs of shape ``(n_samples, n_features)``.

    The image-only layer options of :class:`ImageBlocks` (``conv_norm``,
    ``dense_features``, ``tanh_output``) are ignored, so a method states its image
    layout in the same call that builds its tabular one.

    Parameters
    ----------
    n_features : int
        Width of the data space.
    """

    def __init__(self, n_features):
        self.n_features = n_features

    def encoder(self, latent_dim, hidden, **layer_options):
        """Network from the data space to the latent space (no output activation)."""
        return mlp(self.n_features, hidden, latent_dim,
                   **_tabular_options(layer_options))

    def generator(self, latent_dim, hidden, **layer_options):
        """Network from the latent space to the data space (linear output)."""
        return mlp(latent_dim, hidden, self.n_features,
                   **_tabular_options(layer_options))

    def x_branch(self, hidden, **layer_options):
        """Feature branch over data-space inputs, ending after its last hidden block."""
        return mlp(self.n_features, hidden, **_tabular_options(layer_options))

    def pair_body(self, hidden, **layer_options):
        """Body of a discriminator of two concatenated data-space inputs."""
        return mlp(2 * self.n_features, hidden, **_tabular_options(layer_options))


def make_blocks(n_features, image_shape=None):
    """Return the building blocks for rows of ``n_features`` values.

    ``image_shape=(channels, height, width)`` says the rows are flattened images and
    returns the convolutional :class:`~skgan_ad.networks.conv.ImageBlocks`.
    """
    if image_shape is not None:
        return ImageBlocks(image_shape)
    return TabularBlocks(n_features)
