"""Every detector on images: scikit-learn's 8x8 digits, as 4-D arrays and as rows."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skgan_ad
from skgan_ad.networks import ImageBlocks, normal_init

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


def _scored_batch_sizes(detector, X):
    """The row counts of the batches ``detector.score_samples(X)`` runs the networks on."""
    sizes = []
    score = detector._anomaly_score
    detector._anomaly_score = lambda net, x: (sizes.append(len(x)), score(net, x))[1]
    try:
        detector.score_samples(X)
    finally:
        del detector._anomaly_score
    return sizes


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_default_score_batches_are_small_for_images_large_for_tables(cls, fitted, digits):
    """Every batch is padded to score_batch_size rows: "auto" keeps images' small."""
    train, test = digits
    assert _scored_batch_sizes(fitted[cls], test[:10]) == [256]
    tabular = fast(cls, epochs=1).fit(train.reshape(len(train), -1))
    assert _scored_batch_sizes(tabular, test[:10].reshape(10, -1)) == [
        1024 if cls is skgan_ad.AnoGAN else 4096]
    # An explicit size wins, for images and tables, without a refit.
    image_model = pickle.loads(pickle.dumps(fitted[cls]))
    image_model.set_params(score_batch_size=7)
    assert _scored_batch_sizes(image_model, test[:10]) == [7, 7]


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
        x_branch = blocks.x_branch((32,))
        joint_logit, _ = JointDiscriminator(x_branch, mlp(16, (32,)),
                                            mlp(x_branch.out_features + 32, (32,)))(x, z)
    assert z.shape == (3, 16) and x_gen.shape == x.shape
    assert pair_logit.shape == joint_logit.shape == (3,)


def test_too_elongated_images_get_a_clear_error():
    with pytest.raises(ValueError, match="too elongated"):
        ImageBlocks((1, 64, 4))


def _image_modules(cls, shape=(1, 28, 28)):
    """The freshly built networks of a detector for images of ``shape``."""
    detector = cls(image_shape=shape, random_state=0)
    detector.n_features_in_, detector.image_shape_ = int(np.prod(shape)), shape
    torch.manual_seed(0)
    return detector._build_modules()


def _layers(modules, kinds):
    return [layer for module in modules.values() for layer in module.modules()
            if type(layer) in kinds]


#: Initial weight scale of the official image code (None: Glorot, from the fan sizes).
OFFICIAL_CONV_STD = {"GANomaly": 0.02, "AnoGAN": 0.02, "EGBAD": 0.02, "FenceGAN": 0.02,
                     "ALAD": 0.01, "FAnoGAN": None}


@pytest.mark.parametrize("name", sorted(OFFICIAL_CONV_STD))
def test_fresh_convolutions_start_from_the_official_initialisation(name):
    modules = _image_modules(getattr(skgan_ad, name))
    convolutions = _layers(modules, {nn.Conv2d, nn.ConvTranspose2d})
    assert convolutions
    for conv in convolutions:
        weight = conv.weight.detach()
        fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
        std = OFFICIAL_CONV_STD[name] or np.sqrt(2 / (fan_in + fan_out))
        assert abs(weight.mean().item()) < 0.2 * std
        assert weight.std().item() == pytest.approx(std, rel=0.1)
        assert conv.bias is None or not conv.bias.any()
    for norm in _layers(modules, {nn.BatchNorm2d}):
        if OFFICIAL_CONV_STD[name] is not None:  # DCGAN draws the scales too
            assert norm.weight.std().item() == pytest.approx(OFFICIAL_CONV_STD[name],
                                                             rel=0.3)


def test_ganomaly_discriminator_reset_redraws_every_layer():
    D = _image_modules(skgan_ad.GANomaly)["discriminator"]
    with torch.no_grad():
        for parameter in D.parameters():
            parameter.fill_(3.0)
        for norm in _layers({"D": D}, {nn.BatchNorm2d}):
            norm.running_mean.fill_(5.0)
    normal_init(D)
    for conv in _layers({"D": D}, {nn.Conv2d}):
        assert conv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    norms = _layers({"D": D}, {nn.BatchNorm2d})
    assert norms and all(not norm.running_mean.any() and not norm.bias.any()
                         for norm in norms)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_image_generators_end_as_the_official_ones(cls):
    """tanh outputs in [-1, 1], except pGAN's linear one (SimultaneousEncoderGAN)."""
    modules = _image_modules(cls)
    generator = modules.get("generator", modules.get("decoder"))
    generator.eval()
    latent_dim = generator[0].in_features if isinstance(generator[0], nn.Linear) \
        else cls().latent_dim
    with torch.no_grad():
        images = generator(50 * torch.randn(64, latent_dim))
    assert images.shape == (64, 28 * 28)
    if cls is skgan_ad.SimultaneousEncoderGAN:
        assert not isinstance(generator[-1], nn.Tanh)
    else:
        assert isinstance(generator[-1], nn.Tanh) and images.abs().max() <= 1


def test_official_image_normalisation_of_each_network():
    """Batch norm where the DCGAN code has it; layer norm in the WGAN-GP critic."""
    def norms(module):
        return {type(layer).__name__ for layer in module.modules()
                if isinstance(layer, (nn.BatchNorm2d, nn.GroupNorm))}

    ganomaly = _image_modules(skgan_ad.GANomaly)
    assert all(norms(ganomaly[name]) == {"BatchNorm2d"} for name in ganomaly)
    fanogan = _image_modules(skgan_ad.FAnoGAN)
    assert norms(fanogan["discriminator"]) == {"GroupNorm"}
    assert norms(fanogan["encoder"]) == norms(fanogan["generator"]) == {"BatchNorm2d"}
    assert norms(_image_modules(skgan_ad.FenceGAN)["discriminator"]) == set()
    assert norms(_image_modules(skgan_ad.ALAD)["discriminator_xx"]) == set()
    seg = _image_modules(skgan_ad.SimultaneousEncoderGAN)
    assert all(norms(seg[name]) == set() for name in seg)


class _BufferRecorder(Callback):
    """Copies of G's and D's batch-norm statistics and weights after every epoch."""

    def initialize(self):
        self.states = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.states.append({
            name: {key: value.clone() for key, value in
                   getattr(net, name + "_").state_dict().items()}
            for name in ("generator", "discriminator")})


def test_fanogan_encoder_phase_leaves_generator_and_critic_untouched(digits):
    recorder = _BufferRecorder()
    fast(skgan_ad.FAnoGAN, epochs=1, encoder_epochs=2, callbacks=[recorder]).fit(
        digits[0] * 2 - 1)
    after_gan, after_encoder = recorder.states[0], recorder.states[-1]
    running = [key for key in after_gan["generator"] if "running" in key]
    assert running  # G has batch norm, whose statistics must not drift
    for name in after_gan:
        for key, value in after_gan[name].items():
            torch.testing.assert_close(after_encoder[name][key], value, rtol=0, atol=0)


def test_one_class_split_documents_the_protocol_the_mnist_benchmark_runs():
    """Both name the same methods' official code under each protocol."""
    from benchmarks.suites import mnist
    from skgan_ad.datasets import one_class_split

    def methods_of(text, protocol):
        text = " ".join(text.split())
        start = text.index(f'``"{protocol}"``' if '``"' in text else f"``{protocol}``")
        clause = text[start:].split("the official code of:", 1)[1]
        return {name.strip(" .)") for name in clause.split(")")[0].split(",")}

    for protocol in ("normal", "anomalous"):
        documented = methods_of(one_class_split.__doc__, protocol)
        assert documented == methods_of(mnist.__doc__, protocol)
    assert methods_of(one_class_split.__doc__, "anomalous") == {"EGBAD", "Fence GAN",
                                                                 "GANomaly"}
