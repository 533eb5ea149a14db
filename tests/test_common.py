"""scikit-learn's own estimator checks, run on every detector, with no exemption."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import ESTIMATORS, fast


@parametrize_with_checks([fast(cls) for cls in ESTIMATORS])
def test_sklearn_compatible(estimator, check):
    check(estimator)
