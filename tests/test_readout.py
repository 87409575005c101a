"""Tests for the chunked ridge readouts and the SNLNN meta-estimators.

The ridge readouts are compared with exact mathematics: scikit-learn's
``Ridge(solver="cholesky")`` and ``RidgeClassifier`` on the same data.
"""

import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import LinAlgWarning
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import (
    Ridge,
    RidgeClassifier,
)
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from reservoir import LogisticReadoutClassifier
from reservoir._readout import (
    RidgeReadout,
    RidgeReadoutClassifier,
    SNLNNClassifier,
    SNLNNRegressor,
)
from reservoir._transformer import SNLNNTransformer


def _regression_data(n_samples, n_features, n_targets, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    # A large common offset makes the intercept path fail loudly if the Gram
    # were centred naively (sum x x^T - n m m^T cancels catastrophically).
    X = rng.standard_normal((n_samples, n_features)) * 2.0 + 5.0
    coef = rng.standard_normal((n_features, max(n_targets, 1)))
    y = X @ coef + 0.1 * rng.standard_normal((n_samples, max(n_targets, 1))) + 3.0
    if n_targets == 0:
        y = y[:, 0]
    return X.astype(dtype), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# ---------------------------------------------------------------------------
# RidgeReadout against sklearn.linear_model.Ridge
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 7, 40, 4096])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_targets", [0, 1, 3], ids=["1d", "2d-1", "2d-3"])
@pytest.mark.parametrize("shape", [(40, 6), (12, 20)], ids=["tall", "wide"])
def test_ridge_matches_sklearn_float64(chunk_size, fit_intercept, n_targets, shape):
    X, y = _regression_data(*shape, n_targets)
    alpha = 0.7
    ours = RidgeReadout(alpha=alpha, fit_intercept=fit_intercept, chunk_size=chunk_size)
    ours.fit(X, y)
    ref = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky").fit(X, y)

    ref_coef, ref_pred = ref.coef_, ref.predict(X)
    if n_targets == 1:
        # Ridge ravels coef_ and predictions for a single-column 2-D y; like
        # LinearRegression we keep the 2-D shapes the caller asked for.
        ref_coef, ref_pred = ref_coef.reshape(1, -1), ref_pred.reshape(-1, 1)
    assert ours.coef_.shape == ref_coef.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    assert ours.coef_.dtype == np.float64
    assert_allclose(ours.coef_, ref_coef, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.predict(X), ref_pred, rtol=1e-8, atol=1e-9)
    assert ours.n_samples_seen_ == shape[0]


@pytest.mark.parametrize("chunk_size", [1, 100, 4096])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_float32_input(chunk_size, fit_intercept):
    X, y = _regression_data(300, 10, 2, dtype=np.float32)
    ours = RidgeReadout(alpha=1.0, fit_intercept=fit_intercept, chunk_size=chunk_size)
    ours.fit(X, y)
    # Reference in float64 on exactly the same (float32-rounded) values.
    ref = Ridge(alpha=1.0, fit_intercept=fit_intercept, solver="cholesky")
    ref.fit(X.astype(np.float64), y)

    assert ours.coef_.dtype == np.float32
    if fit_intercept:
        assert ours.intercept_.dtype == np.float32
    assert ours.predict(X).dtype == np.float32
    # float32 products per chunk: only chunk-sized rounding error survives.
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-4)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-3)


def test_ridge_integer_input_is_float64():
    X, y = _regression_data(30, 4, 0)
    Xi = np.round(X).astype(np.int64)
    ours = RidgeReadout().fit(Xi, y)
    assert ours.coef_.dtype == np.float64
    ref = Ridge(solver="cholesky").fit(Xi.astype(np.float64), y)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)


def test_ridge_zero_alpha_full_rank_is_least_squares():
    X, y = _regression_data(50, 5, 0)
    ours = RidgeReadout(alpha=0.0, chunk_size=9).fit(X, y)
    design = np.column_stack([X, np.ones(len(X))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    assert_allclose(ours.coef_, solution[:-1], rtol=1e-8)
    assert_allclose(ours.intercept_, solution[-1], rtol=1e-8)


def test_ridge_zero_alpha_singular_warns_and_falls_back():
    X, y = _regression_data(30, 3, 0)
    X = np.column_stack([X, X[:, 0]])  # exactly collinear column
    reg = RidgeReadout(alpha=0.0, fit_intercept=False)
    with pytest.warns(LinAlgWarning, match="least-squares"):
        reg.fit(X, y)
    # Minimum-norm solution: the duplicated columns share the weight equally.
    assert_allclose(reg.coef_[0], reg.coef_[3], rtol=1e-6)
    assert_allclose(reg.predict(X), X @ np.linalg.pinv(X) @ y, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ridge_memory_order_does_not_matter(fit_intercept, dtype):
    # GER updates a Fortran view of the C-ordered Gram: check both input layouts.
    X, y = _regression_data(70, 6, 3)
    X = X.astype(dtype)
    c_order = RidgeReadout(fit_intercept=fit_intercept, chunk_size=20).fit(X, y)
    f_order = RidgeReadout(fit_intercept=fit_intercept, chunk_size=20).fit(
        np.asfortranarray(X), y
    )
    ref = Ridge(alpha=1.0, fit_intercept=fit_intercept, solver="cholesky").fit(
        X.astype(np.float64), y
    )
    rtol = 1e-8 if dtype == np.float64 else 1e-4
    assert_allclose(c_order.coef_, f_order.coef_, rtol=rtol)
    assert_allclose(c_order.coef_, ref.coef_, rtol=rtol)
    assert_allclose(c_order.intercept_, ref.intercept_, rtol=rtol, atol=1e-9)


def test_ridge_partial_fit_equals_fit():
    X, y = _regression_data(101, 8, 2)
    full = RidgeReadout(alpha=0.3, chunk_size=16).fit(X, y)
    streamed = RidgeReadout(alpha=0.3, chunk_size=16)
    for rows in np.split(np.arange(len(X)), [1, 30, 31, 77]):
        streamed.partial_fit(X[rows], y[rows])
    assert streamed.n_samples_seen_ == len(X)
    assert_allclose(streamed.coef_, full.coef_, rtol=1e-9)
    assert_allclose(streamed.intercept_, full.intercept_, rtol=1e-9)


def test_ridge_partial_fit_mixed_dtypes():
    # The shift is taken from a float64 batch and later batches arrive in
    # float32, which rounds the shift differently. With a 1e4 offset that
    # rounding (~1e-3) is visible next to the unit spread of the data: without
    # the exact shift correction coef_ is off by ~6e-5 and the intercept by
    # ~2e-5 relative; with it, both stay at float32 accuracy.
    rng = np.random.RandomState(0)
    X32 = (rng.standard_normal((200, 6)) + 1e4).astype(np.float32)
    y = (X32 - 1e4) @ rng.standard_normal(6) + 0.1 * rng.standard_normal(200)
    ref = Ridge(alpha=1.0, solver="cholesky").fit(X32.astype(np.float64), y)
    reg = RidgeReadout(alpha=1.0).partial_fit(X32[:50].astype(np.float64), y[:50])
    reg.partial_fit(X32[50:], y[50:])
    assert reg.coef_.dtype == np.float32  # follows the last X
    assert_allclose(reg.coef_, ref.coef_, atol=1e-5)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=5e-6)


def test_ridge_fit_discards_partial_fit_statistics():
    X, y = _regression_data(60, 4, 0)
    reg = RidgeReadout().partial_fit(X[:30], y[:30] + 100.0)
    reg.fit(X, y)
    assert reg.n_samples_seen_ == 60
    assert_allclose(reg.coef_, RidgeReadout().fit(X, y).coef_)


def test_ridge_partial_fit_checks_consistency():
    X, y = _regression_data(20, 4, 2)
    reg = RidgeReadout().partial_fit(X, y)
    with pytest.raises(ValueError, match="targets"):
        reg.partial_fit(X, y[:, 0])
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X[:, :3], y)


@pytest.mark.parametrize("Estimator", [RidgeReadout, RidgeReadoutClassifier])
def test_inputs_not_mutated(Estimator):
    X, y = _regression_data(50, 5, 0)
    if Estimator is RidgeReadoutClassifier:
        y = (y > np.median(y)).astype(int)
    X.flags.writeable = False
    y.flags.writeable = False
    X_before, y_before = X.copy(), y.copy()
    est = Estimator(chunk_size=8).fit(X, y)
    est.predict(X)
    kwargs = {"classes": [0, 1]} if Estimator is RidgeReadoutClassifier else {}
    Estimator(chunk_size=8).partial_fit(X, y, **kwargs)
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)


def test_ridge_fortran_and_strided_input():
    X, y = _regression_data(70, 5, 0)
    expected = RidgeReadout(chunk_size=9).fit(X, y).coef_
    assert_allclose(
        RidgeReadout(chunk_size=9).fit(np.asfortranarray(X), y).coef_, expected
    )
    wide = np.repeat(X, 2, axis=1)[:, ::2]  # non-contiguous view
    assert_allclose(RidgeReadout(chunk_size=9).fit(wide, y).coef_, expected)


def test_ridge_pickle_roundtrip():
    X, y = _regression_data(40, 3, 0)
    reg = RidgeReadout().fit(X, y)
    restored = pickle.loads(pickle.dumps(reg))
    assert_array_equal(restored.predict(X), reg.predict(X))
    restored.partial_fit(X, y)  # statistics survive pickling
    assert restored.n_samples_seen_ == 80


def test_chunked_fit_never_copies_X():
    # 20000 x 500 float32 is 40 MB; a float64 copy would be 80 MB. Memory beyond
    # X must stay at one float32 chunk plus the float64 Gram.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 500), dtype=np.float32)
    y = rng.standard_normal(20000)
    for fit_intercept in (True, False):
        reg = RidgeReadout(fit_intercept=fit_intercept, chunk_size=4096)
        tracemalloc.start()
        try:
            reg.fit(X, y)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 0.25 * X.size * 8, f"peak {peak / 1e6:.1f} MB"
        assert reg.coef_.dtype == np.float32


# ---------------------------------------------------------------------------
# RidgeReadoutClassifier against sklearn.linear_model.RidgeClassifier
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 333, 4096])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_classifier_matches_ridge_classifier_on_digits(
    digits, chunk_size, fit_intercept
):
    X, y = digits
    ours = RidgeReadoutClassifier(
        alpha=1.0, fit_intercept=fit_intercept, chunk_size=chunk_size
    ).fit(X, y)
    ref = RidgeClassifier(alpha=1.0, fit_intercept=fit_intercept, solver="cholesky")
    ref.fit(X, y)
    assert_array_equal(ours.classes_, ref.classes_)
    assert ours.coef_.shape == ref.coef_.shape == (10, 64)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)
    assert_array_equal(ours.predict(X), ref.predict(X))


def test_classifier_binary_string_labels(digits):
    X, y = digits
    mask = np.isin(y, [3, 8])
    X, y = X[mask], np.where(y[mask] == 3, "three", "eight")
    ours = RidgeReadoutClassifier(alpha=0.5, chunk_size=50).fit(X, y)
    ref = RidgeClassifier(alpha=0.5, solver="cholesky").fit(X, y)
    # RidgeClassifier documents coef_ as (1, n_features) for two classes but
    # ravels it; we keep the documented shape, as LogisticRegression does.
    assert ours.coef_.shape == (1, 64)
    assert ours.intercept_.shape == (1,)
    assert_allclose(ours.coef_[0], ref.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-8)
    assert_array_equal(ours.predict(X), ref.predict(X))


def test_classifier_float32(digits):
    X, y = digits
    ours = RidgeReadoutClassifier(chunk_size=256).fit(X.astype(np.float32), y)
    ref = RidgeClassifier(solver="cholesky").fit(X.astype(np.float32).astype(float), y)
    assert ours.coef_.dtype == np.float32
    assert ours.decision_function(X.astype(np.float32)).dtype == np.float32
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    agreement = np.mean(ours.predict(X.astype(np.float32)) == ref.predict(X))
    assert agreement > 0.999


def test_classifier_partial_fit_equals_fit(digits):
    X, y = digits
    full = RidgeReadoutClassifier(chunk_size=100).fit(X, y)
    streamed = RidgeReadoutClassifier(chunk_size=100)
    # The first batch need not contain every class: classes says what exists.
    order = np.argsort(y, kind="stable")
    for rows in np.array_split(order, 7):
        streamed.partial_fit(X[rows], y[rows], classes=np.arange(10))
    assert_allclose(streamed.coef_, full.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(streamed.intercept_, full.intercept_, rtol=1e-8, atol=1e-10)


def test_classifier_partial_fit_errors(digits):
    X, y = digits
    clf = RidgeReadoutClassifier()
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(5))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(6))
    with pytest.raises(ValueError, match="at least 2 classes"):
        RidgeReadoutClassifier().partial_fit(X[:3], y[:1].repeat(3), classes=[0])


def test_classifier_one_class_and_multilabel_rejected(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="only one class"):
        RidgeReadoutClassifier().fit(X[:5], np.zeros(5))
    with pytest.raises(ValueError):
        RidgeReadoutClassifier().fit(X[:5], np.eye(5, 2, dtype=int))


@parametrize_with_checks([RidgeReadout(), RidgeReadoutClassifier()])
def test_readout_sklearn_compatible(estimator, check):
    # Each scikit-learn check raises AssertionError (or the estimator's own
    # error) when the estimator breaks the API contract it tests.
    check(estimator)


# ---------------------------------------------------------------------------
# SNLNNClassifier / SNLNNRegressor
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_snlnn_classifier_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = SNLNNClassifier(SNLNNTransformer(reservoir_dim=100, random_state=0))
    clf.fit(X_train, y_train)
    assert isinstance(clf.readout_, RidgeReadoutClassifier)
    assert_array_equal(clf.classes_, np.arange(10))
    assert clf.n_features_in_ == 64
    assert clf.decision_function(X_test).shape == (len(X_test), 10)
    assert not hasattr(clf, "predict_proba")  # ridge has no probabilities
    # Measured 0.96-0.97 over seeds 0-2 with and without standardisation.
    assert clf.score(X_test, y_test) > 0.9
    clf.set_params(standardize=False).fit(X_train, y_train)
    assert clf.scaler_ is None
    assert clf.score(X_test, y_test) > 0.9


def test_snlnn_classifier_sequences(digits_split):
    # Each digit as a sequence of 8 rows of 8 pixels.
    X_train, X_test, y_train, y_test = digits_split
    reservoir = SNLNNTransformer(reservoir_dim=100, random_state=0)
    clf = SNLNNClassifier(reservoir).fit(X_train.reshape(-1, 8, 8), y_train)
    # Measured 0.96 (seeds 0-2); about 0.92 without standardisation.
    assert clf.score(X_test.reshape(-1, 8, 8), y_test) > 0.9
    # n_steps=8 on the flat rows is the same reservoir reading the same steps.
    flat = SNLNNClassifier(clone(reservoir).set_params(n_steps=8))
    flat.fit(X_train, y_train)
    assert_allclose(
        flat.decision_function(X_test),
        clf.decision_function(X_test.reshape(-1, 8, 8)),
        rtol=1e-6,
        atol=1e-8,
    )


def test_snlnn_classifier_logistic_without_penalty_and_threads(digits_split):
    # alpha=0 is C=inf (no penalty); the readout runs on the reservoir's threads.
    X_train, _, y_train, _ = digits_split
    clf = SNLNNClassifier(
        SNLNNTransformer(reservoir_dim=30, random_state=0, n_jobs=2),
        readout="logistic", alpha=0.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop at max_iter: irrelevant
        clf.fit(X_train[:300], y_train[:300])
    assert clf.readout_.C == np.inf and clf.readout_.n_jobs == 2
    assert clf.score(X_train[:300], y_train[:300]) > 0.9


def test_snlnn_classifier_logistic(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = SNLNNClassifier(
        SNLNNTransformer(reservoir_dim=100, random_state=0),
        readout="logistic",
        alpha=0.1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may stop at max_iter: irrelevant
        clf.fit(X_train, y_train)
    assert isinstance(clf.readout_, LogisticReadoutClassifier)
    assert clf.readout_.C == pytest.approx(10.0) and not clf.readout_.standardize
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_test))
    assert clf.score(X_test, y_test) > 0.9  # measured 0.96-0.97 (seeds 0-2)


def test_snlnn_classifier_readout_instance_is_cloned(digits_split):
    X_train, X_test, y_train, _ = digits_split
    readout = KNeighborsClassifier(n_neighbors=3)
    clf = SNLNNClassifier(
        SNLNNTransformer(reservoir_dim=50, random_state=0), readout=readout
    )
    assert hasattr(clf, "predict_proba") and not hasattr(clf, "decision_function")
    clf.fit(X_train, y_train)
    assert clf.readout_ is not readout
    assert not hasattr(readout, "classes_")
    assert clf.predict_proba(X_test).shape == (len(X_test), 10)


def test_snlnn_classifier_not_fitted():
    clf = SNLNNClassifier(SNLNNTransformer(reservoir_dim=10))
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((2, 3)))


def test_snlnn_classifier_grid_search(digits_split):
    X_train, _, y_train, _ = digits_split
    search = GridSearchCV(
        SNLNNClassifier(SNLNNTransformer(reservoir_dim=30, random_state=0)),
        {"reservoir__spectral_radius": [0.5, 0.9], "alpha": [0.1, 1.0]},
        cv=2,
        n_jobs=2,
    )
    search.fit(X_train[:400], y_train[:400])
    assert set(search.best_params_) == {"reservoir__spectral_radius", "alpha"}
    assert search.best_score_ > 0.5
    best = search.best_estimator_
    assert best.reservoir_.spectral_radius == best.reservoir.spectral_radius


def test_snlnn_regressor():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = np.column_stack([np.sin(3 * X[:, 0]) * X[:, 1], X[:, 0] ** 2])
    reg = SNLNNRegressor(
        SNLNNTransformer(reservoir_dim=100, random_state=0), alpha=1e-3
    )
    reg.fit(X[:300], y[:300])
    assert isinstance(reg.readout_, RidgeReadout)
    assert reg.predict(X[300:]).shape == (100, 2)
    assert reg.score(X[300:], y[300:]) > 0.8
    reg.set_params(readout=Ridge(alpha=1e-3)).fit(X[:300], y[:300, 0])
    assert isinstance(reg.readout_, Ridge)
    assert reg.predict(X[300:]).shape == (100,)


def test_snlnn_clone_and_nested_params():
    clf = SNLNNClassifier(SNLNNTransformer(reservoir_dim=20), alpha=2.0)
    params = clf.get_params()
    assert params["reservoir__reservoir_dim"] == 20
    assert params["alpha"] == 2.0
    clf.set_params(reservoir__leak_rate=0.5)
    assert clone(clf).reservoir.leak_rate == 0.5


@parametrize_with_checks(
    [
        SNLNNClassifier(SNLNNTransformer(reservoir_dim=20, random_state=0)),
        SNLNNRegressor(SNLNNTransformer(reservoir_dim=20, random_state=0)),
    ]
)
def test_snlnn_sklearn_compatible(estimator, check):
    # Each scikit-learn check raises AssertionError (or the estimator's own
    # error) when the estimator breaks the API contract it tests.
    check(estimator)


@pytest.mark.parametrize("order", ["C", "F"])
def test_add_outer_updates_in_place(order):
    from reservoir._readout import _add_outer

    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal((4, 3)), order=order)
    x, y = rng.standard_normal(4), rng.standard_normal(3)
    expected = a - 0.5 * np.outer(x, y)
    _add_outer(a, x, y, -0.5)
    assert_allclose(a, expected, rtol=1e-14)


# ------------------------------------------- seeding and tuning (#10.10)


@pytest.mark.parametrize("Model", [SNLNNClassifier, SNLNNRegressor])
def test_meta_estimators_take_a_random_state(Model):
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    a = Model(random_state=0).fit(X, y).predict(X)
    b = Model(random_state=0).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    model = Model(SNLNNTransformer(random_state=5), random_state=1).fit(X, y)
    assert model.reservoir_.random_state == 1


@pytest.mark.parametrize("Model", [SNLNNClassifier, SNLNNRegressor])
def test_default_reservoir_can_be_tuned_by_nested_parameters(Model):
    X, y = load_digits(return_X_y=True)
    model = Model().set_params(reservoir__spectral_radius=0.5)
    assert model.reservoir.spectral_radius == 0.5
    search = GridSearchCV(
        Model(random_state=0), {"reservoir__leak_rate": [0.3, 1.0]}, cv=2
    ).fit(X[:200] / 16, y[:200])
    assert search.best_estimator_.reservoir_.leak_rate in (0.3, 1.0)


@pytest.mark.parametrize("Model", [SNLNNClassifier, SNLNNRegressor])
def test_meta_estimators_seed_composite_reservoirs_and_never_touch_x(Model):
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    original = X.copy()
    # A reservoir that returns its input: standardising must not act on X.
    Model(FunctionTransformer()).fit(X, y).predict(X)
    assert_array_equal(X, original)
    union = make_union(SNLNNTransformer(10, random_state=0),
                       SNLNNTransformer(10, random_state=0))
    model = Model(make_pipeline(MinMaxScaler(), union), random_state=3).fit(X, y)
    seeds = [part.random_state for _, part in model.reservoir_[1].transformer_list]
    assert seeds[0] != seeds[1]
    with pytest.raises(ValueError, match="no random_state parameter"):
        Model(FunctionTransformer(), random_state=0).fit(X, y)
    model = Model(SNLNNTransformer(7)).set_params(
        reservoir=None, reservoir__reservoir_dim=3
    )
    assert model.reservoir.reservoir_dim == 3
