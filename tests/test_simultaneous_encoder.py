"""SimultaneousEncoderGAN-specific behaviour: its optimiser, its encoder, its purpose."""

import numpy as np
from sklearn.metrics import roc_auc_score

from skgan_ad import SimultaneousEncoderGAN

from conftest import fast


def test_every_network_uses_the_official_adam_settings():
    X = np.random.RandomState(0).normal(size=(100, 4))
    detector = SimultaneousEncoderGAN(epochs=1, min_steps=0, random_state=0).fit(X)
    for name in ("optimizer_d_", "optimizer_g_", "optimizer_e_"):
        group = getattr(detector.net_, name).param_groups[0]
        assert group["betas"] == (0.0, 0.99) and group["lr"] == 1e-3


def test_latent_norm_withstands_anomalies_in_the_training_data():
    rng = np.random.RandomState(42)
    mixing = rng.normal(size=(8, 8))

    def anomalies(n):
        return rng.normal(size=(n, 8)) @ mixing + rng.choice([-6.0, 6.0], (n, 8))

    # 10% of the training rows are anomalies of the kind the test set holds.
    X_train = np.vstack([rng.normal(size=(1350, 8)) @ mixing, anomalies(150)])
    X_test = np.vstack([rng.normal(size=(300, 8)) @ mixing, anomalies(60)])
    y_test = np.r_[np.zeros(300, int), np.ones(60, int)]
    detector = fast(SimultaneousEncoderGAN, epochs=5).fit(X_train)
    latent_norm = roc_auc_score(y_test, -detector.score_samples(X_test))
    detector.set_params(score_type="reconstruction")
    reconstruction = roc_auc_score(y_test, -detector.score_samples(X_test))
    # The paper's claim: the latent norm still separates the anomalies, better than
    # the reconstruction of a GAN that has learned to reproduce some of them.
    assert latent_norm > 0.9
    assert latent_norm > reconstruction
    # The encoder learned to invert the generator on generated rows.
    e_loss = detector.history_[:, "e_loss"]
    assert e_loss[-1] < e_loss[0]
