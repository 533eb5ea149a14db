"""ALAD: Adversarially Learned Anomaly Detection (Zenati et al., ICDM 2018)."""

import functools

import torch
from sklearn.utils._param_validation import StrOptions
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ..base import BaseGANDetector
from ..networks import (
    JointDiscriminator,
    PairDiscriminator,
    mlp,
    normal_init,
    xavier_init,
)
from ._losses import bce, bce_per_row, feature_distance, frozen

__all__ = ["ALAD"]


def _with_spectral_norm(module):
    """Spectral normalisation of every dense and convolution layer but the output head."""
    for name, child in module.named_children():
        if isinstance(child, (torch.nn.Linear, torch.nn.Conv2d)) and name != "head":
            setattr(module, name, _spectral_norm(child))
        else:
            _with_spectral_norm(child)
    return module


class ALAD(BaseGANDetector):
    """Adversarially Learned Anomaly Detection (ALAD).

    A bi-directional GAN (encoder E, generator G) is trained with three discriminators:
    D_xz on (x, z) pairs as in BiGAN, and D_xx and D_zz, which enforce the cycle
    consistencies x = G(E(x)) and z = E(G(z)). A row is anomalous when its
    reconstruction G(E(x)) looks different from it to D_xx, measured on D_xx's
    learned features.

    Read more in: H. Zenati, M. Romain, C.-S. Foo, B. Lecouat, V. Chandrasekhar,
    "Adversarially Learned Anomaly Detection", IEEE ICDM 2018, arXiv:1812.02288.
    Defaults are those of the official code for KDD99
    (``houssamzenati/Adversarially-Learned-Anomaly-Detection``, ``alad/run.py`` and
    ``alad/kdd_utilities.py``), named "[code]" below.

    On KDD99, ALAD trains best on ``make_kdd99_preprocessor("log")`` features, a
    choice made on rows of no benchmark test half
    (``benchmarks/results/alad_validation_disjoint.md``). For
    Arrhythmia the official code sets ``latent_dim=64, batch_size=32,
    encoder_hidden=(256, 128), generator_hidden=(128, 256),
    discriminator_hidden=(256, 128), latent_discriminator_hidden=(64, 32)``
    (``alad/arrhythmia_utilities.py``; measured in ``benchmarks/results/adbench.md``).

    Parameters
    ----------
    score_type : {"fm", "l1", "l2", "logits"}, default="fm"
        Anomaly score, all computed with the moving-average weights [code]:
        "fm" is the L1 distance between D_xx's feature layer for (x, x) and for
        (x, G(E(x))) (the paper's main score); "l1" and "l2" are the norms of
        x - G(E(x)); "logits" is D_xx's cross-entropy of (x, G(E(x))) against "real".
    enable_dzz : bool, default=True
        Train the latent cycle discriminator D_zz [README: "use ... --enable_dzz"].
    spectral_norm : bool, default=False
        Spectral normalisation of E and of the discriminators' hidden layers. The
        README recommends ``--sn``, but the official tabular networks never apply it
        (only the image ones do), so the published KDD99 figure was obtained without.
    latent_dim : int, default=32
        Size of the latent space [code].
    encoder_hidden : tuple of int, default=(64,)
        Hidden layers of E, LeakyReLU(0.2) [code].
    generator_hidden : tuple of int, default=(64, 128)
        Hidden layers of G, ReLU, linear output [code].
    discriminator_hidden : tuple of int, default=(128,)
        Hidden layers of D_xx, the last being the feature layer of the "fm" score
        (dropout 0.2). D_xz has one layer of width ``discriminator_hidden[-1]`` on x
        (with batch norm) and on z (dropout 0.5), then a joint layer of width
        ``discriminator_hidden[0]`` (dropout 0.5). All LeakyReLU(0.2). This is how
        both official tabular networks are laid out: ``(128,)`` for KDD99 and
        ``(256, 128)`` for Arrhythmia [code].
    latent_discriminator_hidden : tuple of int, default=(32,)
        Hidden layers of D_zz, dropout 0.2 [code]; ``(64, 32)`` for Arrhythmia.
    epochs : int, default=10
        Passes over the training data. The official code has no default (users of
        the EGBAD repository report about 100 epochs on KDD99, issue #7); 10 passes
        (about 40,000 updates on KDD99's training half) keep a KDD99 fit short on one
        CPU core (``benchmarks/results/kdd99.md``).
    batch_size : int, default=50
        Training mini-batch size [code].
    lr : float, default=1e-5
        Adam learning rate of every network [code].
    beta1 : float, default=0.5
        Adam's first-moment decay [code].
    ema_decay : float or None, default=0.999
        Decay of the moving average of the weights used for scoring [code]; ``None``
        scores with the raw weights.
    {ema warm-up}
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``encoder_``, ``generator_``,
        ``discriminator_xz_``, ``discriminator_xx_``, ``discriminator_zz_`` and the
        moving averages ``*_ema_`` used for scoring.
    history_ : skorch.History
        Per-epoch losses ``d_loss``, ``g_loss``, ``e_loss`` and timings.
    offset_ : float
        ``contamination`` quantile of the training ``score_samples``.
    {shared attributes}

    See Also
    --------
    EGBAD : the BiGAN detector ALAD extends.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import ALAD
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = ALAD(epochs=5, min_steps=0, lr=1e-3, random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints = {
        **BaseGANDetector._parameter_constraints,
        "score_type": [StrOptions({"fm", "l1", "l2", "logits"})],
        "enable_dzz": ["boolean"],
        "spectral_norm": ["boolean"],
        "encoder_hidden": [tuple],
        "generator_hidden": [tuple],
        "discriminator_hidden": [tuple],
        "latent_discriminator_hidden": [tuple],
    }
    _loss_names = ("d_loss", "g_loss", "e_loss")
    _ema_modules = ("encoder", "generator", "discriminator_xx")
    # The official code updates G and E on another batch than D.
    _uses_second_batch = True

    def __init__(self, *, score_type="fm", enable_dzz=True, spectral_norm=False,
                 latent_dim=32, encoder_hidden=(64,), generator_hidden=(64, 128),
                 discriminator_hidden=(128,), latent_discriminator_hidden=(32,),
                 epochs=10, batch_size=50, lr=1e-5, beta1=0.5, ema_decay=0.999,
                 ema_warmup=False, score_batch_size="auto", contamination=0.1, device="auto",
                 random_state=None, verbose=0, callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.score_type = score_type
        self.enable_dzz = enable_dzz
        self.spectral_norm = spectral_norm
        self.latent_dim = latent_dim
        self.encoder_hidden = encoder_hidden
        self.generator_hidden = generator_hidden
        self.discriminator_hidden = discriminator_hidden
        self.latent_discriminator_hidden = latent_discriminator_hidden
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
        hidden = self.discriminator_hidden
        branch, joint = (hidden[-1],), (hidden[0],)
        x_branch = blocks.x_branch(branch, batch_norm=True)
        modules = {
            "encoder": blocks.encoder(self.latent_dim, self.encoder_hidden),
            "generator": blocks.generator(self.latent_dim, self.generator_hidden,
                                          activation="relu"),
            "discriminator_xz": JointDiscriminator(
                x_branch=x_branch,
                z_branch=mlp(self.latent_dim, branch, dropout=0.5),
                joint=mlp(x_branch.out_features + hidden[-1], joint, dropout=0.5),
            ),
            # The image D_xx has no batch norm [code: cifar10_utilities.py].
            "discriminator_xx": PairDiscriminator(
                blocks.pair_body(hidden, dropout=0.2, conv_norm=None)),
            "discriminator_zz": PairDiscriminator(
                mlp(2 * self.latent_dim, self.latent_discriminator_hidden, dropout=0.2)),
        }
        # Xavier for tables, N(0, 0.01) for images [code: kdd_, cifar10_utilities.py].
        init = (functools.partial(normal_init, std=0.01) if self.image_shape_
                else xavier_init)
        modules = {name: init(module) for name, module in modules.items()}
        if self.spectral_norm:
            for name in ("encoder", "discriminator_xz", "discriminator_xx",
                         "discriminator_zz"):
                _with_spectral_norm(modules[name])
        return modules

    def _optimizer_groups(self):
        # Adam is per parameter, so one optimizer per update (rather than one per
        # network, as in the official code) is the same update with fewer kernels.
        return {
            "optimizer_d": ("discriminator_xz", "discriminator_xx", "discriminator_zz"),
            "optimizer_ge": ("generator", "encoder"),
        }

    def _train_step(self, net, x, x_other):
        E, G = net.encoder_, net.generator_
        D_xz, D_xx, D_zz = net.discriminator_xz_, net.discriminator_xx_, net.discriminator_zz_

        # Discriminators, on batch x with fresh noise. The official code steps D_zz
        # even when it is disabled; it then simply has no effect on E and G.
        z = net.sample_noise(len(x), self.latent_dim)
        with torch.no_grad():
            z_enc, x_gen = E(x), G(z)
            x_rec, z_rec = G(z_enc), E(x_gen)
        d_xz = bce(D_xz(x, z_enc)[0], 1.0) + bce(D_xz(x_gen, z)[0], 0.0)
        d_xx = bce(D_xx(x, x)[0], 1.0) + bce(D_xx(x, x_rec)[0], 0.0)
        d_zz = bce(D_zz(z, z)[0], 1.0) + bce(D_zz(z, z_rec)[0], 0.0)
        d_loss = d_xz + d_xx + d_zz
        net.minimise(d_loss, net.optimizer_d_)

        # Generator and encoder, on another batch with fresh noise.
        x = x_other
        z = net.sample_noise(len(x), self.latent_dim)
        with frozen(D_xz, D_xx, D_zz):
            z_enc, x_gen = E(x), G(z)
            # The (x, x) and (z, z) terms of the cycle costs do not depend on E or G;
            # they are kept so the logged losses match the official ones.
            cycle = bce(D_xx(x, x)[0], 0.0) + bce(D_xx(x, G(z_enc))[0], 1.0)
            if self.enable_dzz:
                cycle = cycle + bce(D_zz(z, z)[0], 0.0) + bce(D_zz(z, E(x_gen))[0], 1.0)
            g_adv = bce(D_xz(x_gen, z)[0], 1.0)
            e_adv = bce(D_xz(x, z_enc)[0], 0.0)
            # L_G = g_adv + cycle and L_E = e_adv + cycle; g_adv does not depend on E
            # and e_adv not on G, so one backward pass of their sum gives each
            # network the gradient of its own loss.
            net.minimise(g_adv + e_adv + cycle, net.optimizer_ge_)
        return {"d_loss": d_loss, "g_loss": g_adv + cycle, "e_loss": e_adv + cycle}

    def _anomaly_score(self, net, x):
        E, G = net.scoring_module("encoder"), net.scoring_module("generator")
        x_rec = G(E(x))
        if self.score_type == "l1":
            return feature_distance(x, x_rec, 1)
        if self.score_type == "l2":
            return feature_distance(x, x_rec, 2)
        D_xx = net.scoring_module("discriminator_xx")
        logit_rec, features_rec = D_xx(x, x_rec)
        if self.score_type == "logits":
            return bce_per_row(logit_rec)
        return feature_distance(D_xx(x, x)[1], features_rec, 1)
