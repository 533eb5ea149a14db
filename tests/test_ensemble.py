"""SeedEnsemble and VotingDetector: scikit-learn meta-estimators averaging detectors' normalised
scores, over seeds or over methods."""

import pickle

import numpy as np
import torch
import pytest
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import skgan_ad
from skgan_ad import ALAD, SeedEnsemble, VotingDetector
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.metrics import ANOMALY_SCORERS

from conftest import fast


@parametrize_with_checks([SeedEnsemble(fast(ALAD, epochs=1), n_members=2, random_state=0),
                          SeedEnsemble(IsolationForest(n_estimators=10), n_members=3,
                                       random_state=0),
                          VotingDetector([("alad", fast(ALAD, epochs=1)),
                                          ("forest", IsolationForest(n_estimators=10,
                                                                     random_state=0))])])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def kdd99_sample():
    data = load_kdd99(sample=True)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target)
    return X_train.iloc[:3000], X_test.iloc[:2000], y_test[:2000]


def test_members_are_seeded_apart_inside_a_pipeline(kdd99_sample):
    X_train, X_test, y_test = kdd99_sample
    pipeline = make_pipeline(make_kdd99_preprocessor("standard"), fast(ALAD, epochs=1))
    ensemble = SeedEnsemble(pipeline, n_members=3, random_state=0).fit(X_train)
    seeds = [member[-1].random_state for member in ensemble.estimators_]
    assert seeds == list(ensemble.seeds_) and len(set(seeds)) == 3
    # The template is cloned, never fitted.
    assert not hasattr(pipeline[-1], "net_")
    member_scores = [member.score_samples(X_test) for member in ensemble.estimators_]
    assert not np.allclose(member_scores[0], member_scores[1])
    # Each member's training rows spread over [0, 1] after normalisation, so the
    # ensemble's training scores do too, and its offset_ is their 10% quantile.
    train_scores = ensemble.score_samples(X_train)
    assert 0 <= train_scores.min() < 0.2 and 0.8 < train_scores.max() <= 1
    assert np.mean(train_scores < ensemble.offset_) == pytest.approx(0.1, abs=0.01)
    # The ensemble ranks KDD99's attacks as its members do, well above chance.
    assert roc_auc_score(y_test, -ensemble.score_samples(X_test)) > 0.9


def test_rows_beyond_every_training_row_keep_their_order():
    # EllipticEnvelope's score, minus the Mahalanobis distance, falls with the distance.
    X = np.random.RandomState(0).normal(size=(300, 3))
    ensemble = SeedEnsemble(EllipticEnvelope(), n_members=2, random_state=0).fit(X)
    far = np.array([[4.0, 0, 0], [8.0, 0, 0], [50.0, 0, 0]])
    scores = ensemble.score_samples(far)
    assert (scores < ensemble.score_samples(X).min()).all()
    assert scores[0] > scores[1] > scores[2]


class _FailsOnOddSeeds(OutlierMixin, BaseEstimator):
    """Minus the distance to the training mean, except that a fit with an odd seed
    fails: it scores rows at random, on the scale of its training scores."""

    def __init__(self, random_state=0):
        self.random_state = random_state

    def fit(self, X, y=None):
        self.center_ = np.mean(X, axis=0)
        self.failed_ = self.random_state % 2 == 1
        return self

    def score_samples(self, X):
        if self.failed_:
            return np.random.RandomState(self.random_state % 1000 + len(X)).normal(size=len(X))
        return -np.linalg.norm(X - self.center_, axis=1)


def test_the_median_of_members_ignores_members_that_failed():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 3))
    X_test = np.vstack([rng.normal(size=(400, 3)), rng.normal(size=(40, 3)) + 2])
    y_test = np.r_[np.zeros(400), np.ones(40)]

    def found(scores):
        """Share of the anomalies among the 40 rows scored most abnormal."""
        return y_test[np.argsort(scores)[:40]].mean()

    # A seed for the ensemble whose five members include two failed fits.
    random_state = next(seed for seed in range(100) if np.sum(np.random.RandomState(seed)
                        .randint(np.iinfo(np.int32).max, size=5) % 2) == 2)
    scores = {}
    for combination in ("median", "mean"):
        ensemble = SeedEnsemble(_FailsOnOddSeeds(), n_members=5, combination=combination,
                                random_state=random_state).fit(X)
        assert sum(member.failed_ for member in ensemble.estimators_) == 2
        scores[combination] = ensemble.score_samples(X_test)
    sound = _FailsOnOddSeeds(random_state=0).fit(X).score_samples(X_test)
    # The median ranks as a sound member does; the mean finds far fewer anomalies.
    assert roc_auc_score(y_test, -scores["median"]) == pytest.approx(
        roc_auc_score(y_test, -sound), abs=0.01)
    assert found(scores["median"]) == pytest.approx(found(sound), abs=0.05)
    assert found(scores["mean"]) < found(scores["median"]) - 0.2


def test_a_member_parameter_is_tuned_through_grid_search(kdd99_sample):
    X_train, X_test, y_test = kdd99_sample
    X = np.vstack([make_kdd99_preprocessor("standard").fit(X_train).transform(X_test)])
    ensemble = SeedEnsemble(fast(ALAD, epochs=1), n_members=2, random_state=0)
    search = GridSearchCV(ensemble, {"estimator__latent_dim": [4, 8]},
                          scoring=ANOMALY_SCORERS, refit="roc_auc",
                          cv=StratifiedKFold(2, shuffle=True, random_state=0)).fit(X, y_test)
    assert search.best_estimator_.estimators_[0].latent_dim == (
        search.best_params_["estimator__latent_dim"])
    assert len(search.cv_results_["mean_test_roc_auc"]) == 2


def test_pickle_and_the_safe_model_file_score_identically(kdd99_sample, tmp_path):
    X_train, X_test, _ = kdd99_sample
    ensemble = SeedEnsemble(
        make_pipeline(make_kdd99_preprocessor(), StandardScaler(), fast(ALAD, epochs=1)),
        n_members=2, random_state=0).fit(X_train)
    expected = ensemble.score_samples(X_test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ensemble)).score_samples(X_test),
                                  expected)
    skgan_ad.save(ensemble, tmp_path / "ensemble.skgan")
    loaded = skgan_ad.load(tmp_path / "ensemble.skgan")
    assert type(loaded) is SeedEnsemble and len(loaded.estimators_) == 2
    np.testing.assert_array_equal(loaded.score_samples(X_test), expected)
    np.testing.assert_array_equal(loaded.predict(X_test), ensemble.predict(X_test))


@pytest.fixture(scope="module")
def blobs():
    """Normal rows from a correlated Gaussian; anomalies shifted off its support."""
    rng = np.random.RandomState(42)
    mixing = rng.normal(size=(8, 8))
    X_train = (rng.normal(size=(1500, 8)) @ mixing).astype(np.float32)
    X_test = np.vstack([rng.normal(size=(300, 8)) @ mixing,
                        rng.normal(size=(60, 8)) @ mixing + rng.choice([-6.0, 6.0], (60, 8))])
    return X_train, X_test.astype(np.float32), np.r_[np.zeros(300), np.ones(60)]


@pytest.mark.parametrize("batch_norm", [False, True])
def test_a_stacked_network_computes_what_its_members_compute(batch_norm):
    """Member-major rows through the stacked network give each member's own output,
    in training (batch statistics) and eval mode (running statistics), and a member
    copied back out is that member."""
    from skgan_ad.networks import mlp
    from skgan_ad.networks.members import copy_member, stack_members, stackable

    torch.manual_seed(0)
    members = [mlp(5, (8, 6), 3, batch_norm=batch_norm) for _ in range(3)]
    assert stackable(members[0])
    stacked = stack_members(members)
    x = torch.randn(3 * 4, 5)
    for training in (True, False):
        for module in (*members, stacked):
            module.train(training)
        expected = torch.cat([member(x[4 * i:4 * (i + 1)]) for i, member in
                              enumerate(members)])
        torch.testing.assert_close(stacked(x), expected)
    single = mlp(5, (8, 6), 3, batch_norm=batch_norm).eval()
    copy_member(stacked, 1, single)
    torch.testing.assert_close(single(x[:4]), members[1](x[:4]))


def test_stacked_members_are_the_members_fitted_one_by_one(blobs):
    """GANomaly draws no noise: each stacked member starts from the weights and reads
    the batches of its own fit, so it scores as that fit does, up to float rounding."""
    from skgan_ad import GANomaly

    X_train, X_test, y_test = blobs
    member = GANomaly(epochs=2, min_steps=0, device="cpu")
    stacked = SeedEnsemble(member, n_members=3, random_state=0).fit(X_train)
    one_by_one = SeedEnsemble(member, n_members=3, random_state=0,
                              stacked=False).fit(X_train)
    for fitted, reference in zip(stacked.estimators_, one_by_one.estimators_):
        np.testing.assert_allclose(fitted.score_samples(X_test),
                                   reference.score_samples(X_test), rtol=1e-3, atol=1e-4)
        assert fitted.offset_ == pytest.approx(reference.offset_, rel=1e-3, abs=1e-4)
    assert roc_auc_score(y_test, -stacked.score_samples(X_test)) > 0.8


def test_stacked_anogan_members_keep_their_own_search_start(blobs):
    """AnoGAN's search start is drawn, not trained: each stacked member keeps the draw
    of its own fit."""
    from skgan_ad import AnoGAN

    X_train = blobs[0][:200]
    member = fast(AnoGAN, epochs=1)
    members = member._fit_members(X_train, [1, 2])
    alone = [clone(member).set_params(random_state=state).fit(X_train) for state in (1, 2)]
    for stacked_member, reference in zip(members, alone):
        torch.testing.assert_close(stacked_member.net_.search_start_.z,
                                   reference.net_.search_start_.z)
    assert not torch.equal(members[0].net_.search_start_.z, members[1].net_.search_start_.z)


def test_n_jobs_shares_the_stacked_members_out_between_processes(blobs):
    """With n_jobs=2, three members train as two stacks in two processes: each
    member is the one its stack trains in this process."""
    from skgan_ad import EGBAD

    X_train, X_test, y_test = blobs
    member = fast(EGBAD, epochs=1)
    ensemble = SeedEnsemble(member, n_members=3, n_jobs=2, random_state=0).fit(X_train)
    seeds = [int(seed) for seed in ensemble.seeds_]
    here = [*member._fit_members(X_train, seeds[:2]), *member._fit_members(X_train, seeds[2:])]
    assert [fitted.random_state for fitted in ensemble.estimators_] == seeds
    for fitted, reference in zip(ensemble.estimators_, here):
        np.testing.assert_array_equal(fitted.score_samples(X_test),
                                      reference.score_samples(X_test))
    assert roc_auc_score(y_test, -ensemble.score_samples(X_test)) > 0.8


def test_members_that_do_not_stack_are_fitted_one_by_one(blobs):
    from skgan_ad import ALAD

    X_train = blobs[0][:200]
    member = fast(ALAD, epochs=1, spectral_norm=True)
    assert member._fit_members(X_train, [1, 2]) is None  # spectral norm does not stack
    ensemble = SeedEnsemble(member, n_members=2, random_state=0).fit(X_train)
    assert len(ensemble.estimators_) == 2


def test_voting_ranks_as_its_members_and_tunes_a_member_by_name(kdd99_sample):
    X_train, X_test, y_test = kdd99_sample
    voting = VotingDetector([
        ("alad", make_pipeline(make_kdd99_preprocessor("standard"), fast(ALAD, epochs=1))),
        ("forest", make_pipeline(make_kdd99_preprocessor("standard"),
                                 IsolationForest(random_state=0)))]).fit(X_train)
    assert list(voting.named_estimators_) == ["alad", "forest"]
    assert voting.named_estimators_.alad is voting.estimators_[0]
    # The templates are cloned, never fitted, and each member keeps its own seed.
    assert not hasattr(voting.estimators[0][1][-1], "net_")
    assert voting.estimators_[0][-1].random_state == voting.estimators[0][1][-1].random_state
    train_scores = voting.score_samples(X_train)
    assert np.mean(train_scores < voting.offset_) == pytest.approx(0.1, abs=0.01)
    # Two members that rank KDD99's attacks well: so does their vote.
    member_aurocs = [roc_auc_score(y_test, -member.score_samples(X_test))
                     for member in voting.estimators_]
    assert min(member_aurocs) > 0.9
    assert roc_auc_score(y_test, -voting.score_samples(X_test)) > min(member_aurocs)
    assert voting.get_params()["alad__alad__latent_dim"] == voting.estimators[0][1][-1].latent_dim
    voting.set_params(alad__alad__latent_dim=4)
    assert voting.estimators[0][1][-1].latent_dim == 4


def test_voting_weights_decide_each_members_share():
    X = np.random.RandomState(0).normal(size=(300, 3))
    X_test = np.random.RandomState(1).normal(size=(50, 3)) * 2
    members = [("forest", IsolationForest(n_estimators=20, random_state=0)),
               ("gaussian", EllipticEnvelope(random_state=0))]
    only_forest = VotingDetector(members, weights=[1, 0]).fit(X)
    forest_alone = SeedEnsemble(members[0][1], n_members=1).fit(X)
    forest_alone.estimators_[0] = only_forest.estimators_[0]
    forest_alone.quantiles_ = only_forest.quantiles_[:1]
    np.testing.assert_allclose(only_forest.score_samples(X_test),
                               forest_alone.score_samples(X_test))
    alike = VotingDetector(members).fit(X).score_samples(X_test)
    gaussian = VotingDetector(members, weights=[0, 1]).fit(X).score_samples(X_test)
    np.testing.assert_allclose(alike, (only_forest.score_samples(X_test) + gaussian) / 2)


@pytest.mark.parametrize("estimators, weights, message", [
    ([], None, "non-empty list of \\(name, estimator\\) tuples"),
    ([IsolationForest()], None, "non-empty list of \\(name, estimator\\) tuples"),
    ([("a", IsolationForest()), ("a", EllipticEnvelope())], None, "not unique"),
    ([("a", IsolationForest()), ("b", StandardScaler())], None,
     "member 'b' must be an outlier detector with fit and score_samples"),
    ([("a", IsolationForest()), ("b", EllipticEnvelope())], [1.0], "2 non-negative numbers"),
    ([("a", IsolationForest()), ("b", EllipticEnvelope())], [1.0, -1.0],
     "2 non-negative numbers"),
])
def test_voting_rejects_bad_members_and_weights_in_words(estimators, weights, message):
    X = np.random.RandomState(0).normal(size=(50, 3))
    with pytest.raises((ValueError, TypeError), match=message):
        VotingDetector(estimators, weights=weights).fit(X)


def test_a_voting_detector_round_trips_through_the_safe_model_file(kdd99_sample, tmp_path):
    X_train, X_test, _ = kdd99_sample
    voting = VotingDetector([
        ("alad", make_pipeline(make_kdd99_preprocessor(), StandardScaler(),
                               fast(ALAD, epochs=1))),
        ("forest", make_pipeline(make_kdd99_preprocessor(),
                                 IsolationForest(n_estimators=10, random_state=0)))],
        weights=[2, 1]).fit(X_train)
    expected = voting.score_samples(X_test)
    # A forest's trees are a type skops loads only when asked: save says so, in words.
    with pytest.warns(UserWarning, match=r"trusted=\['sklearn.tree._tree.Tree'\]"):
        skgan_ad.save(voting, tmp_path / "voting.skgan")
    loaded = skgan_ad.load(tmp_path / "voting.skgan", trusted=["sklearn.tree._tree.Tree"])
    assert type(loaded) is VotingDetector and list(loaded.named_estimators_) == ["alad", "forest"]
    np.testing.assert_array_equal(loaded.score_samples(X_test), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(voting)).score_samples(X_test),
                                  expected)
