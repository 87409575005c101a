"""SNLNNTransformer: semantics, growth, reproducibility, input errors."""

import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_info

import reservoir._collect
import reservoir._weights
from reservoir import SNLNNTransformer

from . import reference

# The model as defined before the sequence defaults (one leak rate, a fixed
# threshold with the subtractive reset, raw inputs, final/mean/rate summaries,
# room to double by growth): most tests here pin its semantics.
CLASSIC = dict(
    leak_rate=0.3, spike_threshold=0.3, spike_reset="subtract", input_scaling=0.5,
    standardize_input=False, summaries=("final", "mean", "spike_rate"),
)


def Classic(reservoir_dim=100, **params):
    params.setdefault("max_reservoir_dim", 2 * reservoir_dim)
    return SNLNNTransformer(reservoir_dim, **{**CLASSIC, **params})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def reference_features(transformer, X):
    """The numpy twin run on the transformer's own fitted weights."""
    n = transformer.reservoir_size_
    w_rec = transformer.active_recurrent_weights()
    w_rec = w_rec.toarray() if sp.issparse(w_rec) else w_rec
    sequences = np.asarray(X, dtype=float).reshape(
        len(X), transformer.n_steps_, transformer.n_inputs_
    )
    return reference.collect_states(
        sequences,
        transformer.input_weights_[:n],
        transformer.bias_[:n],
        w_rec,
        transformer.leak_rate,
        transformer.spike_threshold,
        transformer.summaries,
        transformer.max_reservoir_dim_,
    )


# ---------------------------------------------------------------- semantics


@pytest.mark.parametrize("density", [1.0, 0.2])
def test_transform_matches_numpy_reference(digits, density):
    X = digits[0][:40]
    snlnn = Classic(
        reservoir_dim=30, n_steps=8, density=density, input_scaling=0.5,
        spike_threshold=0.2, random_state=0,
    ).fit(X)
    np.testing.assert_allclose(
        snlnn.transform(X), reference_features(snlnn, X), rtol=0, atol=1e-12
    )


def test_original_keras_configuration_is_reachable(digits):
    """The seed model: b = 0, W_in ~ N(0, 0.1^2), one step, threshold 1 (no spikes)."""
    X = digits[0]
    snlnn = Classic(
        reservoir_dim=300, max_reservoir_dim=300, n_steps=1, input_scaling=0.1,
        bias_scaling=0.0, spike_threshold=1.0, leak_rate=0.5, summaries=("final",),
        random_state=0,
    ).fit(X)
    assert np.all(snlnn.bias_ == 0)
    assert abs(snlnn.input_weights_.std() - 0.1) < 0.005
    assert abs(snlnn.input_weights_.mean()) < 0.005
    # Gaussian W scaled by its largest eigenvalue modulus.
    w_rec = snlnn.active_recurrent_weights()
    np.testing.assert_allclose(
        w_rec, snlnn.recurrent_weights_ * (0.9 / np.abs(np.linalg.eigvals(
            snlnn.recurrent_weights_)).max()), rtol=1e-5,
    )
    # Port of the original layer call: one step from a zero state.
    expected = 0.5 * np.tanh(X @ snlnn.input_weights_.T)
    np.testing.assert_allclose(snlnn.transform(X), expected, atol=1e-12)
    assert snlnn.spike_rate_ == 0.0


def test_defaults_fire_spikes_and_report_rate(digits):
    X = digits[0]
    snlnn = Classic(n_steps=8, random_state=0)
    features = snlnn.fit_transform(X)
    assert 0.01 < snlnn.spike_rate_ < 0.5
    assert features[:, 2 * snlnn.max_reservoir_dim_ :].max() > 0
    # Without growth the reported rate is exactly the mean of the rate features.
    fixed = Classic(n_steps=8, max_reservoir_dim=100, random_state=0)
    rates = fixed.fit_transform(X)[:, 200:]
    np.testing.assert_allclose(fixed.spike_rate_, rates.mean(), rtol=1e-6)


def test_defaults_work_on_any_2d_float_data():
    X = np.random.default_rng(0).standard_normal((30, 5))
    features = SNLNNTransformer().fit_transform(X)
    assert features.shape == (30, 2 * 4 * 400)
    assert np.isfinite(features).all()


def test_3d_input_equals_2d_input_with_n_steps(digits):
    X = digits[0][:50]
    flat = Classic(n_steps=8, random_state=1).fit_transform(X)
    snlnn = Classic(random_state=1)
    np.testing.assert_array_equal(snlnn.fit_transform(X.reshape(50, 8, 8)), flat)
    assert (snlnn.n_steps_, snlnn.n_inputs_, snlnn.n_features_in_) == (8, 8, 64)
    np.testing.assert_array_equal(snlnn.transform(X), flat)


def test_results_do_not_depend_on_batching_or_order(digits):
    X = digits[0][:600]
    snlnn = Classic(n_steps=8, random_state=0).fit(X)
    full = snlnn.transform(X)
    np.testing.assert_allclose(snlnn.transform(X[:7]), full[:7], rtol=1e-12, atol=1e-14)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(snlnn.transform(X[order]), full[order], atol=1e-14)


# ------------------------------------------------------------------ growth


def test_growth_is_real_reproducible_and_reported(digits):
    X = digits[0]
    params = dict(
        reservoir_dim=20, max_reservoir_dim=60, growth_step=15, batch_size=300,
        n_steps=8, growth_threshold=0.0, random_state=3,
    )
    grown = Classic(**params).fit(X)
    # Grows after each batch until the cap: 20 -> 35 -> 50 -> 60.
    np.testing.assert_array_equal(
        grown.growth_history_, [[300, 35], [600, 50], [900, 60]]
    )
    assert grown.reservoir_size_ == 60
    again = Classic(**params).fit(X)
    np.testing.assert_array_equal(again.transform(X), grown.transform(X))

    fixed = Classic(**{**params, "growth_threshold": 1e9}).fit(X)
    assert fixed.reservoir_size_ == 20 and len(fixed.growth_history_) == 0
    grown_features, fixed_features = grown.transform(X), fixed.transform(X)
    assert grown_features.shape == fixed_features.shape
    # Neurons beyond the active ones read zero; growth changes the output.
    final = fixed_features[:, :60]
    assert np.all(final[:, 20:] == 0) and np.any(grown_features[:, 20:60] != 0)
    assert not np.allclose(grown_features[:, :20], final[:, :20])


def test_growth_threshold_stops_growth(digits):
    X = digits[0]
    snlnn = Classic(
        reservoir_dim=20, n_steps=8, batch_size=200, growth_threshold=10.0,
        random_state=0,
    ).fit(X)
    assert snlnn.reservoir_size_ == 20


@pytest.mark.parametrize("density", [1.0, 0.1])
def test_spectral_radius_holds_after_growth(digits, density):
    snlnn = Classic(
        reservoir_dim=250, max_reservoir_dim=400, growth_step=75, batch_size=500,
        growth_threshold=0.0, spectral_radius=0.7, density=density, n_steps=8,
        random_state=0,
    ).fit(digits[0])
    assert snlnn.reservoir_size_ == 400
    w_rec = snlnn.active_recurrent_weights()
    w_rec = w_rec.toarray() if sp.issparse(w_rec) else w_rec
    radius = np.abs(np.linalg.eigvals(w_rec)).max()
    assert radius == pytest.approx(0.7, rel=0.02)


def test_partial_fit_continues_growth_and_keeps_output_width(digits):
    X, y = digits
    snlnn = Classic(
        reservoir_dim=20, max_reservoir_dim=50, growth_step=10, batch_size=400,
        n_steps=8, growth_threshold=0.0, random_state=0,
    )
    snlnn.partial_fit(X[:400])
    # The decision of the first full batch waits for data the growth can serve.
    assert snlnn.reservoir_size_ == 20 and len(snlnn.growth_history_) == 0
    readout = RidgeClassifier().fit(snlnn.transform(X), y)
    weights = snlnn.input_weights_.copy()
    snlnn.partial_fit(X[400:1200])
    assert snlnn.reservoir_size_ == 40
    np.testing.assert_array_equal(snlnn.growth_history_, [[400, 30], [800, 40]])
    snlnn.partial_fit(X[1200:1210])
    np.testing.assert_array_equal(snlnn.growth_history_[-1], [1200, 50])
    assert snlnn.n_samples_seen_ == 1210
    np.testing.assert_array_equal(snlnn.input_weights_, weights)
    # The earlier readout still accepts the grown reservoir's features.
    assert readout.predict(snlnn.transform(X)).shape == y.shape


def test_partial_fit_grows_as_fit_does(digits):
    """One decision per batch_size sequences, counted across calls (#10.3)."""
    X = digits[0][:1000]
    params = dict(reservoir_dim=20, max_reservoir_dim=200, growth_step=10,
                  batch_size=250, n_steps=8, growth_threshold=0.0, random_state=0)
    fitted = Classic(**params).fit(X)
    streamed = Classic(**params)
    for part in np.array_split(X, 10):  # 100 per call, across batch boundaries
        streamed.partial_fit(part)
    assert fitted.reservoir_size_ == streamed.reservoir_size_ == 50
    np.testing.assert_array_equal(fitted.growth_history_, streamed.growth_history_)
    np.testing.assert_allclose(fitted.transform(X), streamed.transform(X), atol=1e-12)
    assert streamed.spike_rate_ > 0


def test_no_growth_after_the_last_partial_batch(digits, monkeypatch):
    """The README's example: a short final batch decides nothing (#10.2)."""
    X = digits[0]
    computed = []
    original = reservoir._collect.collect_states

    def count(operator, x, **kwargs):
        computed.append(len(x))
        return original(operator, x, **kwargs)

    monkeypatch.setattr(reservoir._transformer, "collect_states", count)
    snlnn = Classic(reservoir_dim=200, n_steps=8, random_state=0)
    features = snlnn.fit_transform(X)
    # Growth after the first full batch; rows 1000-1796 run by the final
    # reservoir once; only the first batch is recomputed.
    np.testing.assert_array_equal(snlnn.growth_history_, [[1000, 210]])
    assert sum(computed) == len(X) + 1000
    # spike_rate_ is the final reservoir's own rate on the rows it ran.
    n = snlnn.reservoir_size_
    rates = features[1000:, 2 * snlnn.max_reservoir_dim_:][:, :n]
    np.testing.assert_allclose(snlnn.spike_rate_, rates.mean(), rtol=1e-9)


def test_fit_keeps_no_output(digits):
    """fit collects statistics only: no (n_samples, n_features) array (#10.5)."""
    import tracemalloc

    X = np.tile(digits[0], (3, 1)).astype(np.float32)
    snlnn = Classic(200, max_reservoir_dim=200, n_steps=8, random_state=0)
    snlnn.fit(X[:10])
    tracemalloc.start()
    snlnn.fit(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output_bytes = len(X) * 600 * 4  # 12.9 MB
    assert peak < output_bytes / 5


def test_growth_changes_old_neurons_features(digits):
    """Why the docs say to refit a readout after growth (#10.4)."""
    X = digits[0]
    snlnn = Classic(
        reservoir_dim=80, max_reservoir_dim=160, growth_step=80, batch_size=500,
        n_steps=8, growth_threshold=0.0, random_state=0,
    ).partial_fit(X[:500])
    before = snlnn.transform(X)[:, :80]
    snlnn.partial_fit(X[500:510])
    assert snlnn.reservoir_size_ == 160
    assert np.abs(snlnn.transform(X)[:, :80] - before).max() > 0.05


def test_fit_transform_equals_fit_then_transform_after_growth(digits):
    X = digits[0]
    params = dict(
        reservoir_dim=10, max_reservoir_dim=40, batch_size=250, n_steps=8,
        growth_threshold=0.0, random_state=0,
    )
    snlnn = Classic(**params)
    features = snlnn.fit_transform(X)
    assert len(snlnn.growth_history_) == 3
    # Not to the bit: fit runs batches of 250 rows, transform one call, so the
    # chunks differ in width and BLAS may take another kernel (2e-16 here).
    np.testing.assert_allclose(features, snlnn.transform(X), rtol=0, atol=1e-12)


@pytest.fixture
def eigen_solves(monkeypatch):
    """Count the eigen-solves, with the memo emptied first."""
    calls = []
    solve = reservoir._weights.spectral_radius
    monkeypatch.setattr(
        reservoir._weights, "spectral_radius", lambda m: calls.append(1) or solve(m)
    )
    reservoir._weights._RADIUS_CACHE.clear()
    return calls


def test_changing_radius_or_leak_reuses_the_eigen_solve(digits, eigen_solves):
    X = digits[0][:100]
    for radius, leak in [(0.9, 0.3), (0.5, 0.3), (0.5, 0.8)]:
        Classic(
            reservoir_dim=50, max_reservoir_dim=50, spectral_radius=radius,
            leak_rate=leak, n_steps=8, random_state=0,
        ).fit(X)
    assert len(eigen_solves) == 1
    Classic(
        reservoir_dim=50, max_reservoir_dim=50, n_steps=8, random_state=1
    ).fit(X)
    assert len(eigen_solves) == 2


def test_one_step_skips_the_eigen_solve_until_asked(digits, eigen_solves):
    snlnn = Classic(reservoir_dim=40, spectral_radius=0.7, random_state=0)
    snlnn.fit_transform(digits[0][:300])
    assert snlnn.n_steps_ == 1 and np.isnan(snlnn.recurrent_scale_)
    assert len(eigen_solves) == 0
    radius = np.max(np.abs(np.linalg.eigvals(snlnn.active_recurrent_weights())))
    assert radius == pytest.approx(0.7, rel=1e-6)
    assert len(eigen_solves) == 1


# ------------------------------------------------------ reproducibility etc.


def test_same_random_state_same_output_and_different_otherwise(digits):
    X = digits[0][:100]
    a = Classic(n_steps=8, random_state=5).fit_transform(X)
    b = Classic(n_steps=8, random_state=5).fit_transform(X)
    c = Classic(n_steps=8, random_state=6).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_pickle_round_trip_gives_identical_output(digits):
    X = digits[0][:100]
    snlnn = Classic(n_steps=8, density=0.3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(snlnn))
    np.testing.assert_array_equal(restored.transform(X), snlnn.transform(X))


def _blas_threads():
    return [(i["filepath"], i["num_threads"]) for i in threadpool_info()]


def test_thread_count_does_not_change_results_or_leak(digits):
    X = np.tile(digits[0], (2, 1))  # several chunks per thread
    before = _blas_threads()
    one = Classic(n_steps=8, n_jobs=1, random_state=0).fit_transform(X)
    two = Classic(n_steps=8, n_jobs=2, random_state=0).fit_transform(X)
    np.testing.assert_array_equal(one, two)
    assert _blas_threads() == before


def test_thread_count_restored_after_an_error(digits, monkeypatch):
    snlnn = Classic(n_steps=8, n_jobs=2, random_state=0).fit(digits[0])
    before = _blas_threads()

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reservoir._collect.ReservoirOperator, "run_chunk", fail)
    with pytest.raises(RuntimeError, match="boom"):
        snlnn.transform(digits[0])
    assert _blas_threads() == before


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(digits, dtype):
    X = digits[0][:50].astype(dtype)
    snlnn = Classic(n_steps=8, random_state=0)
    assert snlnn.fit_transform(X).dtype == dtype
    assert snlnn.transform(X).dtype == dtype


def test_float32_transform_makes_no_float64_copy():
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.random((4000, 784), dtype=np.float32)
    snlnn = Classic(
        reservoir_dim=50, max_reservoir_dim=50, summaries=("final",), random_state=0
    ).fit(X[:10])
    tracemalloc.start()
    out = snlnn.transform(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out.dtype == np.float32
    # Output plus chunk buffers: far below one float64 copy of X (25 MB).
    assert peak < out.nbytes + 0.25 * X.size * 8


def test_verbose_shows_progress(digits, capsys):
    Classic(n_steps=8, verbose=1, random_state=0).fit_transform(digits[0])
    err = capsys.readouterr().err
    assert re.search(r"SNLNNTransformer\(1\d0 units\) fit", err) and "1797/1797" in err
    Classic(n_steps=8, random_state=0).fit_transform(digits[0])
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------- sklearn workflow


def test_feature_names_with_default_parameters():
    X = np.random.default_rng(0).random((5, 4))
    snlnn = SNLNNTransformer().fit(X)
    names = snlnn.get_feature_names_out()
    assert len(names) == snlnn.transform(X).shape[1] == 3200
    assert list(names[[0, 399, 400, 1600, 3199]]) == [
        "window_mean0_0", "window_mean0_399", "window_mean1_0",
        "window_spike_rate0_0", "window_spike_rate3_399",
    ]


def test_set_output_pandas():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.default_rng(0).random((6, 4)), columns=list("abcd"))
    out = SNLNNTransformer(summaries=("mean",)).set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns[:2]) == ["mean0", "mean1"] and out.shape == (6, 400)


def test_grid_search_in_pipeline_on_digits(digits):
    X, y = digits
    pipe = make_pipeline(
        Classic(reservoir_dim=50, n_steps=8, random_state=0), RidgeClassifier()
    )
    search = GridSearchCV(
        pipe,
        {"snlnntransformer__spectral_radius": [0.5, 0.9],
         "snlnntransformer__leak_rate": [0.3, 1.0]},
        cv=3, n_jobs=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.85


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf]]), ValueError, "infinity"),
        (np.ones(4), ValueError, "2D array"),
        (np.ones((0, 4)), ValueError, "0 sample"),
        (np.ones((2, 4)) + 1j, ValueError, "[Cc]omplex"),
        (np.array([["a", "b"]], dtype=object), ValueError, "could not convert"),
        (sp.csr_matrix(np.ones((2, 4))), TypeError, "[Ss]parse"),
        (np.ones((2, 2, 2, 2)), ValueError, "dim"),
    ],
)
def test_bad_input_raises_a_clear_error(X, error, match):
    with pytest.raises(error, match=match):
        Classic().fit(X)


def test_n_features_not_divisible_by_n_steps():
    with pytest.raises(ValueError, match="cannot be split into n_steps=3"):
        Classic(n_steps=3).fit(np.ones((2, 4)))


def test_wrong_feature_count_or_shape_at_transform(digits):
    snlnn = Classic(n_steps=8, random_state=0).fit(digits[0][:20])
    with pytest.raises(ValueError, match="features"):
        snlnn.transform(np.ones((2, 60)))
    with pytest.raises(ValueError, match="4 steps of 16 inputs"):
        snlnn.transform(np.ones((2, 4, 16)))
    with pytest.raises(ValueError, match="n_steps=4"):
        Classic(n_steps=4).fit(np.ones((3, 8, 8)))


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Classic().transform(np.ones((2, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"leak_rate": 0.0}, "leak_rate"),
        ({"leak_rate": 1.5}, "leak_rate"),
        ({"leak_rate": -0.1}, "leak_rate"),
        ({"spectral_radius": 0.0}, "spectral_radius"),
        ({"spectral_radius": -1.0}, "spectral_radius"),
        ({"reservoir_dim": 0}, "reservoir_dim"),
        ({"reservoir_dim": 2.5}, "reservoir_dim"),
        ({"reservoir_dim": 10, "max_reservoir_dim": 5}, "max_reservoir_dim=5"),
        ({"density": 0.0}, "density"),
        ({"density": 1.2}, "density"),
        ({"spike_threshold": 0.0}, "spike_threshold"),
        ({"n_steps": 0}, "n_steps"),
        ({"input_scaling": 0.0}, "input_scaling"),
        ({"bias_scaling": -1.0}, "bias_scaling"),
        ({"growth_step": 0}, "growth_step"),
        ({"growth_criterion": "size"}, "growth_criterion"),
        ({"input_weights": "uniform"}, "input_weights"),
        ({"receptive_field": 0}, "receptive_field"),
        ({"batch_size": 0}, "batch_size"),
        ({"summaries": ("final", "max")}, "summaries"),
        ({"summaries": ()}, "summaries"),
        ({"summaries": ("final", "final")}, "summaries"),
        ({"summaries": "final"}, "summaries"),
    ],
)
def test_invalid_parameters_raise_value_error(params, match):
    with pytest.raises(ValueError, match=match):
        Classic(**params).fit(np.ones((3, 4)))


def test_inputs_are_not_modified(digits):
    X = digits[0][:50].astype(np.float32)
    X.setflags(write=False)  # read-only input must work too
    original = X.copy()
    snlnn = Classic(n_steps=8, random_state=0)
    snlnn.fit_transform(X)
    snlnn.partial_fit(X)
    snlnn.transform(X)
    np.testing.assert_array_equal(X, original)
    fortran = np.asfortranarray(digits[0][:50])
    expected = snlnn.transform(np.ascontiguousarray(fortran))
    np.testing.assert_allclose(snlnn.transform(fortran), expected, atol=1e-6)


# ------------------------------------------ parameters after fit (#10.7, 11)


def test_set_params_after_fit_changes_nothing_until_refit(digits):
    X = digits[0][:100]
    snlnn = Classic(n_steps=8, random_state=0).fit(X)
    expected = snlnn.transform(X)
    for params in [{"leak_rate": 0.9}, {"spike_threshold": 0.1},
                   {"spectral_radius": 0.2}, {"summaries": ("max",)},
                   {"summaries": ("final",)}, {"density": 0.1}]:
        snlnn.set_params(**params)
        np.testing.assert_array_equal(snlnn.transform(X), expected)
        assert len(snlnn.get_feature_names_out()) == expected.shape[1]
        snlnn.set_params(**Classic(n_steps=8, random_state=0).get_params())
    refit = snlnn.set_params(leak_rate=0.9).fit(X).transform(X)
    assert not np.allclose(refit, expected)


def test_partial_fit_refuses_changed_model_parameters(digits):
    X = digits[0][:100]
    snlnn = Classic(n_steps=8, random_state=0).partial_fit(X)
    snlnn.set_params(leak_rate=5.0)
    with pytest.raises(ValueError, match=r"leak_rate 0.3 -> 5.0.*Call fit"):
        snlnn.partial_fit(X)
    # Runtime parameters may change; the result does not.
    snlnn.set_params(leak_rate=0.3, n_jobs=2, verbose=0, summaries=["final", "mean", "spike_rate"])
    snlnn.partial_fit(X)


def test_n_jobs_zero_is_refused_before_any_work():
    with pytest.raises(ValueError, match="n_jobs"):
        Classic(n_jobs=0).fit(np.ones((3, 4)))


def test_nested_lists_in_3d_are_sequences(digits):
    X = digits[0][:20].reshape(20, 8, 8)
    snlnn = Classic(random_state=0)
    expected = snlnn.fit_transform(X)
    np.testing.assert_array_equal(snlnn.transform(X.tolist()), expected)
    np.testing.assert_array_equal(
        Classic(random_state=0).fit_transform(X.tolist()), expected
    )


def test_nilpotent_sparse_reservoir_warns_and_stays_bounded():
    X = np.random.default_rng(0).random((50, 4, 8))
    with pytest.warns(UserWarning, match="density"):
        snlnn = Classic(400, max_reservoir_dim=400, density=0.001,
                                 random_state=0).fit(X)
    w_rec = snlnn.active_recurrent_weights()
    assert 0 < abs(w_rec).max() < 10  # never 1 / eps
    assert np.isfinite(snlnn.transform(X)).all()


# ------------------------------------------------ batching guarantee (#10.9)


def test_float32_batching_agrees_to_rounding_or_one_spike(digits):
    """The documented float32 guarantee across batchings of the same rows."""
    X = np.tile(digits[0], (2, 1)).astype(np.float32)
    snlnn = Classic(n_steps=8, random_state=0).fit(X)
    full = snlnn.transform(X)
    for shifted, reference_rows in [(snlnn.transform(X[300:]), full[300:]),
                                    (snlnn.transform(X[7:20]), full[7:20])]:
        diff = np.abs(shifted - reference_rows)
        assert np.mean(diff > 1e-5) < 1e-3
        assert diff.max() <= 1.0 + 1e-5  # a flipped spike, at the most
    # Same batching, other n_jobs or a repeated call: bit-identical.
    np.testing.assert_array_equal(snlnn.set_params(n_jobs=2).transform(X), full)


def test_float64_fit_transform_agrees_with_fit_then_transform(digits):
    X = digits[0]
    params = dict(reservoir_dim=10, max_reservoir_dim=40, batch_size=300,
                  n_steps=8, growth_threshold=0.0, random_state=0)
    for dtype, atol in [(np.float64, 1e-12), (np.float32, 1e-5)]:
        snlnn = Classic(**params)
        features = snlnn.fit_transform(X.astype(dtype))
        other = snlnn.transform(X.astype(dtype))
        assert np.mean(np.abs(features - other) > atol) < 1e-3


@pytest.mark.parametrize("density", [1.0, 0.5])
def test_a_failed_refit_leaves_no_half_fitted_state(digits, density):
    from sklearn.exceptions import NotFittedError

    X = digits[0][:40, :8]
    snlnn = Classic(10, n_steps=2, density=density, random_state=0).fit(X)
    snlnn.set_params(n_steps=4, max_reservoir_dim=3)
    with pytest.raises(ValueError, match="max_reservoir_dim=3"):
        snlnn.fit(X)
    with pytest.raises(NotFittedError):
        snlnn.transform(X)
    snlnn.set_params(n_steps=3, max_reservoir_dim=None)
    with pytest.raises(ValueError, match="cannot be split"):
        snlnn.fit_transform(X)
    assert not hasattr(snlnn, "n_features_in_")


# ------------------------------------------------ variable length (#12)


def ragged(digits, n=60):
    """Digits read row by row, each image cut to between 2 and 8 rows."""
    rows = digits[0][:n].reshape(n, 8, 8)
    lengths = 2 + np.arange(n) % 7
    return [image[:k] for image, k in zip(rows, lengths)]


@pytest.mark.parametrize("density", [1.0, 0.3])
def test_sequences_of_any_length_match_the_reference(digits, density):
    sequences = ragged(digits)
    summaries = ("final", "mean", "spike_rate", "window_mean", "window_spike_rate")
    snlnn = Classic(
        20, max_reservoir_dim=20, density=density, summaries=summaries, n_windows=3,
        spike_threshold=0.2, random_state=0,
    )
    features = snlnn.fit_transform(sequences)
    assert snlnn.n_steps_ is None and snlnn.n_features_in_ == 8
    w_rec = snlnn.active_recurrent_weights()
    expected = reference.collect_states(
        sequences, snlnn.input_weights_, snlnn.bias_,
        w_rec.toarray() if sp.issparse(w_rec) else w_rec, snlnn.leak_rate,
        snlnn.spike_threshold, summaries, 20, n_windows=3,
    )
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-12)
    names = snlnn.get_feature_names_out()
    assert len(names) == features.shape[1] == 20 * 9
    assert list(names[[60, 80, 119]]) == ["window_mean0_0", "window_mean1_0", "window_mean2_19"]


def test_sequence_lists_are_independent_of_order_and_batching(digits):
    sequences = ragged(digits, 300)
    snlnn = Classic(30, n_steps=1, random_state=0).fit(sequences)
    full = snlnn.transform(sequences)
    order = np.random.default_rng(0).permutation(len(sequences))
    np.testing.assert_allclose(
        snlnn.transform([sequences[i] for i in order]), full[order], atol=1e-12
    )
    np.testing.assert_allclose(snlnn.transform(sequences[5:9]), full[5:9], atol=1e-12)
    # One equal-length 3-D block and single sequences are the same sequences.
    same = [s for s in sequences if len(s) == 5]
    np.testing.assert_allclose(
        snlnn.transform(np.stack(same)), snlnn.transform(same), atol=1e-12
    )


def test_sequence_lists_grow_and_report_rates(digits):
    sequences = ragged(digits, 400)
    snlnn = Classic(
        20, max_reservoir_dim=40, batch_size=100, growth_threshold=0.0, n_steps=1,
        random_state=0,
    )
    features = snlnn.fit_transform(sequences)
    np.testing.assert_array_equal(snlnn.growth_history_[:, 0], [100, 200])
    np.testing.assert_allclose(features, snlnn.transform(sequences), atol=1e-12)
    rates = features[200:, 2 * 40:][:, : snlnn.reservoir_size_]
    lengths = np.array([len(s) for s in sequences[200:]])
    # spike_rate_ weighs every neuron-step: rows weighted by their lengths.
    np.testing.assert_allclose(
        snlnn.spike_rate_, (rates.mean(axis=1) * lengths).sum() / lengths.sum(),
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    "X, match",
    [
        ([], "empty list"),
        ([np.ones((3, 2)), np.ones((4, 3))], "different numbers of inputs"),
        ([np.ones((3, 2)), np.ones((0, 2))], r"X\[1\]"),
        ([np.ones((3, 2)), np.array([[1.0, np.nan]])], r"X\[1\].*NaN"),
        ([np.ones((3, 2)), np.ones((2, 2, 2))], r"X\[1\] has 3 dimensions"),
        ([np.ones((3, 2)), np.ones(2)], r"X\[1\] has 1 dimensions"),
    ],
)
def test_bad_sequence_lists_raise_a_clear_error(X, match):
    with pytest.raises(ValueError, match=match):
        Classic().fit(X)


def test_a_list_fit_refuses_flat_input_and_other_widths(digits):
    snlnn = Classic(random_state=0).fit(ragged(digits))
    with pytest.raises(ValueError, match="different lengths; pass a list"):
        snlnn.transform(digits[0][:5])
    with pytest.raises(ValueError, match="3 inputs per step"):
        snlnn.transform([np.ones((4, 3))])
    with pytest.raises(ValueError, match="leave n_steps=1"):
        Classic(n_steps=4).fit(ragged(digits))


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_spike_reset_rules_match_the_reference(digits, reset):
    X = digits[0][:30]
    snlnn = Classic(
        25, max_reservoir_dim=25, n_steps=8, spike_threshold=0.2, spike_reset=reset,
        summaries=("final", "window_spike_rate"), n_windows=2, random_state=0,
    ).fit(X)
    sequences = X.reshape(30, 8, 8)
    expected = reference.collect_states(
        sequences, snlnn.input_weights_, snlnn.bias_, snlnn.active_recurrent_weights(),
        snlnn.leak_rate, 0.2, ("final", "window_spike_rate"), 25, n_windows=2,
        reset=reset,
    )
    np.testing.assert_allclose(snlnn.transform(X), expected, rtol=0, atol=1e-12)


# ------------------------------ timescales, thresholds, standardising (#12)


@pytest.mark.parametrize("density", [1.0, 0.3])
def test_several_leak_rates_are_independent_interleaved_reservoirs(digits, density):
    X = digits[0][:40]
    leaks = (1.0, 0.3, 0.05)
    snlnn = Classic(
        30, max_reservoir_dim=30, n_steps=8, leak_rate=leaks, density=density,
        spike_threshold=0.2, random_state=0,
    ).fit(X)
    np.testing.assert_array_equal(snlnn.leak_rates_, np.tile(leaks, 10))
    w_rec = snlnn.active_recurrent_weights()
    w_rec = w_rec.toarray() if sp.issparse(w_rec) else w_rec
    group = np.arange(30) % 3
    assert np.all(w_rec[group[:, None] != group[None, :]] == 0)
    assert np.count_nonzero(w_rec) > 0
    expected = reference.collect_states(
        X.reshape(40, 8, 8), snlnn.input_weights_, snlnn.bias_, w_rec,
        snlnn.leak_rates_, 0.2, snlnn.summaries, 30,
    )
    np.testing.assert_allclose(snlnn.transform(X), expected, rtol=0, atol=1e-12)


def test_auto_spike_thresholds_are_each_neurons_median_state(digits):
    """Medians of spike-free states on up to 1024 sequences spread over X."""
    X = digits[0][:300].reshape(300, 8, 8)
    snlnn = Classic(
        20, max_reservoir_dim=20, spike_threshold="auto", spike_reset="none",
        summaries=("window_spike_rate",), n_windows=2, random_state=0,
    )
    features = snlnn.fit_transform(X)
    w_rec = snlnn.active_recurrent_weights()
    states = np.concatenate([
        reference.trajectory(x, snlnn.input_weights_, snlnn.bias_, w_rec,
                             snlnn.leak_rate, np.inf, "none")[0]
        for x in X  # up to 1024 sequences spread over X: all 300 here
    ])
    np.testing.assert_allclose(
        snlnn.spike_thresholds_, np.median(states, axis=0), atol=1e-12
    )
    expected = reference.collect_states(
        X, snlnn.input_weights_, snlnn.bias_, w_rec, snlnn.leak_rate,
        snlnn.spike_thresholds_, ("window_spike_rate",), 20, n_windows=2, reset="none",
    )
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-12)
    # About half of the neuron-steps lie above a neuron's median state.
    assert 0.3 < features.mean() < 0.7


def test_standardize_input_equals_standardising_first(digits):
    X = digits[0][:100].reshape(100, 8, 8) * 3.0 + 1.0
    flat = X.reshape(-1, 8)
    scaled = (X - flat.mean(axis=0)) / np.where(flat.std(axis=0) > 0, flat.std(axis=0), 1)
    params = dict(reservoir_dim=20, random_state=0)
    expected = Classic(**params).fit_transform(scaled)
    snlnn = Classic(standardize_input=True, **params)
    np.testing.assert_allclose(snlnn.fit_transform(X), expected, atol=1e-12)
    np.testing.assert_allclose(snlnn.transform(X), expected, atol=1e-12)
    assert np.all(snlnn.input_scale_ > 0)  # constant pixels keep scale 1


@pytest.mark.parametrize(
    "params, match",
    [({"leak_rate": ()}, "leak_rate"), ({"leak_rate": (0.5, 0.0)}, "leak_rate"),
     ({"leak_rate": [0.5, 1.5]}, "leak_rate"), ({"spike_threshold": "median"}, "spike_threshold"),
     ({"spike_reset": "hard"}, "spike_reset"), ({"n_windows": 0}, "n_windows")],
)
def test_invalid_sequence_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        Classic(**params).fit(np.ones((3, 4)))


def test_constant_inputs_stay_constant_when_standardised():
    rng = np.random.default_rng(0)
    X = np.concatenate([np.full((50, 6, 1), 0.1), rng.random((50, 6, 1))], axis=2)
    snlnn = SNLNNTransformer(20, random_state=0).fit(X)
    assert snlnn.input_scale_[0] == 1.0  # its std is rounding noise, not a scale
    shifted = X.copy()
    shifted[:, :, 0] += 1e-9
    np.testing.assert_allclose(snlnn.transform(shifted), snlnn.transform(X), atol=1e-6)


def test_auto_thresholds_need_no_reset():
    with pytest.raises(ValueError, match='spike_reset="none"'):
        SNLNNTransformer(spike_threshold="auto", spike_reset="subtract").fit(np.ones((3, 4)))


def test_long_and_short_sequences_waste_nothing_on_padding(digits):
    import tracemalloc

    sequences = [np.ones((5, 2))] * 300 + [np.ones((3000, 2))]
    snlnn = SNLNNTransformer(8, random_state=0)
    tracemalloc.start()
    snlnn.fit(sequences)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    padded = 301 * 3000 * 2 * 8  # one padded copy: 14 MB
    assert peak < 2.5 * padded
