"""The simultaneous-encoder GAN of Berg, Ahlberg and Felsberg (2019)."""

from numbers import Real
from typing import ClassVar

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from ..base import BaseGANDetector
from ..networks import Discriminator, EqualizedLinear, PixelNorm
from ._losses import frozen, gradient_penalty

__all__ = ["SimultaneousEncoderGAN"]

#: Adam's second-moment decay of G, D and E [code: ``config.py``, ``beta2=0.99``].
_ADAM_BETA2 = 0.99


class SimultaneousEncoderGAN(BaseGANDetector):
    """GAN whose encoder is trained with it from the start (Berg et al., 2019).

    An encoder E is trained at the same time as the WGAN-GP generator G and critic
    D, to invert G on generated samples (``G(E(G(z))) = G(z)``); this simultaneous
    training stratifies the latent space, so that the norm of a row's code
    ``||E(x)||`` measures how unusual the row is. That suits training data that
    already contain anomalies: a GAN fitted to contaminated data also learns to
    reproduce the anomalies, which blunts reconstruction scores, but being rare they
    still land in the outer strata of the latent space, where the norm flags them.
    Measured on KDD99 with anomalies among the training rows in
    ``benchmarks/results/contamination.md``.

    Read more in: A. Berg, J. Ahlberg, M. Felsberg, "Unsupervised Learning of Anomaly
    Detection from Contaminated Image Data using Simultaneous Encoder Training",
    arXiv:1905.11034, 2019 ("[paper]"). "[code]" marks the official code
    (``amandaberg/GANanomalyDetection``: ``loss.py``, ``config.py``, ``networks.py``,
    ``tfutil.py``, ``util_scripts.py``), a progressive GAN for images; the tabular
    networks, marked "[tabular]", are MLPs with the same losses, activations,
    normalisations and equalised learning rate (:class:`~skgan_ad.networks.EqualizedLinear`).

    Parameters
    ----------
    score_type : {"latent_norm", "reconstruction"}, default="latent_norm"
        "latent_norm" is ``||E(x)||_2``, the cue the paper proposes [paper].
        "reconstruction" is the AnoGAN-style score with z = E(x) instead of a latent
        search, ``(1 - residual_weight) * dis + residual_weight * res``, where
        ``res`` is the mean absolute difference between x and G(E(x)) and ``dis``
        the mean absolute difference of D's last hidden layer between them [paper
        weighting, as the author confirmed in the code's PR #1; the terms are those
        ``tfutil.AnomalyDetectorEncoder`` saves].
    residual_weight : float, default=0.1
        Weight of ``res`` in the "reconstruction" score [code ``ano_para=0.1``].
    normalize_latents : bool, default=True
        Scale each latent vector to unit root-mean-square before G's first layer, as
        the progressive GAN's generator does [code ``normalize_latents=True``].
    latent_scale : float, default=0.1
        Standard deviation of the latent noise, ``z ~ latent_scale * N(0, I)``
        [code].
    gp_weight : float, default=10
        Weight of WGAN-GP's gradient penalty [code ``wgan_lambda``].
    drift_weight : float, default=0.001
        Weight of the drift penalty ``D(x)^2`` on real rows [code ``wgan_epsilon``].
    latent_dim : int, default=32
        Size of the latent space [tabular, validated against 64 with wider networks
        (same validation as ``epochs``); images 512].
    generator_hidden : tuple of int, default=(64, 128)
        Hidden layers of G, LeakyReLU(0.2) each followed by pixel normalisation,
        linear output [tabular sizes; layers code].
    discriminator_hidden : tuple of int, default=(128,)
        Hidden layers of D and of E, LeakyReLU(0.2), no normalisation [tabular
        sizes; layers code]. E is D with its one-unit output layer replaced by a
        ``latent_dim``-unit layer with D's activation, whose output is the code
        [code ``E_clusterGAN``; the supplement: E is "identical to the discriminator
        except for the output layer"]. The code's minibatch standard-deviation
        layer is left out: it would make a row's code depend on its batch.
    epochs : int, default=8
        Passes over the training data [validated: the epoch with the best validation
        AUPRC of the latent norm, averaged over three model seeds, on a labelled
        validation set built from the training half of KDD99's seed-42 split, with
        ``make_kdd99_preprocessor("log")`` features
        (``benchmarks/results/simultaneousencodergan_validation_log.md``). Rerun on
        rows of no benchmark test half with as many training steps, one seed: AUPRC
        0.939 after the default's steps, 0.949 at best after about 40% of them; after
        the first sixth it moves between 0.60 and 0.95, up to 0.14 from one epoch to
        the next
        (``benchmarks/results/simultaneousencodergan_validation_disjoint_steps.md``)].
    batch_size : int, default=64
        Training mini-batch size [code: minibatch of the 32x32 stage].
    lr : float, default=1e-3
        Adam learning rate of G, D and E [code ``G_lrate_base``, ``D_lrate_base``].
    beta1 : float, default=0.0
        Adam's first-moment decay [code]; the second-moment decay is 0.99 [code].
    ema_decay : float or None, default=0.999
        Decay of the moving average of G's weights used for scoring (the
        "reconstruction" score; the latent norm needs only E) [code
        ``G_smoothing``: the anomaly detector copies the averaged generator]. ``None``
        scores with the trained weights.
    {ema warm-up}
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``generator_``, ``discriminator_`` and
        ``encoder_``.
    history_ : skorch.History
        Per-epoch losses ``d_loss``, ``g_loss``, ``e_loss`` and timings.
    offset_ : float
        ``contamination`` quantile of the training ``score_samples``.
    {shared attributes}

    See Also
    --------
    EGBAD : a BiGAN, whose encoder is trained adversarially on real rows.

    Notes
    -----
    Each iteration takes one step of D, then one of G, then one of E, as the
    official training loop. The losses [code ``loss.py``]: D minimises
    ``D(G(z)) - D(x) + gp_weight * GP + drift_weight * D(x)^2``, G minimises
    ``-D(G(z))``, and E minimises ``mean |G(z) - G(E(G(z)))|`` with G fixed: E never
    sees a real row during training.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import SimultaneousEncoderGAN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = SimultaneousEncoderGAN(epochs=5, min_steps=0, random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseGANDetector._parameter_constraints,
        "score_type": [StrOptions({"latent_norm", "reconstruction"})],
        "residual_weight": [Interval(Real, 0, 1, closed="both")],
        "normalize_latents": ["boolean"],
        "latent_scale": [Interval(Real, 0, None, closed="neither")],
        "gp_weight": [Interval(Real, 0, None, closed="left")],
        "drift_weight": [Interval(Real, 0, None, closed="left")],
        "generator_hidden": [tuple],
        "discriminator_hidden": [tuple],
    }
    _loss_names = ("d_loss", "g_loss", "e_loss")
    _ema_modules = ("generator",)

    def __init__(self, *, score_type="latent_norm", residual_weight=0.1,
                 normalize_latents=True, latent_scale=0.1, gp_weight=10.0,
                 drift_weight=0.001, latent_dim=32, generator_hidden=(64, 128),
                 discriminator_hidden=(128,), epochs=8, batch_size=64, lr=1e-3,
                 beta1=0.0, ema_decay=0.999, ema_warmup=False, score_batch_size="auto",
                 contamination=0.1, device="auto", random_state=None, verbose=0,
                 callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.score_type = score_type
        self.residual_weight = residual_weight
        self.normalize_latents = normalize_latents
        self.latent_scale = latent_scale
        self.gp_weight = gp_weight
        self.drift_weight = drift_weight
        self.latent_dim = latent_dim
        self.generator_hidden = generator_hidden
        self.discriminator_hidden = discriminator_hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.beta1 = beta1
        self.ema_decay = ema_decay
        self.ema_warmup = ema_warmup
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

    def _build_modules(self):
        blocks = self._blocks()
        # pGAN's networks have no batch norm, and its generator a linear output [code].
        pgan_images = dict(conv_norm=None, dense_features=True, tanh_output=False)
        generator = blocks.generator(self.latent_dim, self.generator_hidden,
                                     pixel_norm=True, equalized_lr=True, **pgan_images)
        if self.normalize_latents:
            generator = nn.Sequential(PixelNorm(), generator)
        discriminator = Discriminator(
            blocks.x_branch(self.discriminator_hidden, equalized_lr=True, **pgan_images))
        discriminator.head = EqualizedLinear(self.discriminator_hidden[-1], 1, gain=1)
        # E is D with a latent_dim-unit last layer, activation included, for the score.
        encoder = blocks.x_branch((*self.discriminator_hidden, self.latent_dim),
                                  equalized_lr=True, **pgan_images)
        return {"generator": generator, "discriminator": discriminator, "encoder": encoder}

    def _optimizer_groups(self):
        return {"optimizer_d": ("discriminator",), "optimizer_g": ("generator",),
                "optimizer_e": ("encoder",)}

    def _optimizer_params(self):
        return {f"{name}__betas": (self.beta1, _ADAM_BETA2)
                for name in self._optimizer_groups()}

    def _generate(self, net, G, n_rows):
        return G(self.latent_scale * net.sample_noise(n_rows, self.latent_dim))

    def _train_step(self, net, x, x_other):
        G, D, E = net.generator_, net.discriminator_, net.encoder_
        with torch.no_grad():
            x_gen = self._generate(net, G, len(x))
        real_scores, fake_scores = D(x)[0], D(x_gen)[0]
        d_loss = (fake_scores.mean() - real_scores.mean()
                  + self.gp_weight * gradient_penalty(D, x, x_gen)
                  + self.drift_weight * real_scores.pow(2).mean())
        net.minimise(d_loss, net.optimizer_d_)
        with frozen(D):
            g_loss = -D(self._generate(net, G, len(x)))[0].mean()
            net.minimise(g_loss, net.optimizer_g_)
        with torch.no_grad():
            x_gen = self._generate(net, G, len(x))
        with frozen(G):
            e_loss = (x_gen - G(E(x_gen))).abs().mean()
            net.minimise(e_loss, net.optimizer_e_)
        return {"d_loss": d_loss, "g_loss": g_loss, "e_loss": e_loss}

    def _anomaly_score(self, net, x):
        z = net.scoring_module("encoder")(x)
        if self.score_type == "latent_norm":
            return z.norm(dim=1)
        D = net.scoring_module("discriminator")
        x_rec = net.scoring_module("generator")(z)
        residual = (x - x_rec).abs().mean(dim=1)
        discrimination = (D(x)[1] - D(x_rec)[1]).abs().mean(dim=1)
        return (1 - self.residual_weight) * discrimination + self.residual_weight * residual
