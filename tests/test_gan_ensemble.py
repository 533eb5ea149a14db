"""Han, Chen and Liu's GAN ensemble (``ensemble_size``): several generators and
discriminators of one method, one random pair trained per step, scores averaged over
every pair."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import skgan_ad
from skgan_ad import EGBAD, GANomaly, SeedEnsemble
from skgan_ad.base import _seeded
from skgan_ad.methods import ganomaly
from skgan_ad.networks.gan_ensemble import ModuleBank

from conftest import ESTIMATORS, fast


@parametrize_with_checks([fast(EGBAD, epochs=1, ensemble_size=2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.RandomState(0)
    X_train = rng.normal(size=(400, 5)).astype(np.float32)
    X_test = np.vstack([rng.normal(size=(80, 5)),
                        rng.normal(loc=4.0, size=(20, 5))]).astype(np.float32)
    return X_train, X_test, np.r_[np.zeros(80), np.ones(20)]


def _weights(bank):
    return [torch.cat([p.detach().flatten().clone() for p in copy.parameters()])
            for copy in bank.members]


def _initial_net(detector, X):
    """The net that ``detector.fit(X)`` starts from: the same seed draws the same
    weights."""
    initial = clone(detector)
    initial._validate_input(X, reset=True)
    seed = initial._drawn_seed()
    with _seeded(seed, "cpu"):
        return initial._make_net(seed, "cpu").initialize()


def test_one_step_trains_one_generator_and_one_discriminator(blobs):
    X_train = blobs[0][:64]
    detector = EGBAD(epochs=1, batch_size=64, min_steps=0, ensemble_size=3,
                     random_state=0)
    net = _initial_net(detector, X_train)
    detector.fit(X_train)
    changed = {}
    for name in ("generator", "encoder", "discriminator"):
        before, after = (_weights(getattr(n, name + "_")) for n in (net, detector.net_))
        changed[name] = [i for i, (b, a) in enumerate(zip(before, after))
                         if not torch.equal(b, a)]
        # Each copy was drawn on its own.
        assert not torch.equal(before[0], before[1])
    assert len(changed["generator"]) == 1 and len(changed["discriminator"]) == 1
    # A generator trains with its own encoder.
    assert changed["encoder"] == changed["generator"]


def test_the_score_is_the_mean_over_every_pair(blobs):
    X_train, X_test, y_test = blobs
    detector = fast(EGBAD, ensemble_size=2, standardize=False).fit(X_train)
    net = detector.net_
    net._set_training(False)
    x = torch.from_numpy(X_test)
    pair_scores = []
    with torch.no_grad():
        for pair in [(0, 0), (0, 1), (1, 0), (1, 1)]:
            net.use_pair(*pair)
            pair_scores.append(detector._anomaly_score(net, x).double().numpy())
    assert not np.allclose(pair_scores[0], pair_scores[3])
    np.testing.assert_allclose(-detector.score_samples(X_test),
                               np.mean(pair_scores, axis=0), rtol=1e-5)
    assert roc_auc_score(y_test, -detector.score_samples(X_test)) > 0.9


@pytest.mark.parametrize("estimator_class", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_detector_trains_as_an_ensemble_and_round_trips(estimator_class, blobs,
                                                              tmp_path):
    X_train, X_test, y_test = blobs
    params = {"search_steps": 3} if estimator_class.__name__ == "AnoGAN" else {}
    detector = fast(estimator_class, ensemble_size=2, **params).fit(X_train)
    assert all(isinstance(getattr(detector.net_, name + "_"), ModuleBank)
               for name in detector.net_.module_names_)
    scores = detector.score_samples(X_test)
    assert np.isfinite(scores).all()
    assert np.array_equal(pickle.loads(pickle.dumps(detector)).score_samples(X_test),
                          scores)
    detector.save(tmp_path / "ensemble.skgan")
    assert np.array_equal(skgan_ad.load(tmp_path / "ensemble.skgan").score_samples(X_test),
                          scores)


def test_one_gan_is_the_default_and_has_no_banks(blobs):
    detector = fast(EGBAD).fit(blobs[0])
    assert detector.ensemble_size == 1
    assert not any(isinstance(module, ModuleBank)
                   for name in detector.net_.module_names_
                   for module in getattr(detector.net_, name + "_").modules())


def test_a_zero_size_is_refused_in_words(blobs):
    with pytest.raises(InvalidParameterError, match="ensemble_size"):
        EGBAD(ensemble_size=0).fit(blobs[0])


def test_ganomaly_resets_only_the_discriminator_that_won(blobs, monkeypatch):
    # Every step's D "wins", so every step resets the D it trained.
    monkeypatch.setattr(ganomaly, "_D_RESET_LOSS", float("inf"))
    X_train = blobs[0][:64]
    detector = GANomaly(epochs=1, batch_size=64, min_steps=0, ensemble_size=3,
                        random_state=0)
    net = _initial_net(detector, X_train)
    detector.fit(X_train)
    before, after = _weights(net.discriminator_), _weights(detector.net_.discriminator_)
    assert sum(not torch.equal(b, a) for b, a in zip(before, after)) == 1


def test_seed_ensemble_members_can_be_gan_ensembles(blobs):
    X_train, X_test, y_test = blobs
    ensemble = SeedEnsemble(fast(EGBAD, ensemble_size=2), n_members=2,
                            random_state=0).fit(X_train)
    assert isinstance(ensemble.estimators_[0].net_.generator_, ModuleBank)
    assert roc_auc_score(y_test, -ensemble.score_samples(X_test)) > 0.9
