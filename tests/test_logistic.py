"""LogisticReadoutClassifier against scikit-learn's LogisticRegression."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from reservoir import LogisticReadoutClassifier
from reservoir import _logistic_loss

from . import reference


def _reference(X, y, C, standardize, fit_intercept=True):
    model = LogisticRegression(C=C, tol=1e-10, max_iter=5000, fit_intercept=fit_intercept)
    if standardize:
        model = make_pipeline(StandardScaler(), model)
    return model.fit(X, y)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("dataset", ["digits", "breast_cancer"])
def test_same_model_as_sklearn(dataset, standardize):
    X, y = (load_digits if dataset == "digits" else load_breast_cancer)(return_X_y=True)
    if not standardize:
        X = StandardScaler().fit_transform(X)  # well conditioned for both solvers
    ours = LogisticReadoutClassifier(C=0.1, tol=1e-10, max_iter=5000,
                                     standardize=standardize).fit(X, y)
    ref = _reference(X, y, 0.1, standardize)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    # Raw-feature weights equal the reference pipeline's folded weights.
    lr = ref[-1] if standardize else ref
    coef, intercept = lr.coef_, lr.intercept_
    if standardize:
        scaler = ref[0]
        coef = coef / scaler.scale_
        intercept = intercept - coef @ scaler.mean_
    np.testing.assert_allclose(ours.coef_, coef, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, intercept, rtol=1e-4, atol=1e-6)
    assert ours.decision_function(X).shape == ref.decision_function(X).shape


def test_no_intercept_matches_sklearn():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = LogisticReadoutClassifier(C=0.05, tol=1e-10, max_iter=5000, standardize=False,
                                     fit_intercept=False).fit(X, y)
    ref = _reference(X, y, 0.05, False, fit_intercept=False)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(ours.intercept_, 0.0)


def test_n_jobs_bit_identical_and_blocks_crossed(monkeypatch):
    monkeypatch.setattr(_logistic_loss, "BLOCK_ROWS", 100)  # many blocks on digits
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    fits = [LogisticReadoutClassifier(C=0.1, max_iter=50, n_jobs=j).fit(X, y)
            for j in (1, 2)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    np.testing.assert_array_equal(fits[0].intercept_, fits[1].intercept_)


def test_float32_kept_and_close_to_float64():
    X, y = load_digits(return_X_y=True)
    X32 = X.astype(np.float32)
    before = X32.copy()
    m32 = LogisticReadoutClassifier(C=0.1, max_iter=300, tol=1e-6).fit(X32, y)
    m64 = LogisticReadoutClassifier(C=0.1, max_iter=300, tol=1e-6).fit(X, y)
    np.testing.assert_array_equal(X32, before)  # not mutated
    assert m32.coef_.dtype == np.float32 and m64.coef_.dtype == np.float64
    assert np.mean(m32.predict(X32) == m64.predict(X)) > 0.995
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=0, atol=2e-3 * np.abs(m64.coef_).max())


def test_string_labels_and_binary_shapes():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 1, "benign", "malignant")
    model = LogisticReadoutClassifier(C=1.0, max_iter=200).fit(X, labels)
    assert list(model.classes_) == ["benign", "malignant"]
    assert model.coef_.shape == (1, X.shape[1])
    assert model.decision_function(X).shape == (len(X),)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"benign", "malignant"}
    assert model.score(X, labels) > 0.95


def test_convergence_warning_when_capped():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        LogisticReadoutClassifier(max_iter=2).fit(X, y)


@pytest.mark.parametrize(
    "params, X, y, match",
    [
        ({"C": 0.0}, np.ones((4, 2)), [0, 1, 0, 1], "C"),
        ({}, np.ones((4, 2)), [1, 1, 1, 1], "only one class"),
        ({}, np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], "NaN"),
        ({}, np.ones((4, 2)), [0.5, 1.5, 2.5, 3.7], "Unknown label type"),
    ],
)
def test_errors(params, X, y, match):
    with pytest.raises(ValueError, match=match):
        LogisticReadoutClassifier(**params).fit(X, y)


def test_wrong_width_at_predict():
    X, y = load_digits(return_X_y=True)
    model = LogisticReadoutClassifier(max_iter=20).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :10])


def test_constant_column_gets_no_weight():
    # 0.1 is not exact in float64: its column's variance is rounding noise,
    # which must count as constant (StandardScaler does), not be scaled up.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 3))
    X[:, 2] = 0.1
    y = (X[:, 0] > 0).astype(int)
    model = LogisticReadoutClassifier().fit(X, y)
    assert abs(model.coef_[0, 2]) < 1e-6
    shifted = X[:5].copy()
    shifted[:, 2] += 1e-9
    np.testing.assert_allclose(model.decision_function(shifted),
                               model.decision_function(X[:5]), atol=1e-6)


def test_max_iter_zero_reports_zero_iterations():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        model = LogisticReadoutClassifier(max_iter=0).fit(X, y)
    assert model.n_iter_[0] == 0


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
@pytest.mark.parametrize("n_rows", [1, 3, 4, 9, 130])
@pytest.mark.parametrize("weight_scale", [0.3, 300.0])
def test_block_kernel_matches_numpy_twin(dtype, rtol, n_classes, n_rows, weight_scale):
    # Both tile paths (4 rows x 2 outputs, and the block's last 1-3 rows), an
    # odd number of outputs (padded), the binomial case (one output), and
    # logits in the thousands (no overflow in exp or log).
    rng = np.random.default_rng(n_rows * n_classes)
    X = rng.standard_normal((n_rows, 37)).astype(dtype)
    y = rng.integers(0, n_classes, n_rows)
    y[0] = n_classes - 1
    loss = _logistic_loss.LogisticLoss(X, y, n_classes, 0.1, None, None, True, map)
    weights = rng.standard_normal((37, loss.n_outputs)).astype(dtype) * dtype(weight_scale)
    intercept = rng.standard_normal(loss.n_outputs)
    value, xtg, residual_sum = loss._block_function(weights, intercept)(0)
    expected = reference.logistic_block(X, y, weights, intercept)
    assert np.isfinite(value) and value >= 0
    # The logits carry the rounding of the dtype relative to their size, and
    # the probabilities that error relative to themselves.
    rtol *= max(1.0, np.abs(X.astype(float) @ weights + intercept).max())
    np.testing.assert_allclose(value, expected[0], rtol=rtol)
    np.testing.assert_allclose(xtg, expected[1], rtol=rtol, atol=rtol * np.abs(expected[1]).max())
    np.testing.assert_allclose(residual_sum, expected[2], rtol=rtol, atol=rtol * n_rows)
    assert xtg.dtype == dtype and xtg.shape == (37, loss.n_outputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_memory_layout_fits_the_same_model(dtype):
    # C-ordered features go through the Numba kernel, others through BLAS.
    X, y = load_digits(return_X_y=True)
    X = X.astype(dtype)
    fits = [LogisticReadoutClassifier(C=0.1, max_iter=300, tol=1e-6).fit(layout, y)
            for layout in (np.ascontiguousarray(X), np.asfortranarray(X),
                           np.repeat(X, 2, axis=1)[:, ::2])]
    for other in fits[1:]:
        np.testing.assert_allclose(other.coef_, fits[0].coef_, rtol=0,
                                   atol=2e-3 * np.abs(fits[0].coef_).max())
        assert np.mean(other.predict(X) == fits[0].predict(X)) > 0.995


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("standardize", [True, False])
def test_loss_over_many_blocks_matches_numpy_twin(monkeypatch, dtype, rtol, standardize):
    # Blocks of 7 rows (the last one short): per-block sums, the folded
    # standardisation and the penalty, against the twin on the scaled data.
    monkeypatch.setattr(_logistic_loss, "BLOCK_ROWS", 7)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((45, 6)) * 2 + 1).astype(dtype)
    y = rng.integers(0, 3, 45)
    mean = scale = None
    if standardize:
        mean, scale = X.mean(axis=0, dtype=float), X.std(axis=0, dtype=float)
    loss = _logistic_loss.LogisticLoss(X, y, 3, 0.01, mean, scale, True, map)
    params = rng.standard_normal(loss.shape)
    value, grad = loss(params.ravel())
    Z = X.astype(float) if mean is None else (X - mean) / scale
    total, xtg, residual_sum = reference.logistic_block(Z, y, params[:6], params[6])
    w = params[:6]
    np.testing.assert_allclose(value, total / 45 + 0.005 * np.sum(w * w), rtol=rtol)
    expected = np.vstack([xtg / 45 + 0.01 * w, residual_sum / 45])
    np.testing.assert_allclose(grad.reshape(loss.shape), expected, rtol=rtol,
                               atol=rtol * np.abs(expected).max())


@pytest.mark.parametrize("n_classes, y", [(3, [0, 1, 3]), (3, [0, -1, 2]), (2, [0, 1, 2])])
def test_loss_refuses_class_indices_out_of_range(n_classes, y):
    # The kernel indexes with them unchecked; the estimator never passes such.
    with pytest.raises(ValueError, match="class indices"):
        _logistic_loss.LogisticLoss(np.ones((3, 2)), np.array(y), n_classes, 1.0,
                                    None, None, True, map)
