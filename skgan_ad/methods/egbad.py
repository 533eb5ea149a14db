"""EGBAD: Efficient GAN-Based Anomaly Detection (Zenati et al., 2018)."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseGANDetector
from ..networks import JointDiscriminator, mlp, normal_init, xavier_init
from ._losses import bce, bce_per_row, feature_distance, frozen

__all__ = ["EGBAD"]


class EGBAD(BaseGANDetector):
    """BiGAN-based anomaly detector of Zenati et al. (EGBAD).

    A BiGAN learns an encoder E (x to z) together with the generator G (z to x) by
    letting one discriminator tell real pairs (x, E(x)) from generated pairs (G(z), z).
    A row is anomalous when E and G reconstruct it badly and when the discriminator
    finds the reconstruction unlike the row; no latent search is needed at test time.

    Read more in: H. Zenati, C. S. Foo, B. Lecouat, G. Manek, V. R. Chandrasekhar,
    "Efficient GAN-Based Anomaly Detection", ICLR workshop 2018, arXiv:1802.06222.
    Defaults are those of the official code for KDD99
    (``houssamzenati/Efficient-GAN-Anomaly-Detection``, ``bigan/kdd_utilities.py`` and
    ``bigan/run_kdd.py``), named "[code]" below.

    Parameters
    ----------
    score_type : {"cross-e", "fm"}, default="cross-e"
        The discriminator term L_D of the anomaly score. "cross-e" is the sigmoid
        cross-entropy of the discriminator's logit for the reconstructed pair
        (G(E(x)), E(x)) against the label "real" (the code's pairing; the paper's
        headline KDD99 figure, F1 0.9372, uses this score). "fm" is the L1 distance of
        the discriminator's feature layer between (x, E(x)) and (G(E(x)), E(x)) [code
        default, paper F1 0.8965].
    alpha : float, default=0.9
        Weight of the reconstruction term: ``A(x) = alpha * ||x - G(E(x))||_1 +
        (1 - alpha) * L_D`` [paper; the code's ``--w=0.1`` is ``1 - alpha``].
    latent_dim : int, default=32
        Size of the latent space [code].
    encoder_hidden : tuple of int, default=(64,)
        Hidden layers of E, LeakyReLU(0.1) [code].
    generator_hidden : tuple of int, default=(64, 128)
        Hidden layers of G, ReLU, linear output [code].
    discriminator_hidden : tuple of int, default=(128,)
        Width of D's x branch, z branch and joint feature layer, LeakyReLU(0.1),
        dropout 0.2 [code].
    epochs : int, default=10
        Passes over the training data. The official code has no default (users of
        the EGBAD repository report about 100 epochs on KDD99, issue #7). The best
        length depends on the features: on unscaled KDD99 features, the official
        code's, the training half's validation peaked after 34 epochs
        (``benchmarks/results/egbad_validation_none60.md``).
    batch_size : int, default=50
        Training mini-batch size [code].
    lr : float, default=1e-5
        Adam learning rate of E, G and D [code].
    beta1 : float, default=0.5
        Adam's first-moment decay [code].
    ema_decay : float or None, default=0.9999
        Decay of the moving average of the weights used for scoring [code]; ``None``
        scores with the raw weights.
    {ema warm-up}
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``encoder_``, ``generator_``,
        ``discriminator_`` and their moving averages ``*_ema_``.
    history_ : skorch.History
        Per-epoch losses ``d_loss``, ``g_loss``, ``e_loss`` and timings.
    offset_ : float
        ``contamination`` quantile of the training ``score_samples``.
    {shared attributes}

    See Also
    --------
    ALAD : EGBAD's successor with cycle-consistency discriminators.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import EGBAD
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = EGBAD(epochs=5, min_steps=0, lr=1e-3, random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        **BaseGANDetector._parameter_constraints,
        "score_type": [StrOptions({"cross-e", "fm"})],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "encoder_hidden": [tuple],
        "generator_hidden": [tuple],
        "discriminator_hidden": [tuple],
    }
    _loss_names = ("d_loss", "g_loss", "e_loss")
    _ema_modules = ("encoder", "generator", "discriminator")
    # The official code updates G and E on another batch than D.
    _uses_second_batch = True

    def __init__(self, *, score_type="cross-e", alpha=0.9, latent_dim=32,
                 encoder_hidden=(64,), generator_hidden=(64, 128),
                 discriminator_hidden=(128,), epochs=10, batch_size=50, lr=1e-5,
                 beta1=0.5, ema_decay=0.9999, ema_warmup=False, score_batch_size="auto",
                 contamination=0.1, device="auto", random_state=None, verbose=0,
                 callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.score_type = score_type
        self.alpha = alpha
        self.latent_dim = latent_dim
        self.encoder_hidden = encoder_hidden
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
        d_layers = dict(negative_slope=0.1, dropout=0.2)
        width = self.discriminator_hidden[-1]
        x_branch = blocks.x_branch(self.discriminator_hidden, **d_layers)
        discriminator = JointDiscriminator(
            x_branch=x_branch,
            z_branch=mlp(self.latent_dim, self.discriminator_hidden, **d_layers),
            joint=mlp(x_branch.out_features + width, self.discriminator_hidden,
                      **d_layers),
        )
        modules = {
            "encoder": blocks.encoder(self.latent_dim, self.encoder_hidden,
                                      negative_slope=0.1),
            "generator": blocks.generator(self.latent_dim, self.generator_hidden,
                                          activation="relu"),
            "discriminator": discriminator,
        }
        # Xavier for tables, N(0, 0.02) for images [code: kdd_, mnist_utilities.py].
        init = normal_init if self.image_shape_ else xavier_init
        return {name: init(module) for name, module in modules.items()}

    def _optimizer_groups(self):
        # Adam is per parameter: one optimizer for G and E is the same update as two.
        return {"optimizer_d": ("discriminator",), "optimizer_ge": ("generator", "encoder")}

    def _train_step(self, net, x, x_other):
        E, G, D = net.encoder_, net.generator_, net.discriminator_
        # Discriminator: real pairs (x, E(x)) against generated pairs (G(z), z).
        z = net.sample_noise(len(x), self.latent_dim)
        with torch.no_grad():
            z_real, x_fake = E(x), G(z)
        d_loss = bce(D(x, z_real)[0], 1.0) + bce(D(x_fake, z)[0], 0.0)
        net.minimise(d_loss, net.optimizer_d_)
        # Generator and encoder, on another batch, with the labels swapped.
        z = net.sample_noise(len(x_other), self.latent_dim)
        with frozen(D):
            g_loss = bce(D(G(z), z)[0], 1.0)
            e_loss = bce(D(x_other, E(x_other))[0], 0.0)
            # g_loss depends on G only and e_loss on E only, so one backward pass
            # gives each network the gradient of its own loss.
            net.minimise(g_loss + e_loss, net.optimizer_ge_)
        return {"d_loss": d_loss, "g_loss": g_loss, "e_loss": e_loss}

    def _anomaly_score(self, net, x):
        E, G = net.scoring_module("encoder"), net.scoring_module("generator")
        D = net.scoring_module("discriminator")
        z = E(x)
        x_rec = G(z)
        reconstruction = feature_distance(x, x_rec, 1)
        logit_rec, features_rec = D(x_rec, z)
        if self.score_type == "cross-e":
            discrimination = bce_per_row(logit_rec)
        else:
            discrimination = feature_distance(D(x, z)[1], features_rec, 1)
        return self.alpha * reconstruction + (1 - self.alpha) * discrimination

