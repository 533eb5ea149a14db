"""Hostile input, training that diverges, interrupts and model files, for every detector."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skorch.callbacks import Callback
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

import skgan_ad
from skgan_ad.exceptions import ModelFileError, TrainingDivergedError

from conftest import ESTIMATORS, fast

N_FEATURES = 6


@pytest.fixture(scope="module")
def train():
    rng = np.random.RandomState(1)
    return rng.normal(size=(400, N_FEATURES)) @ rng.normal(size=(N_FEATURES, N_FEATURES))


@pytest.fixture(scope="module")
def fitted(train):
    """One fitted detector of each class, shared by the read-only tests."""
    return {cls: fast(cls, epochs=2).fit(train) for cls in ESTIMATORS}


def _hostile_inputs():
    """Inputs every fit and every scoring method must refuse, and the words to say."""
    good = np.random.RandomState(0).normal(size=(40, N_FEATURES))
    with_nan, with_inf, with_ninf = good.copy(), good.copy(), good.copy()
    with_nan[3, 2], with_inf[5, 1], with_ninf[0, 0] = np.nan, np.inf, -np.inf
    text = good.astype(object)
    text[0, 0] = "tcp"
    dates = pd.DataFrame(good).assign(when=pd.Timestamp("2020-01-01")).iloc[:, 1:]
    return {
        "nan": (with_nan, ValueError, "NaN"),
        "+inf": (with_inf, ValueError, "infinity"),
        "-inf": (with_ninf, ValueError, "infinity"),
        "nan in a sparse matrix": (sp.csr_matrix(with_nan), ValueError, "NaN"),
        "nullable frame with NA": (pd.DataFrame(good).astype("Float64").where(
            lambda frame: frame > -2), ValueError, "NaN"),
        "beyond float32": (good * 1e300, ValueError, "too large for .*float32"),
        "empty": (np.empty((0, N_FEATURES)), ValueError, "0 sample"),
        "1-d": (good[:, 0], ValueError, "2D array"),
        "3-d": (good[:36].reshape(6, N_FEATURES, N_FEATURES), ValueError, "dim 3"),
        "scalar": (3.0, ValueError, "2D array"),
        "None": (None, ValueError, "2D array"),
        "ragged rows": ([[1.0] * N_FEATURES, [1.0]], ValueError, "inhomogeneous"),
        "strings": (text, ValueError, "non-numeric"),
        "string frame": (pd.DataFrame(text), ValueError, "non-numeric"),
        "categorical frame": (pd.DataFrame(text).astype("category"), ValueError,
                              "non-numeric"),
        "complex": (good + 1j, ValueError, "Complex data"),
        "datetimes": (dates, TypeError, "dates"),
        "dicts": (np.array([[{"a": 1}] * N_FEATURES] * 3), TypeError, "cannot use X"),
    }


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("case", list(_hostile_inputs()))
def test_hostile_input_gets_a_clear_error(cls, case, fitted):
    X, error, message = _hostile_inputs()[case]
    with pytest.raises(error, match=message):
        fast(cls, epochs=1).fit(X)
    detector = fitted[cls]
    for method in (detector.score_samples, detector.decision_function, detector.predict):
        with pytest.raises(error, match=message):
            method(X)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_number_of_features_at_scoring(cls, fitted, train):
    detector = fitted[cls]
    for method in (detector.score_samples, detector.decision_function, detector.predict):
        with pytest.raises(ValueError, match=f"X has 5 features, but .* is expecting "
                                             f"{N_FEATURES}"):
            method(train[:, :5])


def _equivalent_inputs(rows):
    """The same rows in every other form a user may hand over."""
    read_only = rows.astype(np.float32)
    read_only.flags.writeable = False
    return {
        "float64": rows,
        "float16": rows.astype(np.float16),
        "Fortran order": np.asfortranarray(rows),
        "strided view": np.repeat(rows, 2, axis=0)[::2],
        "object array of numbers": rows.astype(object),
        "list of lists": rows.tolist(),
        "DataFrame": pd.DataFrame(rows),
        "CSR matrix": sp.csr_matrix(rows),
        "CSC matrix": sp.csc_matrix(rows),
        "COO matrix": sp.coo_matrix(rows),
        "read-only array": read_only,
    }


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_other_dtypes_and_containers_score_like_float32(cls, fitted, train):
    detector = fitted[cls]
    rows = train[:50]
    expected = detector.score_samples(rows.astype(np.float32))
    for name, X in _equivalent_inputs(rows).items():
        # float16 rounds the input itself (by up to 1/2048 of a value, which
        # standardising enlarges for a feature whose spread is small next to its
        # values, and AnoGAN's search then follows); the others must give the float32
        # scores.
        rtol = 5e-2 if name == "float16" else 1e-6
        np.testing.assert_allclose(detector.score_samples(X), expected, rtol=rtol,
                                   atol=1e-5, err_msg=name)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_integer_and_boolean_data_fit_and_score(cls):
    rng = np.random.RandomState(0)
    for X in (rng.randint(0, 5, size=(200, 4)), rng.rand(200, 4) > 0.5,
              rng.randint(0, 255, size=(200, 4)).astype(np.uint8)):
        detector = fast(cls, epochs=1).fit(X)
        assert np.isfinite(detector.score_samples(X)).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_sparse_training_data_fits_like_dense(cls, train):
    dense = fast(cls, epochs=1).fit(train).score_samples(train)
    sparse = fast(cls, epochs=1).fit(sp.csr_matrix(train)).score_samples(train)
    np.testing.assert_allclose(sparse, dense, rtol=1e-6)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_constant_columns_give_finite_scores(cls, train):
    X = np.hstack([train, np.zeros((len(train), 2)), np.full((len(train), 1), 7.0)])
    detector = fast(cls, epochs=2).fit(X)
    scores = detector.score_samples(X)
    assert np.isfinite(scores).all() and np.ptp(scores) > 0


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_values_of_huge_magnitude_score_lowest_and_finite(cls, fitted, train):
    detector = fitted[cls]
    X = train[:20].copy()
    X[:5] = 1e30
    X[5, 0] = -3e38
    with pytest.warns(RuntimeWarning, match="6 rows lie far outside the training data"):
        scores = detector.score_samples(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        labels = detector.predict(X)
        decision = detector.decision_function(sp.csr_matrix(X))
    assert np.isfinite(scores).all() and np.isfinite(decision).all()
    assert (scores[:6] < detector.score_samples(train).min()).all()
    assert (labels[:6] == -1).all()
    # Every scikit-learn metric takes them: here they are the six anomalies.
    assert roc_auc_score(np.arange(20) < 6, -scores) == 1.0


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_one_row_and_one_feature(cls):
    X = np.random.RandomState(0).normal(size=(100, 1))
    detector = fast(cls, epochs=1).fit(X)
    assert detector.score_samples(X[:1]).shape == (1,)
    assert np.isfinite(detector.score_samples([[0.0], [1e6]])).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_needs_two_rows(cls):
    with pytest.raises(ValueError, match="minimum of 2"):
        fast(cls).fit(np.ones((1, 3)))


# Property-based: any finite array of the right width, within float32's range, scores
# to finite values (wider values get a clear error, see "beyond float32" above).
def _finite_array(dtype):
    bounds = {"min_value": -3e38, "max_value": 3e38} if dtype == np.float64 else {}
    return hnp.arrays(
        dtype=dtype, shape=st.tuples(st.integers(1, 40), st.just(N_FEATURES)),
        elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False,
                                **bounds))


_SCORABLE = st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64,
                             np.uint8, np.bool_]).flatmap(_finite_array)


@pytest.mark.parametrize("cls", ESTIMATORS)
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=_SCORABLE)
def test_any_finite_array_scores_finitely(cls, fitted, X):
    detector = fitted[cls]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows far out score lowest
        scores = detector.score_samples(X)
        labels = detector.predict(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    assert set(np.unique(labels)) <= {-1, 1}


@pytest.mark.parametrize("cls", ESTIMATORS)
@settings(max_examples=4, deadline=None)
@given(shape=st.tuples(st.integers(2, 60), st.integers(1, 5)),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.bool_]),
       seed=st.integers(0, 2**16))
def test_any_small_data_set_fits(cls, shape, dtype, seed):
    X = (np.random.RandomState(seed).normal(size=shape) * 3).astype(dtype)
    detector = fast(cls, epochs=1).fit(X)
    scores = detector.score_samples(X)
    assert np.isfinite(scores).all()
    assert detector.n_features_in_ == shape[1]


# Divergence ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", ESTIMATORS)
def test_absurd_learning_rate_stops_with_a_clear_error(cls, train):
    with pytest.raises(TrainingDivergedError,
                       match=r"became nan at epoch 1, batch \d+\. Try a lower learning "
                             r"rate \(lr=1e\+30"):
        # 1e30, not 1e6: at 1e6 the saturating losses of FenceGAN and the WGAN critic
        # of SimultaneousEncoderGAN stay finite for a few epochs.
        fast(cls, lr=1e30).fit(train)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_diverging_refit_keeps_the_previous_model(cls, train):
    detector = fast(cls, epochs=1).fit(train)
    before = detector.score_samples(train)
    with pytest.raises(TrainingDivergedError):
        detector.set_params(lr=1e30).fit(train)
    np.testing.assert_array_equal(detector.score_samples(train), before)


# Interrupts ----------------------------------------------------------------------

class _InterruptAt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C does) at one batch of one epoch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_batch_begin(self, net, **kwargs):
        if (len(net.history) == self.epoch
                and len(net.history[-1, "batches"]) == self.batch):
            raise KeyboardInterrupt


def _epochs(cls, total):
    """Parameters for ``total`` epochs; FAnoGAN's spend one in its GAN phase and the
    rest in its encoder phase, so that epoch 2 is a complete (if short) model."""
    if "encoder_epochs" in cls().get_params():
        return {"epochs": 1, "encoder_epochs": total - 1}
    return {"epochs": total}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_interrupt_keeps_the_model_of_the_last_finished_epoch(cls, train):
    interrupted = fast(cls, **_epochs(cls, 5), callbacks=[_InterruptAt(epoch=3, batch=4)])
    with pytest.warns(UserWarning, match="keeping the model of epoch 2"):
        interrupted.fit(train)
    two_epochs = fast(cls, **_epochs(cls, 2)).fit(train)
    assert len(interrupted.history_) == 2
    np.testing.assert_array_equal(interrupted.score_samples(train),
                                  two_epochs.score_samples(train))
    assert interrupted.offset_ == two_epochs.offset_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_interrupt_in_the_first_epoch_leaves_the_estimator_unfitted(cls, train):
    detector = fast(cls, callbacks=[_InterruptAt(epoch=1, batch=2)])
    with pytest.raises(KeyboardInterrupt, match="before its first epoch"):
        detector.fit(train)
    with pytest.raises(NotFittedError):
        detector.score_samples(train)


# Model files ---------------------------------------------------------------------

@pytest.mark.parametrize("cls", ESTIMATORS)
def test_save_load_gives_identical_scores(cls, train, tmp_path):
    frame = pd.DataFrame(train, columns=[f"f{i}" for i in range(N_FEATURES)])
    detector = fast(cls, epochs=2).fit(frame)
    path = tmp_path / "model.safetensors"
    detector.save(path)
    for loaded in (skgan_ad.load(path), cls.load(path), skgan_ad.load(path, device="cpu")):
        assert type(loaded) is cls
        assert loaded.get_params() == detector.get_params() | (
            {"device": "cpu"} if loaded.device == "cpu" else {})
        np.testing.assert_array_equal(loaded.score_samples(frame),
                                      detector.score_samples(frame))
        np.testing.assert_array_equal(loaded.predict(frame), detector.predict(frame))
        assert loaded.offset_ == detector.offset_
        assert list(loaded.feature_names_in_) == list(frame.columns)
        np.testing.assert_array_equal(loaded.history_[:, "d_loss"], detector.history_[:, "d_loss"])
    # A loaded model can be refitted like any estimator.
    assert np.isfinite(skgan_ad.load(path).fit(train).score_samples(train)).all()


def test_a_file_of_another_estimator_is_refused(fitted, tmp_path):
    first, second = ESTIMATORS[:2]
    path = tmp_path / "model.safetensors"
    fitted[first].save(path)
    with pytest.raises(ModelFileError, match=f"holds a model of class {first.__name__}, "
                                             f"not {second.__name__}"):
        second.load(path)


def _model_file(fitted, tmp_path):
    path = tmp_path / "model.safetensors"
    fitted[ESTIMATORS[0]].save(path)
    return path, path.read_bytes()


def test_a_corrupted_file_is_refused(fitted, tmp_path):
    path, content = _model_file(fitted, tmp_path)
    damaged = bytearray(content)
    damaged[-20] ^= 0xFF  # a bit flip inside the weights
    path.write_bytes(bytes(damaged))
    with pytest.raises(ModelFileError, match="fails its checksum"):
        skgan_ad.load(path)


@pytest.mark.parametrize("damage", ["truncated", "header bytes", "empty", "random bytes"])
def test_an_unreadable_file_is_refused(damage, fitted, tmp_path):
    path, content = _model_file(fitted, tmp_path)
    path.write_bytes({
        "truncated": content[: len(content) // 2],
        "header bytes": content[:8] + b"{not json" + content[17:],
        "empty": b"",
        "random bytes": np.random.RandomState(0).bytes(4096),
    }[damage])
    with pytest.raises(ModelFileError, match="not a readable skgan_ad model file"):
        skgan_ad.load(path)


def test_a_pickle_or_foreign_safetensors_file_is_refused(fitted, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(fitted[ESTIMATORS[0]]))
    with pytest.raises(ModelFileError, match="not a readable skgan_ad model file"):
        skgan_ad.load(path)
    from safetensors.numpy import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": np.zeros(3, dtype=np.float32)}, foreign)
    with pytest.raises(ModelFileError, match="not an skgan_ad model"):
        skgan_ad.load(foreign)


def test_a_file_from_a_newer_format_is_refused(fitted, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    path, _ = _model_file(fitted, tmp_path)
    with safe_open(path, framework="pt") as file:
        metadata = file.metadata()
        tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    save_file(tensors, path, metadata={**metadata, "format_version": "99"})
    with pytest.raises(ModelFileError, match="format 99.*Upgrade skgan_ad"):
        skgan_ad.load(path)


def test_mismatched_weights_are_refused(train, tmp_path):
    cls = ESTIMATORS[0]
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = tmp_path / "model.safetensors"
    fast(cls, epochs=1).fit(train).save(path)
    narrow = tmp_path / "narrow.safetensors"
    fast(cls, epochs=1).fit(train[:, :4]).save(narrow)
    # Wide metadata (and checksum) with the narrow model's weights.
    with safe_open(path, framework="pt") as wide_file, \
            safe_open(narrow, framework="pt") as narrow_file:
        metadata = wide_file.metadata()
        tensors = {name: narrow_file.get_tensor(name) for name in narrow_file.keys()}  # noqa: SIM118
    from skgan_ad._persistence import _checksum

    save_file(tensors, path, metadata={**metadata, "sha256": _checksum(tensors)})
    with pytest.raises(ModelFileError, match="do not fit .*size mismatch"):
        skgan_ad.load(path)


def test_saving_needs_a_fitted_model_and_leaves_out_callbacks(train, tmp_path):
    cls = ESTIMATORS[0]
    with pytest.raises(NotFittedError):
        fast(cls).save(tmp_path / "model.safetensors")
    detector = fast(cls, epochs=1, callbacks=[Callback()]).fit(train)
    with pytest.warns(UserWarning, match="callbacks are code"):
        detector.save(tmp_path / "model.safetensors")
    assert skgan_ad.load(tmp_path / "model.safetensors").callbacks is None


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("widths", [(), (0,), (16, -8), (8.5,), (True,), ("64",)])
def test_layer_widths_that_are_not_positive_integers_get_a_clear_error(cls, widths,
                                                                       fitted, train):
    detector = fitted[cls]
    before = detector.score_samples(train[:20])
    names = [name for name in detector.get_params() if name.endswith("_hidden")]
    assert names
    for name in names:
        with pytest.raises(ValueError, match=f"'{name}' .* positive integers"):
            detector.set_params(**{name: widths}).fit(train)
        detector.set_params(**{name: cls().get_params()[name]})
        np.testing.assert_array_equal(detector.score_samples(train[:20]), before)
