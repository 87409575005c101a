"""Task-driven growth (AutoSizeClassifier / AutoSizeRegressor), issue #13."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from reservoir import (
    AutoSizeClassifier,
    AutoSizeRegressor,
    RidgeReadout,
    RidgeReadoutClassifier,
    SNLNNTransformer,
)
from scipy import linalg

from reservoir._autosize import _Statistics, _IncrementalRidge, _ridge_from_statistics
from reservoir._block_ridge import _Columns


def _template(**params):
    base = dict(
        n_steps=8, leak_rate=0.3, summaries=("final", "mean"), spike_threshold=1.0,
        standardize_input=False,
    )
    return SNLNNTransformer(**{**base, **params})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def _scratch_features(model, X, X_fit):
    """Each kept block refitted from scratch with its seed, on the rows it was
    fitted on, then hstacked."""
    parts = []
    for seed in model.block_seeds_:
        block = clone(model.reservoir).set_params(
            reservoir_dim=model.block_size, max_reservoir_dim=model.block_size,
            random_state=int(seed),
        )
        parts.append(block.fit(X_fit).transform(X))
    return np.hstack(parts)


def test_features_stay_valid_across_growth(digits):
    """The features of a grown model are those of independently fitted blocks:
    growth never changes a block that exists."""
    X, y = digits
    X, y = X[:400], y[:400]
    # spike_threshold="auto" and standardize_input fit on the data: they must
    # also be those of a block fitted alone on the same (training) rows.
    template = _template(spike_threshold="auto", standardize_input=True,
                         summaries=("final", "spike_rate"))
    model = AutoSizeRegressor(
        template, block_size=6, max_blocks=3, n_iter_no_change=10, tol=0.0,
        random_state=0,
    ).fit(X, y.astype(float))
    # 6 neurons are far too few: each step helps, all blocks are kept.
    assert model.stop_reason_ == "max_blocks" and model.n_blocks_ == 3
    features = np.hstack([b.transform(X) for b in model.reservoirs_])
    # The blocks were fitted on the training rows: all but the validation
    # split, drawn from random_state after the base seed.
    n_val = round(model.validation_fraction * len(X))
    rng = np.random.RandomState(0)
    rng.randint(np.iinfo(np.int32).max)
    order = rng.permutation(len(X))
    train = np.sort(order[n_val:])
    assert_array_equal(features, _scratch_features(model, X, X[train]))
    # Growing one step further keeps the first blocks as they were.
    bigger = clone(model).set_params(max_blocks=4).fit(X, y.astype(float))
    for small, big in zip(model.reservoirs_, bigger.reservoirs_):
        assert_array_equal(small.transform(X), big.transform(X))


def test_extended_gram_solution_equals_a_from_scratch_ridge(digits):
    """Extending the statistics and the Cholesky factor block by block gives
    the ridge solution of the hstacked, standardised features."""
    X, y = digits
    # float64 features: the comparison is of the algebra, not of the rounding
    # of float32 products (which an ill-conditioned Gram amplifies).
    X64 = X.astype(np.float64)
    blocks = [
        _template(reservoir_dim=n, random_state=k).fit_transform(X64[:600])
        for k, n in enumerate((10, 25, 7))
    ]
    Y = np.where(y[:600, None] == np.arange(10), 1.0, -1.0)
    stats, ridge, shifts, done = _Statistics(10), _IncrementalRidge(0.5), [], []
    for block in blocks:
        shift = block.mean(axis=0)
        done.append(block - shift)
        stats.extend_block(np.hstack(done), sum(b.shape[1] for b in done[:-1]),
                           Y - Y.mean(0))
        shifts.append(shift)
        ridge.extend(stats, np.concatenate(shifts))
    x_shift = np.concatenate(shifts)
    weights, intercept = ridge.solve(stats, x_shift, Y.mean(0))
    features = np.hstack(blocks)
    scaler = StandardScaler().fit(features)
    reference = RidgeReadoutClassifier(alpha=0.5).fit(scaler.transform(features), y[:600])
    scale = scaler.scale_
    assert_allclose(weights.T, reference.coef_ / scale, rtol=1e-7, atol=1e-9)
    # The one-shot solve from the same statistics agrees too.
    coef, _ = _ridge_from_statistics(stats, x_shift, Y.mean(0), 0.5)
    assert_allclose(coef, reference.coef_ / scale, rtol=1e-7, atol=1e-9)
    X = X64
    # And a fitted model's readout is that ridge on all its rows' features.
    model = AutoSizeRegressor(_template(), block_size=15, max_blocks=3, n_iter_no_change=10,
                              alpha=0.5, random_state=1).fit(X[:500], y[:500] * 1.0)
    features = np.hstack([b.transform(X[:500]) for b in model.reservoirs_])
    scaler = StandardScaler().fit(features.astype(np.float64))
    reference = RidgeReadout(alpha=0.5).fit(
        scaler.transform(features.astype(np.float64)), y[:500] * 1.0
    )
    assert_allclose(model.coef_[0], reference.coef_ / scaler.scale_, rtol=1e-5, atol=1e-7)
    assert_allclose(model.predict(X[500:600]), reference.predict(
        scaler.transform(np.hstack([b.transform(X[500:600]) for b in model.reservoirs_]))
    ), rtol=1e-4, atol=1e-4)


def test_growth_stops_at_a_plateau():
    """A target that 20 neurons already fit: more units stop helping, growth
    stops after n_iter_no_change steps and keeps the best size."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(600, 2))
    y = 2 * X[:, 0] - X[:, 1]  # linear: any block fits it to the noise floor
    model = AutoSizeRegressor(
        SNLNNTransformer(leak_rate=1.0, summaries=("final",), input_scaling=0.3),
        block_size=20, max_blocks=30, n_iter_no_change=3, tol=1e-3, alpha=1e-6,
        random_state=0,
    ).fit(X, y)
    assert model.stop_reason_ == "plateau"
    assert len(model.n_units_history_) < 30
    scores = model.validation_scores_
    assert len(scores) == len(model.n_units_history_) == model.best_index_ + 4
    assert np.all(scores[model.best_index_ + 1 :] <= scores[model.best_index_] + 1e-3)
    assert model.n_units_ == model.n_units_history_[model.best_index_]
    assert model.n_blocks_ == len(model.reservoirs_) == model.n_units_ // 20
    assert model.score(X, y) > 0.99


def test_growth_continues_while_it_helps(digits):
    X, y = digits
    model = AutoSizeClassifier(
        _template(), block_size=5, max_blocks=4, tol=0.0, n_iter_no_change=4,
        random_state=0,
    ).fit(X[:800], y[:800])
    # 5 units are far too few for digits: every step helps, until max_blocks.
    assert model.stop_reason_ == "max_blocks"
    assert_array_equal(model.n_units_history_, [5, 10, 15, 20])
    assert model.validation_scores_[-1] > model.validation_scores_[0]


def test_determinism_from_random_state(digits):
    X, y = digits
    X, y = X[:500], y[:500]
    make = lambda seed: AutoSizeClassifier(  # noqa: E731
        _template(), block_size=10, max_blocks=5, random_state=seed
    ).fit(X, y)
    a, b, c = make(3), make(3), make(4)
    assert_array_equal(a.block_seeds_, b.block_seeds_)
    assert_array_equal(a.validation_scores_, b.validation_scores_)
    assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert not np.array_equal(a.block_seeds_[:1], c.block_seeds_[:1])
    # Streaming is deterministic too.
    s1 = AutoSizeClassifier(_template(), block_size=10, random_state=3)
    s2 = clone(s1)
    for part in np.array_split(np.arange(500), 4):
        s1.partial_fit(X[part], y[part], classes=np.arange(10))
        s2.partial_fit(X[part], y[part], classes=np.arange(10))
    assert_array_equal(s1.decision_function(X), s2.decision_function(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"block_size": 0}, "block_size"),
        ({"max_blocks": 0}, "max_blocks"),
        ({"alpha": 0.0}, "alpha"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"tol": -1.0}, "tol"),
        ({"reservoir": RidgeReadout()}, "reservoir"),
        ({"initial_blocks": 3, "max_blocks": 2}, "initial_blocks=3 must be <= max_blocks=2"),
    ],
)
def test_bad_parameters_raise_clear_errors(digits, params, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        AutoSizeClassifier(**{"reservoir": _template(), **params}).fit(X[:50], y[:50])


def test_partial_fit_needs_classes_and_known_labels(digits):
    X, y = digits
    clf = AutoSizeClassifier(_template(), block_size=10)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:50], y[:50])
    clf.partial_fit(X[:50], y[:50], classes=np.arange(10))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:5], np.full(5, 11))


def test_partial_fit_grows_on_a_drop_and_recovers(digits):
    """A stream of digits 0-4, then 5-9: the prequential score collapses at the
    shift, one block is added, and the model learns the new classes."""
    X, y = digits
    first, later = np.flatnonzero(y < 5), np.flatnonzero(y >= 5)
    stream = [first[i::6] for i in range(6)] + [later[i::6] for i in range(6)]
    clf = AutoSizeClassifier(_template(), block_size=20, initial_blocks=2,
                             drift_tol=0.1, drift_window=2, random_state=0)
    for batch in stream:
        clf.partial_fit(X[batch], y[batch], classes=np.arange(10))
    units = clf.n_units_history_
    assert units[0] == 40 and units[5] == 40  # stable stage: no growth
    assert units[6] == 60  # the first batch of 5-9 scored ~0: grow
    assert clf.validation_scores_[6] < 0.2
    assert clf.validation_scores_[-1] > 0.8
    assert clf.score(X, y) > 0.85
    assert clf.n_samples_seen_ == len(X)
    # The new block was fitted on the batch that showed the drop and is the
    # same as a block fitted from scratch there with its seed.
    block = clone(clf.reservoir).set_params(
        reservoir_dim=20, max_reservoir_dim=20, random_state=int(clf.block_seeds_[2])
    ).fit(X[stream[6]])
    assert_array_equal(block.transform(X[:20]), clf.reservoirs_[2].transform(X[:20]))
    # A score passed by the caller drives the decision instead.
    clf.partial_fit(X[:30], y[:30], score=0.0)
    assert clf.validation_scores_[-1] == 0.0


def test_partial_fit_continues_a_fitted_model(digits):
    X, y = digits
    clf = AutoSizeClassifier(_template(), block_size=10, max_blocks=3,
                             random_state=0).fit(X[:300], y[:300])
    n = clf.n_blocks_
    clf.partial_fit(X[300:400], y[300:400])
    assert clf.n_samples_seen_ == 400 and clf.n_blocks_ == n
    assert clf.stop_reason_ in ("plateau", "max_blocks")


def test_lowering_max_blocks_after_growth_keeps_the_blocks(digits):
    """set_params(max_blocks=1) between partial_fit calls: no block is removed
    and none is added on a drop, and the model still learns the batch."""
    X, y = digits

    def streamed(max_blocks_later):
        clf = AutoSizeClassifier(_template(), block_size=10, initial_blocks=3,
                                 max_blocks=5, drift_window=1, drift_tol=0.1,
                                 random_state=0)
        clf.partial_fit(X[:200], y[:200], classes=np.arange(10))
        clf.partial_fit(X[200:300], y[200:300])
        coef = clf.coef_.copy()
        clf.set_params(max_blocks=max_blocks_later)
        clf.partial_fit(X[300:400], y[300:400], score=-1.0)  # a drop
        return clf, coef

    grown, _ = streamed(5)
    assert grown.n_blocks_ > 3  # the drop grows when max_blocks allows it
    kept, coef = streamed(1)
    assert kept.n_blocks_ == 3 and len(kept.reservoirs_) == 3
    assert kept.coef_.shape == coef.shape and not np.array_equal(kept.coef_, coef)
    assert kept.n_samples_seen_ == 400


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "change",
    [{"block_size": 25}, {"random_state": 1}, {"reservoir__leak_rate": 0.9}],
    ids=["block_size", "random_state", "reservoir"],
)
def test_partial_fit_refuses_changed_model_parameters(digits, estimator, change):
    """Blocks already drawn cannot follow a new block_size, seed or template:
    the next partial_fit names the change instead of mixing models."""
    X, y = digits
    if estimator == "classifier":
        model = AutoSizeClassifier(_template(), block_size=10, random_state=0)
        model.partial_fit(X[:100], y[:100], classes=np.arange(10))
    else:
        model = AutoSizeRegressor(_template(), block_size=10, random_state=0)
        model.partial_fit(X[:100], y[:100].astype(float))
    n_units = model.n_units_
    model.set_params(**change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"{name} changed since"):
        model.partial_fit(X[100:200], y[100:200])
    assert model.n_units_ == n_units and model.n_samples_seen_ == 100
    model.set_params(alpha=10.0)  # not a model parameter: refitting works
    model.fit(X[:200], y[:200])
    model.partial_fit(X[200:300], y[200:300])
    assert model.n_samples_seen_ == 300


def test_partial_fit_accepts_template_changes_that_change_nothing(digits):
    # Equal values in another type, runtime parameters and the parameters every
    # block overrides (its size and seed) leave the blocks valid.
    X, y = digits
    template = _template()
    model = AutoSizeClassifier(template, block_size=10, random_state=0)
    model.partial_fit(X[:100], y[:100], classes=np.arange(10))
    model.set_params(
        reservoir__summaries=list(template.summaries), reservoir__n_jobs=2,
        reservoir__verbose=0, reservoir__random_state=5, reservoir__reservoir_dim=3,
    )
    model.partial_fit(X[100:200], y[100:200])
    assert model.n_samples_seen_ == 200


def test_regressor_multi_output_and_float32():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 3)).astype(np.float32)
    y = np.column_stack([np.sin(2 * X[:, 0]), X[:, 1] * X[:, 2]])
    reg = AutoSizeRegressor(SNLNNTransformer(leak_rate=1.0, summaries=("final",)),
                            block_size=15, max_blocks=3, alpha=1e-3,
                            random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.predict(X).dtype == np.float32
    assert reg.score(X, y) > 0.8
    with pytest.raises(ValueError, match="targets"):
        reg.partial_fit(X, y[:, 0])


def test_imputed_columns_are_the_statistics_of_the_imputed_matrix():
    rng = np.random.default_rng(0)
    A, Y = rng.standard_normal((50, 4)), rng.standard_normal((50, 2))
    P, c = rng.standard_normal((4, 3)), rng.standard_normal(3)
    stats = _Statistics(2)
    stats.add_columns(4)
    stats.add_rows(A, Y)
    stats.add_imputed_columns(P, c)
    full = np.hstack([A, A @ P + c])
    expected = _Statistics(2)
    expected.add_columns(7)
    expected.add_rows(full, Y)
    for name in ("x_sum", "xx", "xy", "y_sum"):
        assert_allclose(getattr(stats, name), getattr(expected, name), rtol=1e-12, atol=1e-12)


def _standardised_gram(stats, alpha):
    """``Z^T Z + alpha I`` of the standardised features, from ``stats``."""
    x_mean = stats.x_sum / stats.n
    gram = stats.xx - np.outer(stats.x_sum, x_mean)
    scale = np.sqrt(np.diag(gram) / stats.n)
    return gram / np.outer(scale, scale) + alpha * np.eye(len(scale))


@pytest.mark.parametrize("capacity", [0, 37])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("widths", [(12,), (10, 1, 1, 3, 20, 2)])
def test_incremental_factor_is_the_cholesky_of_the_full_gram(dtype, widths, capacity):
    """Extended block by block (with no capacity, through both a reallocation
    and an in-place relayout of the factor's buffer), the factor is the
    Cholesky factor of the whole standardised, regularised Gram of the same
    statistics (for float64 features, also that of StandardScaler), and its
    solution the ridge's."""
    rng = np.random.default_rng(0)
    n = 300
    mixing = rng.standard_normal((sum(widths), sum(widths)))
    features = (rng.standard_normal((n, sum(widths))) @ mixing + 3.0).astype(dtype)
    targets = rng.standard_normal((n, 3))
    stats, ridge = _Statistics(3), _IncrementalRidge(0.5, capacity)
    shift = features.mean(axis=0, dtype=np.float64).astype(dtype)
    shifted = features - shift
    edges = np.cumsum((0,) + widths)
    for start, stop in zip(edges[:-1], edges[1:]):
        stats.extend_block(shifted[:, :stop], start, targets - targets.mean(0))
        ridge.extend(stats, shift[:stop].astype(np.float64))
        # At every size, not only the last: the leading block is relaid out.
        factor = np.triu(ridge.factor)
        expected = linalg.cholesky(_standardised_gram(stats, 0.5))
        assert_allclose(factor, expected, rtol=1e-10, atol=1e-10)
        if dtype == np.float64:
            z = StandardScaler().fit_transform(features[:, :stop])
            assert_allclose(factor, linalg.cholesky(z.T @ z + 0.5 * np.eye(stop)),
                            rtol=1e-10, atol=1e-10)
    x_shift, y_shift = shift.astype(np.float64), targets.mean(0)
    weights, _ = ridge.solve(stats, x_shift, y_shift)
    coef, _ = _ridge_from_statistics(stats, x_shift, y_shift, 0.5)
    assert_allclose(weights.T, coef, rtol=1e-9, atol=1e-12)


def test_cached_forward_solve_equals_a_fresh_one():
    """After growth, the forward solve reuses the rows of the previous
    right-hand side that did not change; it equals a fresh triangular solve, and
    a right-hand side whose old rows changed is solved afresh."""
    rng = np.random.default_rng(1)
    features = rng.standard_normal((200, 30))
    ridge = _IncrementalRidge(1.0)
    stats = _Statistics(2)
    rhs = rng.standard_normal((30, 2))
    for start, stop in ((0, 8), (8, 20), (20, 30)):
        stats.extend_block(features[:, :stop], start, np.zeros((200, 2)))
        ridge.extend(stats, np.zeros(stop))
        fresh = linalg.solve_triangular(np.triu(ridge.factor), rhs[:stop], trans="T")
        assert_allclose(ridge._forward(rhs[:stop]), fresh, rtol=1e-12, atol=1e-12)
    changed = rhs.copy()
    changed[0] += 1.0
    fresh = linalg.solve_triangular(np.triu(ridge.factor), changed, trans="T")
    assert_allclose(ridge._forward(changed), fresh, rtol=1e-12, atol=1e-12)


def test_columns_keep_their_values_when_the_array_grows():
    rng = np.random.default_rng(2)
    store = _Columns(5, np.float32, capacity=3)
    parts = [rng.standard_normal((5, w)).astype(np.float32) for w in (2, 1, 4, 2)]
    for part in parts:
        store.append(part)
    assert_array_equal(store.columns, np.hstack(parts))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fitted_readout_is_a_ridge_on_the_kept_features(digits, dtype):
    """Several blocks per step and a plateau that drops the last steps: the
    readout is the ridge classifier on the standardised features of the kept
    blocks, over all rows (training and validation)."""
    X, y = digits
    X, y = X[:700].astype(dtype), y[:700]
    model = AutoSizeClassifier(
        _template(), block_size=8, initial_blocks=2, growth_rate=1.0, max_blocks=16,
        n_iter_no_change=1, tol=0.02, alpha=3.0, random_state=0,
    ).fit(X, y)
    assert model.stop_reason_ == "plateau" and model.best_index_ >= 1
    assert model.n_blocks_ < model.n_units_history_[-1] // 8
    features = np.hstack([b.transform(X) for b in model.reservoirs_])
    assert features.dtype == dtype
    scaler = StandardScaler().fit(features.astype(np.float64))
    reference = RidgeReadoutClassifier(alpha=3.0).fit(
        scaler.transform(features.astype(np.float64)), y
    )
    rtol = 1e-3 if dtype == np.float32 else 1e-7
    coef = reference.coef_ / scaler.scale_
    assert_allclose(model.coef_, coef, rtol=rtol, atol=rtol * np.abs(coef).max())
    intercept = reference.intercept_ - scaler.mean_ @ coef.T
    assert_allclose(model.intercept_, intercept, rtol=rtol, atol=rtol)
