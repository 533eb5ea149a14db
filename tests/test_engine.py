"""The training engine: every update goes through the net, callbacks see every step."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, GradientNormClipping
from torch.optim.optimizer import register_optimizer_step_post_hook

import skgan_ad
from skgan_ad import FAnoGAN, FenceGAN, all_detectors
from skgan_ad.base import BaseGANDetector

from conftest import ESTIMATORS, fast


@pytest.fixture(scope="module")
def rows():
    return np.random.RandomState(0).normal(size=(256, 6))


class GradientRecorder(Callback):
    """Counts ``on_grad_computed`` calls and the parameters that had gradients."""

    def initialize(self):
        self.calls, self.parameters_with_gradients = 0, []
        return self

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        self.calls += 1
        self.parameters_with_gradients.append(
            sum(parameter.grad is not None for _, parameter in named_parameters))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_callback_sees_every_optimizer_step_once(cls, rows):
    steps = []
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: steps.append(optimizer))
    recorder = GradientRecorder()
    try:
        detector = fast(cls, epochs=2, callbacks=[recorder]).fit(rows)
    finally:
        handle.remove()
    # Each minimise steps one optimizer here (the methods group theirs so).
    assert recorder.calls == len(steps) > 0
    assert min(recorder.parameters_with_gradients) > 0
    batches = sum(len(epoch["batches"]) for epoch in detector.history_)
    assert recorder.calls >= batches


def _weights(net):
    return torch.cat([parameter.detach().flatten() for name in net.module_names_
                      if not name.endswith("_ema")
                      for parameter in getattr(net, name + "_").parameters()])


class WeightDrift(Callback):
    """How far training moved the weights from their initial values (L2)."""

    def on_train_begin(self, net, **kwargs):
        self.initial = _weights(net).clone()

    def on_train_end(self, net, **kwargs):
        self.drift = float((_weights(net) - self.initial).norm())


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_gradient_norm_clipping_holds_the_updates_back(cls, rows):
    free, clipped = WeightDrift(), WeightDrift()
    fast(cls, epochs=2, callbacks=[free]).fit(rows)
    # Gradients clipped far below the optimizers' epsilon (1e-8) make every step tiny.
    fast(cls, epochs=2, callbacks=[clipped, GradientNormClipping(1e-12)]).fit(rows)
    assert free.drift > 0
    assert clipped.drift < 0.01 * free.drift


def _detectors_defined_in_methods():
    found = set()
    for info in pkgutil.walk_packages(skgan_ad.methods.__path__, "skgan_ad.methods."):
        module = importlib.import_module(info.name)
        found.update(obj for _, obj in inspect.getmembers(module, inspect.isclass)
                     if issubclass(obj, BaseGANDetector) and not inspect.isabstract(obj)
                     and obj.__module__ == module.__name__)
    return found


def test_every_detector_is_discovered_exported_and_tested():
    defined = _detectors_defined_in_methods()
    assert len(defined) >= 7
    assert {cls for _, cls in all_detectors()} == defined
    assert {getattr(skgan_ad, name) for name, _ in all_detectors()} == defined
    assert set(ESTIMATORS) == defined


def test_phases_set_the_epochs_and_the_losses_of_each_epoch(rows):
    detector = fast(FAnoGAN, epochs=2, encoder_epochs=3).fit(rows)
    history = detector.history_
    assert len(history) == 5
    # Every epoch has the same columns, so the printed log stays aligned.
    assert len({tuple(sorted(epoch)) for epoch in history}) == 1
    assert np.isfinite(history[:2, "d_loss"]).all() and np.isnan(history[2:, "d_loss"]).all()
    assert np.isnan(history[:2, "e_loss"]).all() and np.isfinite(history[2:, "e_loss"]).all()

    fence = fast(FenceGAN, epochs=3, pretrain_epochs=1).fit(rows).history_
    assert np.isnan(fence[0, "g_loss"]) and np.isfinite(fence[1:, "g_loss"]).all()
    assert np.isfinite(fence[:, "d_loss"]).all()


@pytest.mark.parametrize("image_shape", [None, (1, 8, 8)])
def test_averaged_spectral_norms_scale_the_averaged_weights(image_shape):
    """Each spectrally normalised layer of a moving average has spectral norm 1."""
    import torch
    from torch.nn.utils import parametrize

    from skgan_ad import ALAD

    X = np.random.RandomState(0).normal(size=(256, 64)).astype(np.float32)
    detector = fast(ALAD, spectral_norm=True, ema_decay=0.99, epochs=2,
                    image_shape=image_shape).fit(X)
    layers = [layer for name in ("encoder", "discriminator_xx")
              for layer in getattr(detector.net_, name + "_ema_").modules()
              if parametrize.is_parametrized(layer)]
    assert len(layers) >= 2
    with torch.no_grad():
        for layer in layers:
            sigma = torch.linalg.matrix_norm(layer.weight.flatten(1), ord=2).item()
            assert sigma == pytest.approx(1.0, abs=1e-3)


class GeneratorSnapshots(Callback):
    """The generator's weights before training and after every training step."""

    def on_train_begin(self, net, **kwargs):
        self.snapshots = [self._weights(net)]

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.snapshots.append(self._weights(net))

    @staticmethod
    def _weights(net):
        return torch.nn.utils.parameters_to_vector(net.generator_.parameters()).detach()


@pytest.mark.parametrize("warmup", [False, True])
def test_moving_average_follows_the_official_or_the_warm_up_schedule(warmup, rows):
    """The average starts from the initial weights and takes in every step's weights
    at ``ema_decay`` (the official code's average) or at the warm-up's capped decay
    (which binds at every one of these 16 steps: (1 + t) / (10 + t) < 0.95)."""
    from skgan_ad import EGBAD

    snapshots = GeneratorSnapshots()
    detector = fast(EGBAD, ema_decay=0.95, ema_warmup=warmup, epochs=2,
                    callbacks=[snapshots]).fit(rows)
    expected = snapshots.snapshots[0].clone()
    for t, weights in enumerate(snapshots.snapshots[1:], start=1):
        decay = min(0.95, (1 + t) / (10 + t)) if warmup else 0.95
        expected = decay * expected + (1 - decay) * weights
    averaged = torch.nn.utils.parameters_to_vector(
        detector.net_.generator_ema_.parameters())
    assert len(snapshots.snapshots) - 1 == detector.net_.ema_updates_ == 16
    torch.testing.assert_close(averaged, expected, rtol=0, atol=1e-5)
