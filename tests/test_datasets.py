"""The KDD99 loader, the papers' split and the 121-feature preprocessing."""

import numpy as np
import pytest

from skgan_ad import datasets
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

from conftest import KDD99_FILE


def test_bundled_sample_loads_offline():
    bunch = load_kdd99(sample=True)
    assert bunch.data.shape == (20000, 41)
    assert bunch.source == "bundled sample"
    # "normal." traffic is the anomaly class and about a fifth of the file.
    assert 0.15 < bunch.target.mean() < 0.25
    np.testing.assert_array_equal(bunch.target, bunch.labels == "normal.")


def test_preprocessor_gives_the_papers_121_features():
    X, _ = load_kdd99(sample=True, return_X_y=True)
    features = make_kdd99_preprocessor().fit_transform(X)
    assert features.shape == (20000, 121)
    # Seven one-hot blocks: every row has exactly one 1 in each block.
    assert (features[:, :87].sum(axis=1) == 7).all()
    scaled = make_kdd99_preprocessor("minmax").fit_transform(X)
    assert scaled.min() >= 0 and scaled.max() <= 1
    with pytest.raises(ValueError, match="scaler"):
        make_kdd99_preprocessor("robust")


def test_log_scaling_keeps_one_hots_and_orders_of_magnitude():
    X, _ = load_kdd99(sample=True, return_X_y=True)
    raw = make_kdd99_preprocessor().fit_transform(X)
    logged = make_kdd99_preprocessor("log").fit_transform(X)
    np.testing.assert_array_equal(logged[:, :87], raw[:, :87])
    np.testing.assert_allclose(logged[:, 87:], np.log1p(raw[:, 87:]))
    # src_bytes spans several orders of magnitude; its log stays small.
    src_bytes = list(X.columns.drop(list(datasets.KDD99_CATEGORIES))).index("src_bytes")
    assert raw[:, 87 + src_bytes].max() > 1e4 > 20 > logged[:, 87 + src_bytes].max()
    negative = X.head(3).assign(src_bytes=-5)
    with pytest.raises(ValueError, match="non-negative"):
        make_kdd99_preprocessor("log").fit(X).transform(negative)


def test_fetch_failure_falls_back_to_the_bundled_sample(monkeypatch):
    def offline(download_if_missing):
        raise OSError("no internet")

    monkeypatch.setattr(datasets, "_fetch_kdd99", offline)
    with pytest.warns(UserWarning, match="bundled"):
        bunch = load_kdd99()
    assert bunch.source == "bundled sample"


def test_full_file_and_paper_split():
    if not KDD99_FILE.exists():
        pytest.skip(f"KDD99 file not found at {KDD99_FILE}")
    bunch = load_kdd99(KDD99_FILE)
    assert bunch.data.shape == (494021, 41)
    X_train, X_test, y_test = kdd99_paper_split(bunch.data, bunch.target)
    # The official code's split: 198,361 normal training rows, 247,011 test rows.
    assert len(X_train) == 198361
    assert len(X_test) == 247011
    assert abs(y_test.mean() - 0.1969) < 1e-4
