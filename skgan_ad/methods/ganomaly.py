"""GANomaly: anomaly detection in the latent space of a bow-tie GAN (Akçay et al., 2018)."""

from numbers import Real
from typing import ClassVar

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ..base import BaseGANDetector
from ..networks import Discriminator, normal_init
from ..networks.gan_ensemble import active_member
from ._losses import bce, frozen

__all__ = ["GANomaly"]

#: The official code re-initialises D when its loss falls below this value [code].
_D_RESET_LOSS = 1e-5


class GANomaly(BaseGANDetector):
    """GANomaly: an encoder-decoder-encoder generator judged in latent space.

    The generator is a bow-tie: an encoder G_E maps x to z, a decoder G_D maps z to
    the reconstruction x', and a second encoder E maps x' to z'. It is trained on
    normal data to reconstruct x (contextual L1 loss), to keep z' close to z (encoder
    L2 loss) and, against a discriminator D, to make x' look real on D's features
    (adversarial feature-matching loss). For a row the network never learned, the
    reconstruction drifts towards normal data and its code z' away from z, so the
    anomaly score is the latent distance between z and z'.

    Read more in: S. Akçay, A. Atapour-Abarghouei, T. P. Breckon, "GANomaly:
    Semi-Supervised Anomaly Detection via Adversarial Training", ACCV 2018,
    arXiv:1805.06725. Defaults marked "[code]" are those of the official code
    (``samet-akcay/ganomaly``, ``options.py``, ``lib/model.py``, ``lib/networks.py``).
    The paper and code are for images only; the tabular networks, marked "[tabular]",
    reuse the KDD99 sizes of the Zenati et al. code (see :class:`EGBAD`) and keep the
    official structure: D is an encoder with a one-unit output, whose last hidden
    layer gives the features. On KDD99 its tabular defaults train best on
    ``make_kdd99_preprocessor("log")`` features (chosen on rows of no benchmark test
    half; ``benchmarks/results/ganomaly_validation_disjoint.md``).

    Scores are the official ones without the official test-time transform, for two
    reasons. The official code min-max scales the scores over the whole test set;
    that needs the other test rows, which a fitted estimator scoring row by row does
    not have, and as a monotone map it changes no ranking, AUROC or top-k threshold.
    And it scores with the networks in training mode (batch statistics), so there a
    row's score depends on its batch (GANomaly issues #47, #83, #97); here every
    network scores in eval mode, so a row scores the same alone or in any batch.

    Parameters
    ----------
    w_adv : float, default=1
        Weight of the adversarial loss, the mean squared distance between D's
        features of x and of x' [code ``--w_adv``].
    w_con : float, default=50
        Weight of the contextual loss, the mean absolute error between x and x'
        [code ``--w_con``].
    w_enc : float, default=1
        Weight of the encoder loss, the mean squared distance between z and z'
        [code ``--w_enc``].
    latent_dim : int, default=32
        Size of z [tabular; the image code uses ``--nz=100``].
    encoder_hidden : tuple of int, default=(64,)
        Hidden layers of G_E, of E and of D's feature body, LeakyReLU(0.2) [tabular
        sizes; activation code]. Like the first block of the official encoders they
        have no batch normalisation. On images all three are the official DCGAN
        encoder (:class:`~skgan_ad.networks.ImageBlocks`): 4x4 stride-2
        convolutions of 64, 128, 256... channels, batch norm after all but the
        first, LeakyReLU(0.2); D's features are its last convolution map [code].
    decoder_hidden : tuple of int, default=(64, 128)
        Hidden layers of G_D, batch norm and ReLU, linear output [tabular sizes;
        batch norm and ReLU code; a tanh output would not suit standardised
        features]. On images G_D is the official DCGAN decoder, batch norm and
        ReLU between transposed convolutions and a tanh output [code], so pixels
        belong in [-1, 1]. Every layer, convolutions included, starts from
        N(0, 0.02) weights (batch-norm scales N(1, 0.02)) [code ``weights_init``].
    epochs : int, default=15
        Passes over the training data [code ``--niter=15``].
    batch_size : int, default=64
        Training mini-batch size [code].
    lr : float, default=2e-4
        Adam learning rate of the generator and of D [code].
    beta1 : float, default=0.5
        Adam's first-moment decay [code].
    ema_decay : float or None, default=None
        Decay of a moving average of the weights used for scoring; ``None`` (the
        official behaviour) scores with the trained weights.
    {ema warm-up}
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``encoder_`` (G_E), ``decoder_`` (G_D),
        ``latent_encoder_`` (E) and ``discriminator_``.
    history_ : skorch.History
        Per-epoch losses ``d_loss``, ``g_loss`` (the weighted sum), ``adv_loss``,
        ``con_loss``, ``enc_loss`` and timings.
    offset_ : float
        ``contamination`` quantile of the training ``score_samples``.
    {shared attributes}

    See Also
    --------
    EGBAD : scores the reconstruction of a BiGAN instead of a latent distance.

    Notes
    -----
    The anomaly score is ``mean_k (z_k - z'_k)^2``, the mean over the latent
    dimensions as in the official code (``lib/model.py``, ``test()``); the paper
    writes it as an L1 distance.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import GANomaly
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = GANomaly(epochs=5, min_steps=0, lr=1e-3, random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseGANDetector._parameter_constraints,
        "w_adv": [Interval(Real, 0, None, closed="left")],
        "w_con": [Interval(Real, 0, None, closed="left")],
        "w_enc": [Interval(Real, 0, None, closed="left")],
        "encoder_hidden": [tuple],
        "decoder_hidden": [tuple],
    }
    _loss_names = ("d_loss", "g_loss", "adv_loss", "con_loss", "enc_loss")
    _ema_modules = ("encoder", "decoder", "latent_encoder")

    def __init__(self, *, w_adv=1.0, w_con=50.0, w_enc=1.0, latent_dim=32,
                 encoder_hidden=(64,), decoder_hidden=(64, 128), epochs=15,
                 batch_size=64, lr=2e-4, beta1=0.5, ema_decay=None, ema_warmup=False,
                 score_batch_size="auto", contamination=0.1, device="auto",
                 random_state=None, verbose=0, callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.w_adv = w_adv
        self.w_con = w_con
        self.w_enc = w_enc
        self.latent_dim = latent_dim
        self.encoder_hidden = encoder_hidden
        self.decoder_hidden = decoder_hidden
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
        modules = {
            "encoder": blocks.encoder(self.latent_dim, self.encoder_hidden),
            "decoder": blocks.generator(self.latent_dim, self.decoder_hidden,
                                        activation="relu", batch_norm=True),
            "latent_encoder": blocks.encoder(self.latent_dim, self.encoder_hidden),
            "discriminator": Discriminator(blocks.x_branch(self.encoder_hidden)),
        }
        return {name: normal_init(module) for name, module in modules.items()}

    def _optimizer_groups(self):
        return {"optimizer_g": ("encoder", "decoder", "latent_encoder"),
                "optimizer_d": ("discriminator",)}

    def _train_step(self, net, x, x_other):
        G_E, G_D, E, D = net.encoder_, net.decoder_, net.latent_encoder_, net.discriminator_
        # Generator first, then D on the same reconstruction, as the official code.
        z = G_E(x)
        x_rec = G_D(z)
        with frozen(D):
            adv_loss = F.mse_loss(D(x_rec)[1], D(x)[1])
            con_loss = F.l1_loss(x_rec, x)
            enc_loss = F.mse_loss(E(x_rec), z)
            g_loss = self.w_adv * adv_loss + self.w_con * con_loss + self.w_enc * enc_loss
            net.minimise(g_loss, net.optimizer_g_)
        d_loss = 0.5 * (bce(D(x)[0], 1.0) + bce(D(x_rec.detach())[0], 0.0))
        net.minimise(d_loss, net.optimizer_d_)
        if d_loss.item() < _D_RESET_LOSS:
            # A D that wins outright gives the generator no signal: start it afresh
            # (in a GAN ensemble, the one that won).
            with torch.no_grad():
                normal_init(active_member(D))
        return {"d_loss": d_loss, "g_loss": g_loss, "adv_loss": adv_loss,
                "con_loss": con_loss, "enc_loss": enc_loss}

    def _anomaly_score(self, net, x):
        z = net.scoring_module("encoder")(x)
        z_rec = net.scoring_module("latent_encoder")(net.scoring_module("decoder")(z))
        return (z - z_rec).pow(2).mean(dim=1)
