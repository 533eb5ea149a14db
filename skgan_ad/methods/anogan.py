"""AnoGAN: anomaly detection by searching a GAN's latent space (Schlegl et al., 2017)."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from .._engine import pad_rows
from ..base import BaseGANDetector
from ..networks import Discriminator, normal_init, xavier_init
from ._losses import bce, feature_distance, frozen

__all__ = ["AnoGAN"]

#: The official KDD99 search's learning-rate schedule: 0.01, then 0.001 from step 300
#: and 0.0005 from step 400 of 500, kept in the same proportions for other step counts.
_SEARCH_LR_SCHEDULE = ((0.6, 0.1), (0.8, 0.05))
_ADAM_BETAS, _ADAM_EPS = (0.9, 0.999), 1e-8
#: The latent search runs on a multiple of this many rows (the distinct rows of a
#: scoring batch, padded).
_SEARCH_BLOCK_ROWS = 64


class _SearchStart(nn.Module):
    """The search's starting point z0, one draw shared by every row.

    Drawn once when the networks are built (so seeded by ``random_state``), from the
    truncated normal of the official code (TensorFlow's ``truncated_normal_initializer``:
    N(0, 1) cut at two standard deviations). Sharing it means a row's search, and so
    its score, does not depend on the batch it is scored in. A buffer, so that it moves
    to the net's device and pickles with the net.
    """

    def __init__(self, latent_dim):
        super().__init__()
        self.register_buffer(
            "z", nn.init.trunc_normal_(torch.empty(latent_dim), a=-2.0, b=2.0))


def _adam_update(z, grad, m, v, step, lr):
    """One Adam step (PyTorch's formula) on ``z``; every element has its own state."""
    beta1, beta2 = _ADAM_BETAS
    m.lerp_(grad, 1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denominator = (v / (1 - beta2 ** step)).sqrt_().add_(_ADAM_EPS)
    z.addcdiv_(m, denominator, value=-lr / (1 - beta1 ** step))


class AnoGAN(BaseGANDetector):
    """AnoGAN: a GAN of normal data, inverted by a latent search for each row.

    A generator G and a discriminator D are trained as a GAN on normal data only. To
    score a row x, the latent space is searched for the z whose G(z) is closest to x:
    ``search_steps`` Adam steps on z (G and D frozen) minimise
    ``L(z) = (1 - lambda) * ||x - G(z)||_1 + lambda * ||f(x) - f(G(z))||_1``, where f is
    D's last hidden layer (feature matching). The anomaly score is ``L`` at the final
    z: a row the GAN cannot produce is anomalous.

    The search is batched: every row of a scoring batch has its own row of one
    (batch, latent_dim) tensor, and the rows' losses are summed so each row gets the
    gradient of its own loss; Adam keeps its state element by element, so rows never
    interact and a row scores the same alone or in any batch (to float32 rounding).
    The cost of scoring is ``search_steps`` forward and backward passes of G and D per
    batch, not per row. Every search starts from the same z0, so a row's score depends
    on the row alone, and a row repeated within a scoring batch is searched once (real
    data repeat rows: KDD99's test half holds 2.6 rows per distinct row within a batch
    of 1,024); the distinct rows are searched in blocks of 64, padded, so that a row
    alone and a row among a few others are computed in the same shape.

    Read more in: T. Schlegl, P. Seeböck, S. M. Waldstein, U. Schmidt-Erfurth,
    G. Langs, "Unsupervised Anomaly Detection with Generative Adversarial Networks to
    Guide Marker Discovery", IPMI 2017, arXiv:1703.05921 ("[paper]" below). The
    tabular networks and the search's optimiser are those of the AnoGAN
    re-implementation whose KDD99 figures the EGBAD and ALAD papers report
    (``houssamzenati/Efficient-GAN-Anomaly-Detection``, ``gan/kdd_utilities.py`` and
    ``gan/run_kdd.py``), named "[code]" below.

    Parameters
    ----------
    discrimination_weight : float, default=0.1
        lambda, the weight of the feature-matching term in the search loss and the
        score [paper; code ``--w=0.1``].
    search_steps : int, default=500
        Gamma, the number of Adam steps on z per row [code ``STEPS_NUMBER = 500``].
    search_lr : float, default=0.01
        Initial learning rate of the search; it drops to a tenth after 60% of the
        steps and to a twentieth after 80% [code: 0.01, 0.001 from step 300, 0.0005
        from step 400]. Adam's betas are (0.9, 0.999) [code: TensorFlow's defaults].
    search_tol : float or None, default=None
        Per-row early stop of the search, off by default [paper and code run all
        steps]. When set, a row stops searching once its loss has not fallen below
        ``(1 - search_tol)`` times its best loss for ``search_n_iter_no_change``
        consecutive steps, and is scored at the z it stopped at. Each row decides
        for itself; the rows still searching are the only ones computed.
    search_n_iter_no_change : int, default=20
        Patience of the early stop, in steps; used only when ``search_tol`` is set.
    offset_samples : int or None, default=10000
        Training rows scored at the end of ``fit`` to set ``offset_``: a random
        subset of this many rows (drawn with ``random_state``) when the training set
        is larger; ``None`` scores every training row. Each row costs a full latent
        search, so scoring all of a large training set would cost as much as scoring
        it as test data; the ``contamination`` quantile of 10,000 rows is within
        about 0.3 percentage points of the whole set's (one binomial standard error
        at contamination 0.1). The papers set no threshold [this package's choice].
    latent_dim : int, default=32
        Size of the latent space [code].
    generator_hidden : tuple of int, default=(64, 128)
        Hidden layers of G, ReLU, linear output [code].
    discriminator_hidden : tuple of int, default=(256, 128, 128)
        Hidden layers of D, LeakyReLU(0.1) and dropout 0.2; the last one is the
        feature layer f [code].
    epochs : int, default=10
        Passes over the training data. The official code has no default; 10 passes
        match this package's EGBAD and ALAD. See ``benchmarks/results/``.
    batch_size : int, default=50
        Training mini-batch size [code].
    lr : float, default=1e-5
        Adam learning rate of G and D [code].
    beta1 : float, default=0.5
        Adam's first-moment decay for G and D [code].
    ema_decay : float or None, default=0.9999
        Decay of the moving average of G's weights used for scoring [code]. The code
        builds an average of D as well, but its scoring graph reads D through G's
        average, which holds none of D's weights, so D scores with its raw weights;
        this class does the same. ``None`` scores with G's raw weights.
    {ema warm-up}
    {shared parameters}

    Attributes
    ----------
    net_ : skgan_ad._engine.AdversarialNet
        The trained skorch net; modules ``generator_``, ``discriminator_``,
        ``search_start_`` (the search's z0) and ``generator_ema_``.
    history_ : skorch.History
        Per-epoch losses ``d_loss``, ``g_loss`` and timings.
    offset_ : float
        ``contamination`` quantile of the ``score_samples`` of the training rows (of
        ``offset_samples`` of them on a larger training set).
    {shared attributes}

    See Also
    --------
    FAnoGAN : replaces the search with an encoder trained after the GAN.
    EGBAD : learns the encoder together with the GAN.

    Examples
    --------
    >>> import numpy as np
    >>> from skgan_ad import AnoGAN
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 4))
    >>> det = AnoGAN(epochs=5, min_steps=0, lr=1e-3, search_steps=50,
    ...              random_state=0).fit(X)
    >>> det.predict([[0, 0, 0, 0], [8, 8, 8, 8]])
    array([ 1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseGANDetector._parameter_constraints,
        "discrimination_weight": [Interval(Real, 0, 1, closed="both")],
        "search_steps": [Interval(Integral, 1, None, closed="left")],
        "search_lr": [Interval(Real, 0, None, closed="neither")],
        "search_tol": [Interval(Real, 0, 1, closed="left"), None],
        "search_n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "offset_samples": [Interval(Integral, 1, None, closed="left"), None],
        "generator_hidden": [tuple],
        "discriminator_hidden": [tuple],
    }
    _loss_names = ("d_loss", "g_loss")
    #: Every scored row keeps its latent search's gradients; 1,024 rows bound that memory
    #: (``benchmarks/results/anogan_speed.md``).
    _table_score_batch_size = 1024
    _ema_modules = ("generator",)

    def __init__(self, *, discrimination_weight=0.1, search_steps=500, search_lr=0.01,
                 search_tol=None, search_n_iter_no_change=20, offset_samples=10000,
                 latent_dim=32, generator_hidden=(64, 128),
                 discriminator_hidden=(256, 128, 128),
                 epochs=10, batch_size=50, lr=1e-5, beta1=0.5, ema_decay=0.9999,
                 ema_warmup=False, score_batch_size="auto", contamination=0.1, device="auto",
                 random_state=None, verbose=0, callbacks=None, image_shape=None,
                 n_jobs=None, precision="float32", compile=False,
                 min_steps="auto", standardize=True, ensemble_size=1):
        self.discrimination_weight = discrimination_weight
        self.search_steps = search_steps
        self.search_lr = search_lr
        self.search_tol = search_tol
        self.search_n_iter_no_change = search_n_iter_no_change
        self.offset_samples = offset_samples
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
        modules = {
            "generator": blocks.generator(self.latent_dim, self.generator_hidden,
                                          activation="relu"),
            "discriminator": Discriminator(blocks.x_branch(
                self.discriminator_hidden, negative_slope=0.1, dropout=0.2)),
        }
        # Xavier for tables [code: Zenati's kdd_utilities.py], DCGAN's N(0, 0.02) for
        # images [code: AnoGAN-tf ops.py].
        init = normal_init if self.image_shape_ else xavier_init
        modules = {name: init(module) for name, module in modules.items()}
        return {**modules, "search_start": _SearchStart(self.latent_dim)}

    def _optimizer_groups(self):
        return {"optimizer_d": ("discriminator",), "optimizer_g": ("generator",)}

    def _rows_for_offset(self, X, seed):
        if self.offset_samples is None or len(X) <= self.offset_samples:
            return X
        rows = np.random.RandomState(seed).choice(len(X), self.offset_samples,
                                                  replace=False)
        return X[np.sort(rows)]

    def _train_step(self, net, x, x_other):
        G, D = net.generator_, net.discriminator_
        z = net.sample_noise(len(x), self.latent_dim)
        with torch.no_grad():
            x_fake = G(z)
        d_loss = bce(D(x)[0], 1.0) + bce(D(x_fake)[0], 0.0)
        net.minimise(d_loss, net.optimizer_d_)
        # The generator's loss does not read the data: fresh noise only.
        z = net.sample_noise(len(x), self.latent_dim)
        with frozen(D):
            g_loss = bce(D(G(z))[0], 1.0)
            net.minimise(g_loss, net.optimizer_g_)
        return {"d_loss": d_loss, "g_loss": g_loss}

    def _search_loss(self, G, D, x, features_x, z):
        """Per-row loss ``(1 - lambda) * residual + lambda * discrimination``."""
        x_gen = G(z)
        residual = feature_distance(x, x_gen, 1)
        discrimination = feature_distance(features_x, D.body(x_gen), 1)
        weight = self.discrimination_weight
        return (1 - weight) * residual + weight * discrimination

    def _search_lr_at(self, step):
        """Learning rate of the search at 0-based ``step`` (TensorFlow's global step)."""
        factor = 1.0
        for fraction, decay in _SEARCH_LR_SCHEDULE:
            if step > fraction * self.search_steps:
                factor = decay
        return self.search_lr * factor

    def _search(self, net, x):
        """Search the latent space for every row of ``x`` at once.

        Returns the final z of each row and the number of Adam steps it took (fewer
        than ``search_steps`` for a row that stopped early).
        """
        G, D = net.scoring_module("generator"), net.scoring_module("discriminator")
        features_x = D.body(x)
        z = net.search_start_.z.expand(len(x), -1).clone()
        m, v = torch.zeros_like(z), torch.zeros_like(z)
        steps_taken = torch.full((len(x),), self.search_steps, device=x.device)
        early_stop = self.search_tol is not None
        if early_stop:
            active = torch.arange(len(x), device=x.device)
            best = torch.full((len(x),), torch.inf, device=x.device)
            stalled_for = torch.zeros(len(x), dtype=torch.long, device=x.device)
        # Scoring runs under no_grad; the search needs gradients with respect to z
        # only, so the networks' weights stay frozen.
        with torch.enable_grad(), frozen(G, D):
            for step in range(self.search_steps):
                if early_stop:  # only the rows still searching are computed
                    rows = (x[active], features_x[active], z[active], m[active], v[active])
                else:
                    rows = (x, features_x, z, m, v)
                x_rows, features_rows, z_rows, m_rows, v_rows = rows
                z_var = z_rows.detach().requires_grad_(True)
                loss = self._search_loss(G, D, x_rows, features_rows, z_var)
                # Rows are independent, so the gradient of the sum is each row's own.
                (grad,) = torch.autograd.grad(loss.sum(), z_var)
                _adam_update(z_rows, grad, m_rows, v_rows, step + 1, self._search_lr_at(step))
                if not early_stop:
                    continue
                z[active], m[active], v[active] = z_rows, m_rows, v_rows
                loss, best_rows = loss.detach(), best[active]
                improved = loss < best_rows * (1 - self.search_tol)
                best[active] = torch.where(improved, loss, best_rows)
                stalled_for[active] = torch.where(improved, 0, stalled_for[active] + 1)
                stopping = stalled_for[active] >= self.search_n_iter_no_change
                steps_taken[active[stopping]] = step + 1
                active = active[~stopping]
                if len(active) == 0:
                    break
        return z, steps_taken

    def _anomaly_score(self, net, x):
        distinct_rows, row_of = torch.unique(x, dim=0, return_inverse=True)
        # Padded to a whole number of blocks, so that a lone row is searched in the
        # same shape as a few distinct ones and its kernels round alike.
        n_blocks = -(-len(distinct_rows) // _SEARCH_BLOCK_ROWS)
        rows = pad_rows(distinct_rows, n_blocks * _SEARCH_BLOCK_ROWS)
        z, _ = self._search(net, rows)
        G, D = net.scoring_module("generator"), net.scoring_module("discriminator")
        loss = self._search_loss(G, D, rows, D.body(rows), z)
        return loss[row_of]
