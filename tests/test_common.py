"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from reservoir import SNLNNTransformer
from reservoir import SNLNNForecaster, SNLNNSeriesTransformer
from reservoir import AutoSizeClassifier, AutoSizeRegressor
from reservoir import LogisticReadoutClassifier

# Rows of the series estimators are time steps of one series: the output of a
# row depends on the rows before it, by design.
_TIME_STEP_ROWS = (
    "rows are time steps of one series, so each row's output depends on the rows "
    "before it"
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, (SNLNNForecaster, SNLNNSeriesTransformer)):
        return {
            "check_methods_subset_invariance": _TIME_STEP_ROWS,
            "check_methods_sample_order_invariance": _TIME_STEP_ROWS,
        }
    return {}


@parametrize_with_checks(
    [
        SNLNNTransformer(),
        SNLNNTransformer(reservoir_dim=8, density=0.3, n_jobs=2, random_state=0),
        SNLNNSeriesTransformer(),
        SNLNNSeriesTransformer(
            8, density=1.0, include_spikes=True, spike_threshold=0.2, random_state=0
        ),
        SNLNNForecaster(),
        SNLNNForecaster(SNLNNSeriesTransformer(20, density=1.0), washout=0),
        AutoSizeClassifier(block_size=10, max_blocks=3, random_state=0),
        LogisticReadoutClassifier(),
        LogisticReadoutClassifier(standardize=False, fit_intercept=False, n_jobs=2),
        AutoSizeRegressor(
            SNLNNTransformer(leak_rate=1.0, summaries=("final",)),
            block_size=10, max_blocks=3, random_state=0,
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    # Each scikit-learn check raises AssertionError (or the estimator's own
    # error) when the estimator breaks the API contract it tests.
    check(estimator)
