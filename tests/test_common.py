"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from reservoir import SNLNNTransformer


@parametrize_with_checks(
    [
        SNLNNTransformer(),
        SNLNNTransformer(reservoir_dim=8, density=0.3, n_jobs=2, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check):
    # Each scikit-learn check raises AssertionError (or the estimator's own
    # error) when the estimator breaks the API contract it tests.
    check(estimator)
