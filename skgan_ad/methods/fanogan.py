"""f-AnoGAN: a WGAN-GP and an encoder trained after it (Schlegl et al., 2019)."""

import functools
from numbers import Integral, Real
from typing import ClassVar

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ..base import BaseGANDetector
from ..networks import Discriminator, xavier_init
from ._losses import frozen, gradient_penalty

__all__ = ["FAnoGAN"]


class FAnoGAN(BaseGANDetector):
    """f-AnoGAN: fast AnoGAN, with an encoder in place of the latent search.

    Training has two phases. First a Wasserstein GAN with gradient penalty (WGAN-GP)
    learns a generator G and a critic D on normal data, for ``epochs`` passes. Then G
    and D are frozen and an encoder E is trained for ``encoder_epochs`` passes to map
    x to the z whose G(z) reproduces x, by minimising the izi_f loss: the mean squared
    residual of the data plus ``kappa`` times the mean squared residual of D's
    features, between x and G(E(x)). The anomaly score is that same izi_f loss for
    each row:

    ``A(x) = ||x - G(E(x))||^2 / n + kappa * ||f(x) - f(G(E(x)))||^2 / n_f``

    with n the number of features, f D's last hidden layer and n_f its width.

    Read more in: T. Schlegl, P. Seeböck, S. M. Waldstein, G. Langs,
    U. Schmidt-Erfurth, "f-AnoGAN: Fast unsupervised anomaly detection with generative
    adversarial networks", Medical Image Analysis 54, 2019. Defaults named "[code]"
    are those of the official code (``tSchlegl/f-AnoGAN``: ``wgangp_64x64.py``,
    ``z_encoding_izif.py``, ``anomaly_detection.py``). That code is for 64x64 images;
    the tabular networks here ("[tabular]") are the fully connected KDD99 networks of
    the AnoGAN re-implementation in ``houssamzenati/Efficient-GAN-Anomaly-Detection``
    (``gan/kdd_utilities.py``), without its dropout, which a WGAN-GP critic does not
    use [code].

    Parameters
    ----------
    kappa : float, default=1.0
        Weight of the feature residual in the encoder's loss and in the score [code].
    gp_weight : float, default=10.0
        lambda, the weight of the gradient penalty in the critic's loss [code].
    n_critic : int, default=5
        Critic updates per generator update [code ``CRITIC_ITERS = 5``]; each critic
        update reads a new batch.
    latent_dim : int, default=32
        Size of the latent space [tabular; the image code uses 128]. z ~ N(0, I)
        [code ``RAND_SAMPLING='normal'``].
    generator_hidden : tuple of int, default=(64, 128)
        Hidden layers of G, ReLU, linear output [tabular].
    discriminator_hidden : tuple of int, default=(256, 128, 128)
        Hidden layers of the critic D, LeakyReLU(0.1), no normalisation (the image
        critic's layer norm is left out); the last one is the feature layer f
        [tabular].
    encoder_hidden : tuple of int, default=(256, 128, 128)
        Hidden layers of E, LeakyReLU(0.1) with batch normalisation; E ends in a
        linear layer to the latent space and tanh [code: E has D's structure with
        batch norm, and ``Z_REG_TYPE='tanh_fc'``, the paper's version].
    epochs : int, default=10
        Passes of the critic over the training data in the WGAN-GP phase [code
        ``TRAIN_EPOCHS = 7`` for its images; 10 passes match this package's other
        detectors on KDD99].
    encoder_epochs : int, default=10
        Passes over the training data in the encoder phase [code: 50,000 iterations
        of 64 images; on KDD99's 198,361 training rows 10 passes are 31,000].
    batch_size : int, default=64
        Mini-batch size of both phases [code].
    lr : float, default=1e-4
        Adam learning rate of G and D [code].
    beta1 : float, default=0.0
        Adam's first-moment decay for G and D [code].
    beta2 : float, default=0.9
        Adam's second-moment decay for G and D [code].
    encoder_lr : float, default=5e-5
        RMSProp learning rate of E [code]; RMSProp's decay is TensorFlow's 0.9.
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``generator_``, ``discriminator_`` and
        ``encoder_``. Its ``max_epochs`` is ``epochs + encoder_epochs``.
    history_ : skorch.History
        Per-epoch losses and timings: ``d_loss`` and ``g_loss`` in the WGAN-GP
        epochs, ``e_loss`` (izi_f) in the encoder epochs; a loss is NaN in the
        epochs of the other phase.
    offset_ : float
        ``contamination`` quantile of the training ``score_samples``.
    {shared attributes}

    See Also
    --------
    AnoGAN : the same score idea with a latent search per row instead of E.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import FAnoGAN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = FAnoGAN(epochs=5, encoder_epochs=5, min_steps=0, encoder_lr=1e-3,
    ...               random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseGANDetector._parameter_constraints,
        "kappa": [Interval(Real, 0, None, closed="left")],
        "gp_weight": [Interval(Real, 0, None, closed="left")],
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "generator_hidden": [tuple],
        "discriminator_hidden": [tuple],
        "encoder_hidden": [tuple],
        "encoder_epochs": [Interval(Integral, 1, None, closed="left")],
        "beta2": [Interval(Real, 0, 1, closed="left")],
        "encoder_lr": [Interval(Real, 0, None, closed="neither")],
    }
    _loss_names = ("d_loss", "g_loss", "e_loss")

    def __init__(self, *, kappa=1.0, gp_weight=10.0, n_critic=5, latent_dim=32,
                 generator_hidden=(64, 128), discriminator_hidden=(256, 128, 128),
                 encoder_hidden=(256, 128, 128), epochs=10, encoder_epochs=10,
                 batch_size=64, lr=1e-4, beta1=0.0, beta2=0.9, encoder_lr=5e-5,
                 score_batch_size="auto", contamination=0.1,
                 device="auto", random_state=None, verbose=0, callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.kappa = kappa
        self.gp_weight = gp_weight
        self.n_critic = n_critic
        self.latent_dim = latent_dim
        self.generator_hidden = generator_hidden
        self.discriminator_hidden = discriminator_hidden
        self.encoder_hidden = encoder_hidden
        self.epochs = epochs
        self.encoder_epochs = encoder_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.encoder_lr = encoder_lr
        self.score_batch_size = score_batch_size
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.image_shape = image_shape
        self.n_jobs = n_jobs
        self.precision = precision
        self.compile = compile
        self.min_steps = min_steps
        self.standardize = standardize
        self.ensemble_size = ensemble_size

    #: The official code scores with the trained weights, not a moving average.
    ema_decay = None
    ema_warmup = False

    def _phases(self):
        return (("wgan_gp", self.epochs), ("encoder", self.encoder_epochs))

    def _build_modules(self):
        blocks = self._blocks()
        encoder = nn.Sequential(
            blocks.encoder(self.latent_dim, self.encoder_hidden, negative_slope=0.1,
                           batch_norm=True),
            nn.Tanh(),
        )
        modules = {
            "generator": blocks.generator(self.latent_dim, self.generator_hidden,
                                          activation="relu"),
            # A WGAN-GP critic: layer norm, not batch norm, on images [code].
            "discriminator": Discriminator(blocks.x_branch(
                self.discriminator_hidden, negative_slope=0.1, conv_norm="layer")),
            "encoder": encoder,
        }
        return {name: xavier_init(module) for name, module in modules.items()}

    def _optimizer_groups(self):
        adam = functools.partial(torch.optim.Adam, lr=self.lr,
                                 betas=(self.beta1, self.beta2))
        # TensorFlow's RMSProp decays its average of squared gradients by 0.9.
        rmsprop = functools.partial(torch.optim.RMSprop, lr=self.encoder_lr, alpha=0.9)
        return {"optimizer_d": (("discriminator",), adam),
                "optimizer_g": (("generator",), adam),
                "optimizer_e": (("encoder",), rmsprop)}

    def _train_step(self, net, x, x_other):
        if net.phase == "wgan_gp":
            return self._wgan_gp_step(net, x)
        return self._encoder_step(net, x)

    def _wgan_gp_step(self, net, x):
        G, D = net.generator_, net.discriminator_
        z = net.sample_noise(len(x), self.latent_dim)
        with torch.no_grad():
            x_fake = G(z)
        d_loss = (D(x_fake)[0].mean() - D(x)[0].mean()
                  + self.gp_weight * gradient_penalty(D, x, x_fake))
        net.minimise(d_loss, net.optimizer_d_)
        losses = {"d_loss": d_loss}
        if (net.batch_index + 1) % self.n_critic == 0:
            z = net.sample_noise(len(x), self.latent_dim)
            with frozen(D):
                losses["g_loss"] = -D(G(z))[0].mean()
                net.minimise(losses["g_loss"], net.optimizer_g_)
        return losses

    def _izi_f(self, G, D, x, z):
        """Per-row izi_f loss: mean squared data residual + kappa * feature residual."""
        x_rec = G(z)
        residual = (x - x_rec).pow(2).flatten(1).mean(dim=1)
        # D(.)[1], not D.body: a data-parallel wrapper around D hides its submodules.
        feature_residual = (D(x)[1] - D(x_rec)[1]).pow(2).flatten(1).mean(dim=1)
        return residual + self.kappa * feature_residual

    def _encoder_step(self, net, x):
        G, D, E = net.generator_, net.discriminator_, net.encoder_
        # G and D are fixed here: in eval mode, batch norm uses (and keeps) the running
        # statistics of the GAN phase [code: both built with is_training=False].
        G.eval()
        D.eval()
        with frozen(G, D):
            e_loss = self._izi_f(G, D, x, E(x)).mean()
            net.minimise(e_loss, net.optimizer_e_)
        return {"e_loss": e_loss}

    def _anomaly_score(self, net, x):
        G, D = net.scoring_module("generator"), net.scoring_module("discriminator")
        return self._izi_f(G, D, x, net.scoring_module("encoder")(x))
