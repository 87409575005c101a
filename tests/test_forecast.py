"""Per-step series states and the forecaster: kernels against the numpy twins,
streaming, batching, generation, validation and model selection."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from reservoir import SNLNNForecaster, SNLNNSeriesTransformer
from reservoir._kernels import generate_series, series_states, series_states_batch
from reservoir.datasets import mackey_glass

from . import reference

TOL = {np.float64: 1e-12, np.float32: 3e-5}


def random_reservoir(rng, n_units, n_inputs, density):
    w_in = rng.normal(0.0, 0.8, (n_units, n_inputs))
    bias = rng.normal(0.0, 0.3, n_units)
    w_rec = rng.standard_normal((n_units, n_units))
    w_rec[rng.random(w_rec.shape) >= density] = 0.0
    radius = np.max(np.abs(np.linalg.eigvals(w_rec))) if n_units else 0.0
    return w_in, bias, w_rec * (0.95 / radius if radius > 0 else 1.0)


def kernel_recurrent(w_rec, dtype, sparse):
    """The recurrent arguments of the kernels; ``sparse`` is False (dense) or
    the CSR index dtype (the estimator passes uint32, int64 past 2**32)."""
    empty = np.empty(0, np.uint32)
    if sparse is False:
        dense = np.ascontiguousarray(w_rec, dtype)
        return dense, empty, empty, np.empty(0, dtype), False
    csr = sp.csr_matrix(w_rec)
    return (np.empty((0, 0), dtype), csr.indptr.astype(sparse),
            csr.indices.astype(sparse), csr.data.astype(dtype), True)


SPARSE = [False, np.uint32, np.int64]


def scalars(dtype, leak, threshold):
    leak = dtype(leak)
    return dtype(1) - leak, leak, dtype(threshold)


def projected(x, w_in, bias, width, dtype):
    out = np.zeros((len(x), width), dtype)
    out[:, : w_in.shape[0]] = (x @ w_in.T + bias).astype(dtype)
    return out


SHAPES = [(1, 1, 1), (1, 4, 3), (7, 1, 2), (5, 3, 1), (40, 12, 3), (9, 30, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", SPARSE)
@pytest.mark.parametrize("n_steps, n_units, n_inputs", SHAPES)
def test_series_states_matches_reference(dtype, sparse, n_steps, n_units, n_inputs):
    rng = np.random.default_rng(n_steps * 31 + n_units)
    density = 0.4 if sparse is not False else 1
    w_in, bias, w_rec = random_reservoir(rng, n_units, n_inputs, density)
    x = rng.uniform(-1, 1, (n_steps, n_inputs))
    initial = rng.uniform(-0.5, 0.5, n_units)
    leak, threshold = 0.6, 0.3
    states, spikes, final = reference.series_states(
        x, w_in, bias, w_rec, leak, threshold, initial
    )
    out = projected(x, w_in, bias, 2 * n_units + 1, dtype)
    out[:, n_units] = 7.0  # a column the kernel must not touch
    state = initial.astype(dtype)
    series_states(
        out, *kernel_recurrent(w_rec, dtype, sparse), state,
        *scalars(dtype, leak, threshold), n_units + 1,
    )
    assert out.dtype == dtype
    np.testing.assert_allclose(out[:, :n_units], states, rtol=0, atol=TOL[dtype])
    np.testing.assert_array_equal(out[:, n_units + 1 :], spikes)
    np.testing.assert_array_equal(out[:, n_units], 7.0)
    np.testing.assert_allclose(state, final, rtol=0, atol=TOL[dtype])
    if n_units * n_steps >= 20:
        assert 0 < spikes.mean() < 1  # the spike path is exercised


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", SPARSE)
@pytest.mark.parametrize("lengths", [[1], [3, 3, 3], [9, 5, 5, 1], [2, 8, 4]])
@pytest.mark.parametrize("n_units", [1, 11])
def test_series_states_batch_matches_reference(dtype, sparse, lengths, n_units):
    rng = np.random.default_rng(len(lengths) + n_units)
    n_inputs = 2
    density = 0.5 if sparse is not False else 1
    w_in, bias, w_rec = random_reservoir(rng, n_units, n_inputs, density)
    series = [rng.uniform(-1, 1, (n, n_inputs)) for n in lengths]
    initial = rng.uniform(-0.5, 0.5, (len(lengths), n_units))
    order = np.argsort(-np.array(lengths), kind="stable")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    out = projected(np.vstack(series), w_in, bias, 2 * n_units, dtype)
    states = np.ascontiguousarray(initial[order].T.astype(dtype))
    series_states_batch(
        out, starts[order], np.array(lengths, np.int64)[order],
        *kernel_recurrent(w_rec, dtype, sparse), states,
        *scalars(dtype, 0.5, 0.25), n_units,
    )
    for k, (x, start) in enumerate(zip(series, starts)):
        expected, spikes, final = reference.series_states(
            x, w_in, bias, w_rec, 0.5, 0.25, initial[k]
        )
        rows = out[start : start + len(x)]
        np.testing.assert_allclose(rows[:, :n_units], expected, rtol=0, atol=TOL[dtype])
        np.testing.assert_array_equal(rows[:, n_units:], spikes)
        column = list(order).index(k)
        np.testing.assert_allclose(states[:, column], final, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", SPARSE)
@pytest.mark.parametrize("n_steps, n_units, n_inputs", [(1, 1, 1), (1, 5, 2), (6, 1, 1),
                                                        (25, 16, 3)])
@pytest.mark.parametrize("with_input, with_spikes", [(True, True), (False, False)])
def test_generate_series_matches_reference(
    dtype, sparse, n_steps, n_units, n_inputs, with_input, with_spikes
):
    rng = np.random.default_rng(n_units + n_steps)
    density = 0.5 if sparse is not False else 1
    w_in, bias, w_rec = random_reservoir(rng, n_units, n_inputs, density)
    input_col = n_units if with_input else -1
    spike_col = n_units + n_inputs * with_input if with_spikes else -1
    width = n_units + n_inputs * with_input + n_units * with_spikes
    coef = rng.normal(0, 0.3, (n_inputs, width))
    intercept = rng.normal(0, 0.1, n_inputs)
    features = rng.uniform(-0.5, 0.5, width)
    expected, expected_features = reference.generate_series(
        n_steps, features, w_in, bias, w_rec, coef, intercept, 0.4, 0.3, input_col,
        spike_col,
    )
    out = np.empty((n_steps, n_inputs), dtype)
    got_features = features.astype(dtype)
    generate_series(
        out, got_features, w_in.astype(dtype), bias.astype(dtype),
        *kernel_recurrent(w_rec, dtype, sparse), coef.astype(dtype),
        intercept.astype(dtype), *scalars(dtype, 0.4, 0.3), input_col, spike_col,
    )
    tol = 10 * TOL[dtype]
    np.testing.assert_allclose(out, expected, rtol=0, atol=tol)
    np.testing.assert_allclose(got_features, expected_features, rtol=0, atol=tol)


# ------------------------------------------------------------------ transformer


def sine_series(n, n_inputs=1, phase=0.0):
    t = np.arange(n)[:, None] / 6.0 + phase
    return np.hstack([np.sin(t * (k + 1)) for k in range(n_inputs)])


@pytest.mark.parametrize("density", [1.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transformer_matches_the_reference_model(density, dtype):
    x = sine_series(60, 2).astype(dtype)
    states = SNLNNSeriesTransformer(
        12, density=density, include_spikes=True, spike_threshold=0.3, random_state=1
    ).fit(x)
    features = states.transform(x)
    assert features.dtype == dtype and features.shape == (60, 12 + 2 + 12)
    w_rec = states.recurrent_scale_ * (
        states.recurrent_weights_.toarray() if density < 1 else states.recurrent_weights_
    )
    expected, spikes, _ = reference.series_states(
        x.astype(float), states.input_weights_, states.bias_, w_rec, states.leak_rate,
        0.3,
    )
    np.testing.assert_allclose(features[:, :12], expected, rtol=0, atol=TOL[dtype])
    np.testing.assert_array_equal(features[:, 12:14], x)
    np.testing.assert_array_equal(features[:, 14:], spikes)
    assert 0 < spikes.mean() < 1
    radius = np.max(np.abs(np.linalg.eigvals(w_rec)))
    np.testing.assert_allclose(radius, states.spectral_radius, rtol=1e-3)
    names = states.get_feature_names_out()
    assert list(names[[0, 12, 13, 14]]) == ["state0", "input0", "input1", "spike0"]


def test_transformer_same_weights_as_snlnn_transformer():
    from reservoir import SNLNNTransformer

    x = sine_series(30, 3)
    ours = SNLNNSeriesTransformer(10, density=0.5, random_state=4).fit(x)
    # Every parameter that shapes the model, so that its defaults do not matter.
    params = dict(
        max_reservoir_dim=10, density=0.5, spectral_radius=ours.spectral_radius,
        leak_rate=ours.leak_rate, input_scaling=ours.input_scaling, bias_scaling=0.5,
        spike_threshold=1.0, spike_reset="subtract", n_steps=30,
        summaries=("final",), standardize_input=False, random_state=4,
    )
    known = SNLNNTransformer().get_params()
    theirs = SNLNNTransformer(10, **{k: v for k, v in params.items() if k in known})
    theirs.fit(x.reshape(1, -1))
    np.testing.assert_array_equal(ours.input_weights_, theirs.input_weights_)
    np.testing.assert_array_equal(ours.bias_, theirs.bias_)
    assert ours.recurrent_scale_ == pytest.approx(theirs.recurrent_scale_, rel=1e-12)
    # One sequence run by the transformer ends in the final state of the series.
    final = theirs.transform(x.reshape(1, 30, 3))[0]
    _, ours_final = ours.transform(x, return_state=True)
    # W_in x + b + W s in another summation order: rounding only.
    np.testing.assert_allclose(ours_final, final, rtol=0, atol=1e-12)


def test_continuation_equals_one_long_run():
    x = sine_series(300, 2)
    states = SNLNNSeriesTransformer(30, random_state=0).fit(x)
    whole = states.transform(x)
    parts, state = [], None
    for chunk in np.array_split(x, [1, 100, 101, 250]):
        features, state = states.transform(chunk, initial_state=state, return_state=True)
        parts.append(features)
    np.testing.assert_allclose(np.vstack(parts), whole, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(state, whole[-1, :30])


def test_list_of_series_batched_equals_one_by_one():
    series = [sine_series(n, 2, phase=n) for n in (50, 20, 50, 1, 35)]
    states = SNLNNSeriesTransformer(25, random_state=3).fit(series)
    initial = np.random.default_rng(0).uniform(-0.3, 0.3, (5, 25))
    features, finals = states.transform(series, initial_state=initial, return_state=True)
    assert features.shape == (156, 27) and finals.shape == (5, 25)
    start = 0
    for k, x in enumerate(series):
        alone, final = states.transform(x, initial_state=initial[k], return_state=True)
        np.testing.assert_allclose(features[start : start + len(x)], alone, atol=1e-12)
        np.testing.assert_allclose(finals[k], final, atol=1e-12)
        start += len(x)


def test_same_random_state_same_output_and_inputs_untouched():
    x = sine_series(80, 2)
    x.setflags(write=False)
    copy = x.copy()
    a = SNLNNSeriesTransformer(20, random_state=7).fit_transform(x)
    b = SNLNNSeriesTransformer(20, random_state=7).fit_transform(x)
    c = SNLNNSeriesTransformer(20, random_state=8).fit_transform(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_array_equal(x, copy)


# ------------------------------------------------------------------- forecaster


@pytest.fixture(scope="module")
def mg():
    x = mackey_glass(3000, discard=300, random_state=0)
    return 2 * (x - x.min()) / (x.max() - x.min()) - 1


def nrmse(pred, truth):
    return float(np.sqrt(np.mean((pred - truth) ** 2)) / truth.std())


def test_forecaster_h_step_ahead_and_streaming(mg):
    h, n_train = 10, 2000
    model = SNLNNForecaster(SNLNNSeriesTransformer(200, random_state=0))
    model.fit(mg[: n_train - h], mg[h:n_train])
    # Continue from the final training state: the test segment has no transient.
    pred = model.predict(mg[n_train - h : -h], initial_state=model.final_state_)
    assert nrmse(pred, mg[n_train:]) < 0.02
    # From the zero state only the first steps are worse; same model either way.
    cold = model.predict(mg[n_train - h : -h])
    assert nrmse(cold[200:], mg[n_train + 200 :]) < 0.02
    np.testing.assert_array_equal(cold, model.predict(mg[n_train - h : -h]))
    # predict on the training series reproduces the state fit saw.
    _, state = model.predict(mg[: n_train - h], return_state=True)
    np.testing.assert_array_equal(state, model.final_state_)


def test_forecaster_generates_mackey_glass(mg):
    model = SNLNNForecaster(SNLNNSeriesTransformer(300, random_state=0), alpha=1e-7)
    model.fit(mg[:2000], mg[1:2001])
    future = model.generate(100)  # after the last training input, mg[1999]
    assert future.shape == (100, 1)
    assert nrmse(future, mg[2000:2100]) < 0.05
    # Reading the training series as the context ends in the same place.
    np.testing.assert_allclose(model.generate(100, X=mg[:2000]), future, atol=1e-9)
    # Continue a forecast from the returned state and its last value.
    first, state = model.generate(60, X=mg[:2000], return_state=True)
    more = model.generate(40, X=first[-1:], initial_state=state)
    np.testing.assert_allclose(np.vstack([first, more]), future, rtol=0, atol=1e-9)


def test_generation_matches_the_teacher_forced_loop(mg):
    """Generating is predicting with the forecast itself as the input."""
    model = SNLNNForecaster(SNLNNSeriesTransformer(50, random_state=2)).fit(
        mg[:500], mg[1:501]
    )
    future = model.generate(30, X=mg[:501])
    inputs = np.vstack([mg[:501], future[:-1]])
    np.testing.assert_allclose(model.predict(inputs)[500:], future, rtol=0, atol=1e-9)


def test_multi_output_and_float32():
    x = sine_series(400, 3).astype(np.float32)
    model = SNLNNForecaster(SNLNNSeriesTransformer(60, random_state=0), alpha=1e-2)
    model.fit(x[:-1], x[1:])
    pred = model.predict(x[:-1])
    assert pred.dtype == np.float32 and pred.shape == (399, 3)
    assert nrmse(pred[100:], x[101:]) < 0.01
    future = model.generate(5)
    assert future.dtype == np.float32 and future.shape == (5, 3)
    y1 = model.fit(x[:-1], x[1:, 0]).predict(x[:-1])
    assert y1.shape == (399,)


def test_list_of_series_fit_drops_each_washout():
    series = [sine_series(n, 1, phase=n) for n in (120, 80)]
    targets = [2 * s for s in series]
    model = SNLNNForecaster(SNLNNSeriesTransformer(20, random_state=0), washout=10)
    model.fit(series, targets)
    np.testing.assert_array_equal(model.washout_, [10, 10])
    assert model.readout_.n_samples_seen_ == 180
    pred = model.predict(series)
    assert pred.shape == (200, 1)
    auto = SNLNNForecaster(SNLNNSeriesTransformer(20, random_state=0))
    auto.fit(series, targets)
    np.testing.assert_array_equal(auto.washout_, [12, 8])


def test_grid_search_with_time_series_split(mg):
    x, y = mg[:1200], mg[10:1210]
    search = GridSearchCV(
        # Each test fold follows its training fold: start it where fit ended.
        SNLNNForecaster(SNLNNSeriesTransformer(50, random_state=0),
                        initial_state="after_fit"),
        {
            "reservoir__spectral_radius": [0.5, 1.1],
            "reservoir__leak_rate": [0.1, 0.5],
            "alpha": [1e-8, 1e3],
        },
        cv=TimeSeriesSplit(n_splits=3),
    ).fit(x, y)
    assert len(search.cv_results_["params"]) == 8
    # A penalty of 1e3 on features of order 1 cannot fit a 10-step forecast.
    assert search.best_params_["alpha"] == 1e-8
    assert search.best_score_ > 0.9
    scores = search.cv_results_["mean_test_score"]
    assert scores.max() - scores.min() > 0.1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, x: m.fit(np.where(x > 0.9, np.nan, x), x), "NaN"),
        (lambda m, x: m.set_params(washout=300).fit(x, x), "not more than washout=300"),
        (lambda m, x: m.fit(x, x[:-1]), "y has 199 time steps"),
        (lambda m, x: m.fit([x, x], [x]), "list of 2 series"),
        (lambda m, x: m.fit(x, x).predict(np.hstack([x, x])), "expecting 1 features"),
        (lambda m, x: m.fit(x, x).generate(0), "n_timesteps must be an integer >= 1"),
        (lambda m, x: m.fit(x, x).generate(True), "n_timesteps must be an integer"),
        (lambda m, x: m.fit(x, x).predict(x, initial_state=0.0),
         "initial_state has shape"),
        (lambda m, x: m.fit(x, np.hstack([x, x])).generate(3), "as many targets as"),
        (lambda m, x: m.fit(x, x).predict(x, initial_state=np.zeros(3)),
         "initial_state has shape"),
        (lambda m, x: m.fit(x, x).generate(3, initial_state=np.zeros(10)),
         "initial_state needs a context"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    x = sine_series(200)
    x.setflags(write=False)
    model = SNLNNForecaster(SNLNNSeriesTransformer(10, random_state=0))
    with pytest.raises(ValueError, match=message):
        call(model, x)


def test_predict_does_not_change_the_model(mg):
    model = SNLNNForecaster(SNLNNSeriesTransformer(40, random_state=0))
    model.fit(mg[:300], mg[1:301])
    state, features = model.final_state_.copy(), model.final_features_.copy()
    first = model.generate(10)
    model.predict(mg[300:400], initial_state=model.final_state_)
    np.testing.assert_array_equal(model.generate(10), first)
    np.testing.assert_array_equal(model.final_state_, state)
    np.testing.assert_array_equal(model.final_features_, features)


# ------------------------------------------------------------ review fixes


def test_transform_keeps_the_parameters_of_fit():
    """set_params after fit takes effect at the next fit, not in transform."""
    x = sine_series(60, 2)
    states = SNLNNSeriesTransformer(12, density=0.5, random_state=0).fit(x)
    features, names = states.transform(x), states.get_feature_names_out()
    states.set_params(reservoir_dim=20, leak_rate=0.9, spike_threshold=0.1,
                      include_input=False, include_spikes=True)
    np.testing.assert_array_equal(states.transform(x), features)
    np.testing.assert_array_equal(states.get_feature_names_out(), names)
    model = SNLNNForecaster(SNLNNSeriesTransformer(12, random_state=0)).fit(x, x)
    pred = model.predict(x)
    model.reservoir_.set_params(leak_rate=0.9, include_spikes=True)
    np.testing.assert_array_equal(model.predict(x), pred)
    assert states.fit(x).transform(x).shape == (60, 20 + 12 * 0 + 20)


def test_receptive_field_is_not_silently_ignored():
    x = sine_series(30, 8)
    with pytest.raises(ValueError, match="only applies to"):
        SNLNNSeriesTransformer(5, receptive_field=2, random_state=0).fit(x)
    states = SNLNNSeriesTransformer(
        6, input_weights="receptive_field", receptive_field=3, random_state=0
    ).fit(x)
    assert (np.count_nonzero(states.input_weights_, axis=1) == 3).all()


@pytest.mark.parametrize(
    "X, message",
    [
        ([], "empty list"),
        ([np.zeros((5, 1)), np.zeros((1, 5, 1))], r"X\[1\] has 3 dimensions"),
        ([np.zeros((5, 1)), np.zeros(5)], r"X\[1\] has 1 dimension"),
        ([np.zeros((5, 1)).tolist(), [[0.0], [1.0, 2.0]]], r"X\[1\] is ragged"),
        (np.zeros((2, 5, 1)), "list of 2-D series"),
        (np.zeros((5, 1)).tolist() + [np.zeros((2, 1))], r"X\[5\] has 2 dimensions"),
    ],
)
def test_malformed_series_lists_raise_a_clear_error(X, message):
    states = SNLNNSeriesTransformer(5, density=1.0, random_state=0)
    states.fit(np.zeros((5, 1)))
    for call in (states.fit, states.transform):
        with pytest.raises(ValueError, match=message):
            call(X)


def test_nested_lists_of_series_are_a_collection():
    series = [sine_series(7), sine_series(4, phase=1.0)]
    states = SNLNNSeriesTransformer(5, density=1.0, random_state=0).fit(series)
    np.testing.assert_array_equal(
        states.transform([s.tolist() for s in series]), states.transform(series)
    )


def test_float32_readout_is_as_accurate_as_float64(mg):
    """float32 features; the normal equations are formed from them exactly."""
    x, y = mg[:1990], mg[10:2000]
    errors = []
    for dtype in (np.float64, np.float32):
        model = SNLNNForecaster(SNLNNSeriesTransformer(200, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no fallback to least squares
            model.fit(x[:1500].astype(dtype), y[:1500].astype(dtype))
        pred = model.predict(x[1500:].astype(dtype), initial_state=model.final_state_)
        assert pred.dtype == dtype
        errors.append(nrmse(pred, y[1500:]))
    assert errors[1] < 1.1 * errors[0] + 1e-5, errors


def test_fit_does_not_depend_on_the_blas_thread_count(mg):
    """Concurrent callers hold BLAS at one thread; a fit alone must agree."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from reservoir._blas import single_threaded_blas

    def fit_predict(x):
        model = SNLNNForecaster(SNLNNSeriesTransformer(150, random_state=1))
        return model.fit(x[:-1], x[1:]).predict(x)

    x = mg[:1200]
    with threadpool_limits(2, user_api="blas"):
        alone = fit_predict(x)
    with single_threaded_blas():
        held = fit_predict(x)
    np.testing.assert_array_equal(alone, held)
    segments = [mg[k * 50 : k * 50 + 1200] for k in range(6)]
    serial = [fit_predict(s) for s in segments]
    with ThreadPoolExecutor(6) as pool:
        for a, b in zip(serial, pool.map(fit_predict, segments)):
            np.testing.assert_array_equal(a, b)


def test_score_accepts_a_list_of_series():
    from sklearn.metrics import r2_score

    series = [sine_series(n, 1, phase=n) for n in (80, 30)]
    targets = [np.roll(s, -1) for s in series]
    model = SNLNNForecaster(SNLNNSeriesTransformer(20, random_state=0)).fit(
        series, targets
    )
    expected = r2_score(np.vstack(targets), model.predict(series))
    assert model.score(series, targets) == pytest.approx(expected)
    assert model.score(series[0], targets[0]) == pytest.approx(
        r2_score(targets[0], model.predict(series[0]))
    )


def test_dense_or_csr_product_chosen_by_cost_same_states():
    from reservoir._forecast import _dense_is_faster

    n = 500
    assert not _dense_is_faster(0.1 * n * n, n, np.float64, 1)
    assert not _dense_is_faster(0.1 * n * n, n, np.float32, 1)
    assert _dense_is_faster(0.3 * n * n, n, np.float32, 1)
    assert _dense_is_faster(0.5 * n * n, n, np.float64, 1)
    assert not _dense_is_faster(0.5 * 2000**2, 2000, np.float64, 1)  # W out of L2
    assert _dense_is_faster(0.3 * n * n, n, np.float64, 64)
    x = [sine_series(40, 2), sine_series(25, 2, phase=1.0)]
    for density in (0.1, 0.6):
        states = SNLNNSeriesTransformer(60, density=density, random_state=0).fit(x)
        dense = states.recurrent_scale_ * states.recurrent_weights_.toarray()
        for k, series in enumerate(x):
            expected, _, _ = reference.series_states(
                series, states.input_weights_, states.bias_, dense, states.leak_rate,
                1.0,
            )
            alone = states.transform(series)[:, :60]
            np.testing.assert_allclose(alone, expected, rtol=0, atol=1e-12)
            start = 40 * k
            batched = states.transform(x)[start : start + len(series), :60]
            np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-12)
