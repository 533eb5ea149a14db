"""Every detector on images: scikit-learn's 8x8 digits, as 4-D arrays and as rows."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skgan_ad
from skgan_ad.networks import ImageBlocks

from conftest import ESTIMATORS, fast


@pytest.fixture(scope="module")
def digits():
    """Zeros to train on; held-out zeros and other digits to score, as (n, 1, 8, 8)."""
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]
    zeros, others = images[data.target == 0], images[data.target != 0]
    return zeros[:120], np.concatenate([zeros[120:], others[:60]])


@pytest.fixture(scope="module")
def fitted(digits):
    return {cls: fast(cls, epochs=1).fit(digits[0]) for cls in ESTIMATORS}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_images_get_convolutional_networks_and_finite_scores(cls, fitted, digits):
    detector = fitted[cls]
    assert detector.image_shape_ == (1, 8, 8) and detector.n_features_in_ == 64
    assert any(type(module).__name__ == "Conv2d"
               for name in detector.net_.module_names_
               for module in getattr(detector.net_, name + "_").modules())
    scores = detector.score_samples(digits[1])
    assert scores.shape == (len(digits[1]),) and np.isfinite(scores).all()
    assert set(detector.predict(digits[1])) <= {-1, 1}


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_rows_with_image_shape_train_the_same_model_as_4d_images(cls, fitted, digits):
    """A Pipeline passes images as rows; ``image_shape`` restores their geometry."""
    train, test = digits
    pipeline = make_pipeline(FunctionTransformer(lambda X: X.reshape(len(X), -1)),
                             fast(cls, epochs=1, image_shape=(1, 8, 8)))
    pipeline.fit(train)
    np.testing.assert_array_equal(pipeline.score_samples(test),
                                  fitted[cls].score_samples(test))
    # A fitted image model also scores flat rows of the right width.
    np.testing.assert_array_equal(fitted[cls].score_samples(test.reshape(len(test), -1)),
                                  fitted[cls].score_samples(test))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_image_models_round_trip_through_pickle_and_model_files(cls, fitted, digits,
                                                               tmp_path):
    detector, test = fitted[cls], digits[1]
    expected = detector.score_samples(test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(detector)).score_samples(test),
                                  expected)
    detector.save(tmp_path / "model.safetensors")
    loaded = skgan_ad.load(tmp_path / "model.safetensors")
    assert loaded.image_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(loaded.score_samples(test), expected)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_same_random_state_same_image_scores(cls, fitted, digits):
    again = fast(cls, epochs=1).fit(digits[0])
    np.testing.assert_array_equal(again.score_samples(digits[1]),
                                  fitted[cls].score_samples(digits[1]))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_wrong_image_shapes_get_clear_errors(cls, fitted, digits):
    detector = fitted[cls]
    with pytest.raises(ValueError, match=r"images of shape \(1, 4, 16\), but .* fitted "
                                         r"on images of shape \(1, 8, 8\)"):
        detector.score_samples(digits[1].reshape(-1, 1, 4, 16))
    with pytest.raises(ValueError, match="X has 32 features, but .* expecting 64"):
        detector.score_samples(digits[1].reshape(-1, 64)[:, :32])
    with pytest.raises(ValueError, match=r"image_shape=\(1, 8, 9\) has 72 pixels, but X "
                                         r"has 64 features"):
        fast(cls, image_shape=(1, 8, 9)).fit(digits[0].reshape(-1, 64))
    with pytest.raises(ValueError, match=r"images of shape \(1, 8, 8\), but "
                                         r"image_shape=\(3, 8, 8\)"):
        fast(cls, image_shape=(3, 8, 8)).fit(digits[0])


def test_tabular_model_refuses_images(fitted, digits):
    tabular = fast(ESTIMATORS[0], epochs=1).fit(digits[0].reshape(-1, 64))
    with pytest.raises(ValueError, match="fitted on rows of 64 features"):
        tabular.score_samples(digits[1])


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32), (3, 64, 64),
                                   (1, 20, 12)])
def test_blocks_fit_every_image_size(shape):
    import torch

    from skgan_ad.networks import JointDiscriminator, PairDiscriminator, mlp

    blocks = ImageBlocks(shape)
    x = torch.randn(3, int(np.prod(shape)))
    with torch.no_grad():
        z = blocks.encoder(16, (64,))(x)
        x_gen = blocks.generator(16, (64,))(z)
        pair_logit, _ = PairDiscriminator(blocks.pair_body((32,)))(x, x_gen)
        joint_logit, _ = JointDiscriminator(blocks.x_branch((32,)), mlp(16, (32,)),
                                            mlp(64, (32,)))(x, z)
    assert z.shape == (3, 16) and x_gen.shape == x.shape
    assert pair_logit.shape == joint_logit.shape == (3,)


def test_too_elongated_images_get_a_clear_error():
    with pytest.raises(ValueError, match="too elongated"):
        ImageBlocks((1, 64, 4))
