"""
Tuning with GridSearchCV and labelled scorers
=============================================

When a few labelled anomalies are available (``y == 1`` marks an anomaly, the PyOD
convention), :mod:`skgan_ad.metrics` provides scorers that rank a detector by how well
its scores find them. scikit-learn's own ``"roc_auc"`` would treat the *inlier* class as
positive for a detector, so use these instead, with shuffled stratified folds so that
every fold holds anomalies.
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from skgan_ad import EGBAD
from skgan_ad.datasets import kdd99_paper_split, load_kdd99, make_kdd99_preprocessor
from skgan_ad.metrics import ANOMALY_SCORERS

data = load_kdd99(sample=True)
_, X_test, y_test = kdd99_paper_split(data.data, data.target)
# A labelled subset to tune on (a fifth of the test half, to keep the example short).
X, y = X_test.iloc[::5], y_test[::5]

pipeline = Pipeline([("features", make_kdd99_preprocessor("standard")),
                     ("egbad", EGBAD(epochs=2, min_steps=0, random_state=0))])
search = GridSearchCV(
    pipeline,
    {"egbad__score_type": ["cross-e", "fm"], "egbad__alpha": [0.5, 0.9]},
    scoring=ANOMALY_SCORERS, refit="roc_auc",
    cv=StratifiedKFold(3, shuffle=True, random_state=0))
search.fit(X, y)

# %%
# Every parameter combination with its mean AUROC, average precision and F1 across the
# folds; ``search.best_estimator_`` is refitted on all of ``X``.
results = pd.DataFrame(search.cv_results_)
print(results[["params", "mean_test_roc_auc", "mean_test_average_precision",
               "mean_test_f1"]].to_string(index=False))
print("best:", search.best_params_)
