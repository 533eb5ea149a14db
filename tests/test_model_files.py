"""skgan_ad.save / skgan_ad.load of whole fitted Pipelines: same scores, no code run."""

import io
import json
import os
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

import skgan_ad
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.exceptions import ModelFileError

from conftest import ESTIMATORS, fast


@pytest.fixture(scope="module")
def kdd99_sample():
    """Raw KDD99 rows (strings and numbers) of the bundled sample, in the paper protocol."""
    data = load_kdd99(sample=True)
    X_train, X_test, y_test = kdd99_paper_split(data.data, data.target)
    return X_train.iloc[:1500], X_test.iloc[:600], y_test[:600]


@pytest.fixture(scope="module")
def saved_pipeline(kdd99_sample, tmp_path_factory):
    X_train, _, _ = kdd99_sample
    pipeline = make_pipeline(make_kdd99_preprocessor("log"),
                             fast(ESTIMATORS[0], epochs=1)).fit(X_train)
    path = tmp_path_factory.mktemp("model") / "pipeline.skgan"
    skgan_ad.save(pipeline, path)
    return path, path.read_bytes()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_kdd99_pipeline_loads_with_identical_scores(cls, kdd99_sample, tmp_path):
    X_train, X_test, _ = kdd99_sample
    pipeline = make_pipeline(make_kdd99_preprocessor("standard"),
                             fast(cls, epochs=1)).fit(X_train)
    path = tmp_path / "pipeline.skgan"
    assert skgan_ad.save(pipeline, path) is pipeline
    loaded = skgan_ad.load(path)
    # Raw rows, strings included, go through the loaded preprocessor as through the saved.
    for method in ("score_samples", "decision_function", "predict"):
        np.testing.assert_array_equal(getattr(loaded, method)(X_test),
                                      getattr(pipeline, method)(X_test))
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipeline.steps]
    assert type(loaded[-1]) is cls and loaded[-1].get_params() == pipeline[-1].get_params()


def test_nested_containers_and_a_bare_detector(kdd99_sample, tmp_path):
    X_train, X_test, _ = kdd99_sample
    numeric = X_train.select_dtypes("number").columns
    union = FeatureUnion([("standard", StandardScaler()), ("minmax", MinMaxScaler())])
    pipeline = make_pipeline(
        ColumnTransformer([("numbers", make_pipeline(FunctionTransformer(np.log1p), union),
                            numeric)]),
        fast(ESTIMATORS[1], epochs=1)).fit(X_train)
    skgan_ad.save(pipeline, tmp_path / "nested.skgan")
    np.testing.assert_array_equal(skgan_ad.load(tmp_path / "nested.skgan").score_samples(X_test),
                                  pipeline.score_samples(X_test))
    # A bare detector is the safetensors file detector.save writes.
    detector = pipeline[-1]
    skgan_ad.save(detector, tmp_path / "detector.safetensors")
    assert type(skgan_ad.load(tmp_path / "detector.safetensors")) is type(detector)


class WritesAFileWhenLoaded(TransformerMixin, BaseEstimator):
    """What a malicious model file would carry: loading it runs code."""

    def __init__(self, marker=""):
        self.marker = marker

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def __setstate__(self, state):
        with open(state["marker"], "w") as file:
            file.write("code ran")
        self.__dict__.update(state)


def test_a_file_with_an_untrusted_object_is_refused_without_running_it(kdd99_sample,
                                                                       tmp_path):
    X_train, _, _ = kdd99_sample
    marker = tmp_path / "code_ran.txt"
    pipeline = make_pipeline(make_kdd99_preprocessor("standard"),
                             WritesAFileWhenLoaded(str(marker)),
                             fast(ESTIMATORS[0], epochs=1)).fit(X_train)
    path = tmp_path / "pipeline.skgan"
    with pytest.warns(UserWarning, match="WritesAFileWhenLoaded"):
        skgan_ad.save(pipeline, path)
    name = f"{__name__}.WritesAFileWhenLoaded"
    with pytest.raises(ModelFileError, match=f"not trusted: \\['{name}'\\]"):
        skgan_ad.load(path)
    assert not marker.exists()
    # A user who trusts the type says so by name.
    skgan_ad.load(path, trusted=[name])
    assert marker.read_text() == "code ran"


def test_a_file_naming_a_dangerous_function_is_refused(kdd99_sample, tmp_path):
    X_train, _, _ = kdd99_sample
    detector = fast(ESTIMATORS[0], epochs=1).fit(make_kdd99_preprocessor().fit_transform(X_train))
    path = tmp_path / "pipeline.skgan"
    with pytest.warns(UserWarning, match="system"):
        skgan_ad.save(make_pipeline(FunctionTransformer(os.system), detector), path)
    with pytest.raises(ModelFileError, match="system"):
        skgan_ad.load(path)


def _rewrite(path, content, **replaced):
    """The archive ``content`` with members replaced, CRCs valid: only checksums can tell."""
    source = zipfile.ZipFile(io.BytesIO(content))
    with zipfile.ZipFile(path, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, replaced.get(name, source.read(name)))


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "member changed",
                                    "newer format", "not a model archive"])
def test_a_damaged_archive_is_refused(damage, saved_pipeline, tmp_path):
    _, content = saved_pipeline
    path = tmp_path / "damaged.skgan"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("manifest.json"))
    if damage == "truncated":
        path.write_bytes(content[: len(content) // 2])
        expected = "not a readable skgan_ad model file"
    elif damage == "flipped byte":
        damaged = bytearray(content)
        damaged[len(content) // 3] ^= 0xFF  # inside the deflated weights
        path.write_bytes(bytes(damaged))
        expected = "not a readable skgan_ad model file"
    elif damage == "member changed":
        weights = zipfile.ZipFile(io.BytesIO(content)).read("detector-0.safetensors")
        damaged = bytearray(weights)
        damaged[-10] ^= 0xFF
        _rewrite(path, content, **{"detector-0.safetensors": bytes(damaged)})
        expected = "fails its checksum: detector-0.safetensors"
    elif damage == "newer format":
        manifest["format_version"] = 99
        _rewrite(path, content, **{"manifest.json": json.dumps(manifest)})
        expected = "Upgrade skgan_ad"
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data.csv", "1,2,3")
        expected = "not an skgan_ad model archive"
    with pytest.raises(ModelFileError, match=expected):
        skgan_ad.load(path)


def test_an_unsupported_container_is_refused_at_save(kdd99_sample, tmp_path):
    X_train, _, _ = kdd99_sample
    X = make_kdd99_preprocessor("standard").fit_transform(X_train)
    search = GridSearchCV(fast(ESTIMATORS[0], epochs=1), {"lr": [1e-3]}, cv=2,
                          scoring=lambda estimator, X, y=None: 0.0).fit(X)
    path = tmp_path / "search.skgan"
    with pytest.raises(TypeError, match="Pipeline, ColumnTransformer, FeatureUnion, SeedEnsemble or VotingDetector"):
        skgan_ad.save(search, path)
    assert not path.exists()
    # Its best estimator is a detector, which saves.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        skgan_ad.save(search.best_estimator_, path)
