"""AnoGAN's batched latent search and f-AnoGAN's two training phases."""

import copy

import numpy as np
import pytest
import torch
from conftest import fast
from sklearn.metrics import roc_auc_score
from skorch.callbacks import Callback

from skgan_ad import AnoGAN, FAnoGAN


@pytest.fixture(scope="module")
def blobs():
    """Normal rows from a correlated Gaussian; anomalies shifted off its support."""
    rng = np.random.RandomState(3)
    mixing = rng.normal(size=(6, 6))
    X_train = rng.normal(size=(1000, 6)) @ mixing
    X_anomalous = rng.normal(size=(40, 6)) @ mixing + rng.choice([-6.0, 6.0], (40, 6))
    X_test = np.vstack([rng.normal(size=(200, 6)) @ mixing, X_anomalous])
    return X_train, X_test, np.r_[np.zeros(200, int), np.ones(40, int)]


@pytest.fixture(scope="module")
def anogan(blobs):
    # Fed as given, the networks see the rows these tests search and score directly.
    return fast(AnoGAN, search_steps=40, search_lr=0.01, standardize=False).fit(blobs[0])


def _search(detector, X):
    """Run the fitted detector's latent search on ``X``: final z and steps per row."""
    detector.net_._set_training(False)
    with torch.no_grad():
        z, steps = detector._search(detector.net_, torch.as_tensor(X, dtype=torch.float32))
    return z.numpy(), steps.numpy()


def clone_with(detector, **params):
    """A copy of a fitted detector with other scoring parameters (no refit needed)."""
    return copy.deepcopy(detector).set_params(**params)


@pytest.mark.parametrize("cls", [AnoGAN, FAnoGAN])
def test_anomalies_score_lower(cls, blobs):
    X_train, X_test, y_test = blobs
    scores = fast(cls, epochs=5).fit(X_train).score_samples(X_test)
    assert roc_auc_score(y_test, -scores) > 0.9


@pytest.mark.parametrize("search_tol", [None, 1e-3])
def test_batched_search_equals_row_at_a_time(anogan, blobs, search_tol):
    detector = clone_with(anogan, search_tol=search_tol, search_n_iter_no_change=5)
    X = blobs[1][::12]
    batched = detector.score_samples(X)
    one_by_one = np.array([detector.score_samples(row[None])[0] for row in X])
    np.testing.assert_allclose(one_by_one, batched, rtol=1e-5, atol=1e-6)
    z_batched, steps_batched = _search(detector, X)
    z_alone, steps_alone = zip(*(_search(detector, row[None]) for row in X))
    np.testing.assert_array_equal(np.concatenate(steps_alone), steps_batched)
    np.testing.assert_allclose(np.concatenate(z_alone), z_batched, rtol=1e-4, atol=1e-5)


def test_search_lowers_each_rows_loss(anogan, blobs):
    X = blobs[1]
    searched = -anogan.score_samples(X)
    # One step at a vanishing rate scores the search's start, z0, for every row.
    at_start = -clone_with(anogan, search_steps=1, search_lr=1e-12).score_samples(X)
    assert (searched < at_start).mean() > 0.95
    assert np.median(searched / at_start) < 0.9


def test_score_is_the_search_loss_at_the_final_z(anogan, blobs):
    detector = clone_with(anogan, discrimination_weight=0.3)
    X = blobs[1][:50]
    z, _ = _search(detector, X)
    G = detector.net_.scoring_module("generator")
    D = detector.net_.scoring_module("discriminator")
    with torch.no_grad():
        x, x_gen = torch.as_tensor(X, dtype=torch.float32), G(torch.as_tensor(z))
        residual = (x - x_gen).abs().sum(1)
        discrimination = (D.body(x) - D.body(x_gen)).abs().sum(1)
    expected = (0.7 * residual + 0.3 * discrimination).numpy()
    np.testing.assert_allclose(-detector.score_samples(X), expected, rtol=1e-5)


def test_repeated_rows_are_searched_once(anogan, blobs, monkeypatch):
    X = blobs[1][:30]
    repeated = np.random.RandomState(0).permutation(np.repeat(X, 3, axis=0))
    searched_rows = []
    search = type(anogan)._search

    def recording_search(self, net, x):
        searched_rows.append(len(x))
        return search(self, net, x)

    monkeypatch.setattr(type(anogan), "_search", recording_search)
    scores = anogan.score_samples(repeated)
    # 30 distinct rows of 90: one block of 64 rows searched, not two.
    assert searched_rows == [64]
    expected = dict(zip(map(bytes, X.astype(np.float32)), anogan.score_samples(X)))
    np.testing.assert_allclose(
        scores, [expected[bytes(row)] for row in repeated.astype(np.float32)],
        rtol=1e-5, atol=1e-6)


def test_early_stop_decides_per_row(anogan, blobs):
    X = blobs[1]
    _, steps = _search(clone_with(anogan, search_tol=1e-2, search_n_iter_no_change=5), X)
    assert steps.min() < steps.max() <= anogan.search_steps
    assert len(np.unique(steps)) > 3
    # A tolerance that is never met runs every row through every step: the same
    # search as without early stopping, through the early-stop code path.
    never_stops = clone_with(anogan, search_tol=0.0, search_n_iter_no_change=41)
    np.testing.assert_array_equal(never_stops.score_samples(X), anogan.score_samples(X))


def test_scoring_leaves_networks_and_torch_state_alone(anogan, blobs):
    net = anogan.net_
    before = {name: copy.deepcopy(getattr(net, name + "_").state_dict())
              for name in ("generator", "discriminator", "generator_ema", "search_start")}
    flags = [p.requires_grad for p in net.discriminator_.parameters()]
    rng_state = torch.get_rng_state()
    anogan.score_samples(blobs[1])
    for name, state in before.items():
        for key, value in getattr(net, name + "_").state_dict().items():
            assert torch.equal(value, state[key]), f"{name}.{key} changed"
    assert [p.requires_grad for p in net.discriminator_.parameters()] == flags
    assert torch.is_grad_enabled()
    assert torch.equal(rng_state, torch.get_rng_state())


def test_offset_is_set_on_a_random_subset_of_a_large_training_set(anogan, blobs):
    X_train = blobs[0]
    # Below offset_samples (10,000 by default) every training row sets the offset.
    np.testing.assert_allclose(
        anogan.offset_, np.percentile(anogan.score_samples(X_train), 10), rtol=1e-6)

    detector = clone_with(anogan, offset_samples=300)
    scored = []

    def recording_score(net, x):
        scores = AnoGAN._anomaly_score(detector, net, x)
        scored.append((x.numpy().copy(), scores.numpy().copy()))
        return scores

    detector._anomaly_score = recording_score
    detector.fit(X_train)
    rows = np.vstack([x for x, _ in scored])
    anomaly_scores = np.concatenate([a for _, a in scored])
    # One scoring batch, padded to score_batch_size rows with copies of its first row.
    assert len(rows) == 1024 and (rows[300:] == rows[0]).all()  # the tables' default
    rows, anomaly_scores = rows[:300], anomaly_scores[:300]
    assert len(np.unique(rows, axis=0)) == 300
    training_rows = {row.tobytes() for row in X_train.astype(np.float32)}
    assert all(row.tobytes() in training_rows for row in rows)
    np.testing.assert_allclose(detector.offset_, np.percentile(-anomaly_scores, 10),
                               rtol=1e-6)
    # Same seed, same training: the subset changes the threshold, not the model.
    np.testing.assert_array_equal(detector.score_samples(blobs[1]),
                                  anogan.score_samples(blobs[1]))


class _SnapshotAfterGAN(Callback):
    """Copies G and D when the last WGAN-GP epoch ends, and E when the first ends."""

    def __init__(self, gan_epochs):
        self.gan_epochs = gan_epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            self.encoder = copy.deepcopy(net.encoder_.state_dict())
        if len(net.history) == self.gan_epochs:
            self.generator = copy.deepcopy(net.generator_.state_dict())
            self.discriminator = copy.deepcopy(net.discriminator_.state_dict())


def test_fanogan_trains_the_encoder_with_generator_and_critic_frozen(blobs):
    snapshot = _SnapshotAfterGAN(gan_epochs=2)
    detector = fast(FAnoGAN, epochs=2, encoder_epochs=2, n_critic=4,
                    callbacks=[snapshot]).fit(blobs[0])
    net, history = detector.net_, detector.history_
    for name in ("generator", "discriminator"):
        for key, value in getattr(net, name + "_").state_dict().items():
            assert torch.equal(value, getattr(snapshot, name)[key]), f"{name}.{key} moved"
    assert any(not torch.equal(value, snapshot.encoder[key])
               for key, value in net.encoder_.state_dict().items())
    # WGAN-GP epochs: a critic step per batch, a generator step every n_critic;
    # encoder epochs: the izi_f loss only.
    assert history[:, "epoch"] == [1, 2, 3, 4]
    for batches in (history[0, "batches"], history[1, "batches"]):
        assert all("d_loss" in b and "e_loss" not in b for b in batches)
        assert sum("g_loss" in b for b in batches) == len(batches) // 4
    for batches in (history[2, "batches"], history[3, "batches"]):
        assert all(set(b) & {"d_loss", "g_loss", "e_loss"} == {"e_loss"} for b in batches)


def test_fanogan_score_is_izi_f(blobs):
    detector = fast(FAnoGAN, kappa=0.5, standardize=False).fit(blobs[0])  # nets see X
    X = blobs[1]
    net = detector.net_
    net._set_training(False)
    with torch.no_grad():
        x = torch.as_tensor(X, dtype=torch.float32)
        x_rec = net.generator_(net.encoder_(x))
        f = net.discriminator_.body
        expected = ((x - x_rec) ** 2).mean(1) + 0.5 * ((f(x) - f(x_rec)) ** 2).mean(1)
    np.testing.assert_allclose(-detector.score_samples(X), expected.numpy(), rtol=1e-5)


def test_fanogan_uses_the_official_optimisers(blobs):
    detector = FAnoGAN(epochs=1, encoder_epochs=1, min_steps=0, random_state=0).fit(blobs[0][:200])
    net = detector.net_
    for name in ("optimizer_d_", "optimizer_g_"):
        optimizer = getattr(net, name)
        assert isinstance(optimizer, torch.optim.Adam)
        assert optimizer.defaults["lr"] == 1e-4 and optimizer.defaults["betas"] == (0.0, 0.9)
    assert isinstance(net.optimizer_e_, torch.optim.RMSprop)
    assert net.optimizer_e_.defaults["lr"] == 5e-5
