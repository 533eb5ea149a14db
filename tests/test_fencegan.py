"""FenceGAN-specific behaviour: discriminator pretraining, the two learning rates, and
its training length on a small real table."""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skgan_ad import FenceGAN

from conftest import DATA_DIR, fast


class GeneratorSnapshots(Callback):
    """The generator's weights when training starts and after each epoch."""

    def on_train_begin(self, net, **kwargs):
        self.weights = [copy.deepcopy(net.generator_.state_dict())]

    def on_epoch_end(self, net, **kwargs):
        self.weights.append(copy.deepcopy(net.generator_.state_dict()))


def _same(a, b):
    return all(torch.equal(a[key], b[key]) for key in a)


def test_pretraining_epochs_train_the_discriminator_alone():
    X = np.random.RandomState(0).normal(size=(400, 4))
    snapshots = GeneratorSnapshots()
    detector = fast(FenceGAN, epochs=3, pretrain_epochs=2, callbacks=[snapshots]).fit(X)
    start, first, second, third = snapshots.weights
    assert _same(start, first) and _same(first, second)
    assert not _same(second, third)
    assert np.isnan(detector.history_[:, "g_loss"][:2]).all()  # G did not train
    assert detector.history_[:, "g_loss"][2] > 0
    assert all(d > 0 for d in detector.history_[:, "d_loss"])


def test_generator_and_discriminator_have_their_own_learning_rates():
    X = np.random.RandomState(0).normal(size=(100, 4))
    detector = FenceGAN(epochs=1, min_steps=0, lr=3e-4, generator_lr=7e-3,
                        random_state=0).fit(X)
    assert detector.net_.optimizer_d_.param_groups[0]["lr"] == 3e-4
    assert detector.net_.optimizer_g_.param_groups[0]["lr"] == 7e-3


def test_score_is_one_minus_the_discriminator_output():
    X = np.random.RandomState(0).normal(size=(300, 4))
    detector = fast(FenceGAN, standardize=False).fit(X)  # the discriminator sees X
    net = detector.net_
    net._set_training(False)
    with torch.no_grad():
        verdict = torch.sigmoid(net.discriminator_(torch.as_tensor(X, dtype=torch.float32))[0])
    np.testing.assert_allclose(detector.score_samples(X), verdict.double().numpy() - 1,
                               rtol=1e-5, atol=1e-7)


def test_min_steps_default_trains_fence_gan_enough_on_a_small_real_table():
    path = DATA_DIR / "adbench" / "4_breastw.npz"
    if not path.exists():
        pytest.skip(f"ADBench's breastw table not found in {DATA_DIR}")
    with np.load(path) as table:
        X, y = table["X"], table["y"]
    # The ADBench protocol's seed-42 split: 478 training rows, 2 batches of 200 a pass.
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=42)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    def test_auroc(**params):
        detector = FenceGAN(random_state=42, device="cpu", **params).fit(X_train)
        return roc_auc_score(y_test, -detector.score_samples(X_test))

    # The 12 epochs alone are 24 steps: the generator has not fenced the data in yet
    # and the anomalies look the most normal; the default min_steps trains enough.
    assert test_auroc(min_steps=0) < 0.5
    assert test_auroc() > 0.9
