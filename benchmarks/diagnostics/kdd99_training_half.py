"""The training half of the KDD99 paper split, with the anomalies the protocol drops.

``skgan_ad.datasets.kdd99_paper_split`` keeps only the normal rows of its training
half. Model selection (``fencegan_validation.py``) and the contamination benchmark
(``contamination.py``) also need that half's anomalies; taking them from the same
half keeps the test half untouched.
"""

import numpy as np
import pandas as pd

from skgan_ad.datasets import kdd99_paper_split


def training_half(data, target, random_state=42):
    """Split KDD99 as :func:`kdd99_paper_split` and keep the training half's anomalies.

    Returns
    -------
    X_normal : DataFrame
        The training rows of the paper protocol (the training half's normal rows).
    X_anomalous : DataFrame
        The training half's anomalies, which the protocol drops.
    X_test, y_test : DataFrame, ndarray
        The test half, as :func:`kdd99_paper_split` returns it.
    """
    X_normal, X_test, y_test = kdd99_paper_split(data, target, random_state=random_state)
    # The same draw as kdd99_paper_split's training half.
    half = data.sample(frac=0.5, random_state=random_state)
    labels = pd.Series(np.asarray(target), index=data.index)[half.index].to_numpy()
    return X_normal, half[labels == 1], X_test, y_test
