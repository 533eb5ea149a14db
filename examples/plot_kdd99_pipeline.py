"""
KDD99 in a pipeline
===================

Fit :class:`skgan_ad.ALAD` as the last step of a :class:`~sklearn.pipeline.Pipeline`
that one-hot encodes and standardises the KDD Cup 99 features, on the 20,000-row sample
bundled with the package, in the protocol of the ALAD and EGBAD papers: train on the
"normal" rows of one half (the attacks, which are the majority class) and score the
other half, where "normal." traffic is the anomaly.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import RocCurveDisplay
from sklearn.pipeline import make_pipeline

from skgan_ad import ALAD
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor

data = load_kdd99(sample=True)
X_train, X_test, y_test = kdd99_paper_split(data.data, data.target)
print(f"{len(X_train)} training rows, {len(X_test)} test rows, "
      f"{y_test.mean():.1%} anomalies in the test rows")

# %%
# A few epochs, and ``min_steps=0`` to train exactly those, keep the example quick;
# the defaults of the official code (and the benchmark) train longer.
detector = make_pipeline(make_kdd99_preprocessor("standard"),
                         ALAD(epochs=3, min_steps=0, random_state=0))
detector.fit(X_train)

# %%
# ``score_samples`` is higher for normal rows; ``predict`` flags the rows below the
# ``contamination`` quantile of the training scores.
scores = detector.score_samples(X_test)
flagged = detector.predict(X_test) == -1
print(f"flagged {flagged.mean():.1%} of the test rows; "
      f"{y_test[flagged].mean():.1%} of the flagged rows are anomalies")

fig, (hist, roc) = plt.subplots(1, 2, figsize=(10, 4))
bins = np.linspace(scores.min(), scores.max(), 60)
hist.hist(scores[y_test == 0], bins=bins, alpha=0.6, label="normal (attacks)")
hist.hist(scores[y_test == 1], bins=bins, alpha=0.6, label="anomaly (normal. traffic)")
hist.axvline(detector[-1].offset_, color="k", linestyle="--", label="offset_")
hist.set_xlabel("score_samples")
hist.legend()
# The anomaly class is the positive one, so the anomaly score is -score_samples.
RocCurveDisplay.from_predictions(y_test, -scores, ax=roc, name="ALAD")
plt.tight_layout()
