"""GANomaly-specific behaviour: eval-mode scoring despite batch normalisation."""

import copy

import numpy as np
import torch

from skgan_ad import GANomaly

from conftest import fast


def test_batch_norm_is_trained_but_scores_ignore_the_batch():
    rng = np.random.RandomState(0)
    X_train = rng.normal(size=(600, 6))
    X_test = np.vstack([rng.normal(size=(40, 6)), rng.normal(size=(10, 6)) + 5.0])
    detector = fast(GANomaly).fit(X_train)
    net = detector.net_
    assert any(isinstance(layer, torch.nn.BatchNorm1d) for layer in net.decoder_.modules())

    # Scored as the official code does (training mode: batch statistics), the first
    # ten rows score differently alone and next to the anomalies...
    official = copy.deepcopy(net)
    official._set_training(True)
    x = torch.as_tensor(X_test, dtype=torch.float32)
    with torch.no_grad():
        alone = detector._anomaly_score(official, x[:10])
        with_anomalies = detector._anomaly_score(official, x)[:10]
    assert not torch.allclose(alone, with_anomalies, rtol=1e-3, atol=0)

    # ...while score_samples runs in eval mode and gives each row one score.
    np.testing.assert_allclose(detector.score_samples(X_test[:10]),
                               detector.score_samples(X_test)[:10], rtol=1e-5, atol=1e-7)
    single = [detector.score_samples(X_test[i:i + 1])[0] for i in range(10)]
    np.testing.assert_allclose(single, detector.score_samples(X_test)[:10],
                               rtol=1e-5, atol=1e-7)


def test_score_is_the_latent_distance_of_the_bow_tie():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 5))
    detector = fast(GANomaly, epochs=1, standardize=False).fit(X)  # the networks see X
    net = detector.net_
    net._set_training(False)
    with torch.no_grad():
        x = torch.as_tensor(X[:20], dtype=torch.float32)
        z = net.encoder_(x)
        z_rec = net.latent_encoder_(net.decoder_(z))
    expected = ((z - z_rec) ** 2).mean(dim=1).double().numpy()
    np.testing.assert_allclose(-detector.score_samples(X[:20]), expected, rtol=1e-6)
    # The three losses are recorded separately and weighted 1 / 50 / 1 into g_loss.
    history = detector.history_
    weighted = (history[:, "adv_loss"][0] + 50 * np.array(history[:, "con_loss"][0])
                + history[:, "enc_loss"][0])
    np.testing.assert_allclose(history[:, "g_loss"][0], weighted, rtol=1e-5)
