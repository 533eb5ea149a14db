import os
from pathlib import Path

import numpy as np
import pytest
import torch

from skgan_ad import (
    ALAD,
    EGBAD,
    AnoGAN,
    FAnoGAN,
    FenceGAN,
    SimultaneousEncoderGAN,
    all_detectors,
)

#: Real data sets live beside the repository (../shared/data) or where SKGAN_AD_DATA says.
DATA_DIR = Path(os.environ.get("SKGAN_AD_DATA",
                               Path(__file__).resolve().parents[2] / "shared" / "data"))
KDD99_FILE = DATA_DIR / "kdd99" / "kddcup.data_10_percent.gz"

#: Every public estimator, in a configuration that trains in about a second: exactly
#: ``epochs`` passes (``min_steps=0``), which these tests' data make enough.
FAST = dict(epochs=3, batch_size=32, lr=1e-3, min_steps=0, random_state=0)
ESTIMATORS = [cls for _, cls in all_detectors()]
#: The moving average of a few dozen steps forgets the initial weights only with the
#: warm-up (the official average keeps ema_decay ** steps of them: 0.9999 ** 100 = 99%).
WARM_UP = {"ema_warmup": True}
#: Settings a class needs on top of FAST.
FAST_EXTRA = {# FenceGAN's verdict swings under large steps (at FAST's 1e-3 it ranks
              # KDD99 backwards): its default D learning rate, G's twice D's.
              FenceGAN: {"lr": 1e-4, "generator_lr": 2e-4},
              # Scoring costs search_steps passes of G and D per batch: a short
              # search with larger steps.
              AnoGAN: {"search_steps": 10, "search_lr": 0.1, **WARM_UP},
              FAnoGAN: {"encoder_epochs": 3, "encoder_lr": 1e-3},
              ALAD: WARM_UP, EGBAD: WARM_UP, SimultaneousEncoderGAN: WARM_UP}


def fast(estimator_class, **params):
    return estimator_class(**{**FAST, **FAST_EXTRA.get(estimator_class, {}), **params})


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    # Small networks run fastest with one thread on a 2-core machine.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def kdd99():
    """A 6,000-row KDD99 subsample in the papers' protocol, as 121 one-hot features."""
    if not KDD99_FILE.exists():
        pytest.skip(f"KDD99 file not found at {KDD99_FILE} (set SKGAN_AD_DATA to the "
                    "folder holding kdd99/kddcup.data_10_percent.gz)")
    from skgan_ad.datasets import kdd99_paper_split, load_kdd99

    data = load_kdd99(KDD99_FILE)
    rows = np.random.RandomState(0).choice(len(data.target), 6000, replace=False)
    X, y = data.data.iloc[np.sort(rows)], data.target[np.sort(rows)]
    X_train, X_test, y_test = kdd99_paper_split(X, y)
    return X_train, X_test, y_test
