"""
One-class detection on images
=============================

Every detector also works on images: pass an array of shape
``(n_samples, channels, height, width)`` (or flat rows with ``image_shape=``) and it
builds DCGAN-style convolutional networks instead of fully connected ones. Here
:class:`skgan_ad.ALAD` learns scikit-learn's 8x8 handwritten zeros and is asked to find
the other digits among held-out images, the one-class protocol of the GAN
anomaly-detection papers (on MNIST there; ``python -m benchmarks run --suite mnist`` runs that).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from skgan_ad import ALAD
from skgan_ad.datasets import one_class_split

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None]  # (n, 1, 8, 8) in [0, 1]
X_train, X_test, y_test = one_class_split(images, digits.target, 0, protocol="normal")
print(f"{len(X_train)} training zeros; {len(X_test)} test images, "
      f"{y_test.mean():.0%} of them other digits")

# %%
# A short training (``min_steps=0``: exactly 20 passes) keeps the example quick; the
# image networks are chosen from the shape of ``X``, and ``image_shape_`` remembers it.
detector = ALAD(epochs=20, min_steps=0, lr=1e-3, batch_size=32,
                random_state=0).fit(X_train)
print("image_shape_:", detector.image_shape_)
scores = detector.score_samples(X_test)
print(f"AUROC of the other digits against held-out zeros: {roc_auc_score(y_test, -scores):.3f}")

# %%
# The most normal and the most abnormal test images, by score.
order = np.argsort(scores)
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, index in zip(axes[0], order[::-1][:8]):
    ax.imshow(X_test[index, 0], cmap="gray_r")
    ax.set_title(f"{scores[index]:.1f}", fontsize=8)
for ax, index in zip(axes[1], order[:8]):
    ax.imshow(X_test[index, 0], cmap="gray_r")
    ax.set_title(f"{scores[index]:.1f}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
axes[0, 0].set_ylabel("most normal")
fig.suptitle("Top: most normal test images; bottom: most abnormal (score_samples)")
plt.tight_layout()
