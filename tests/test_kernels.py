"""Jitted kernels and the chunked state collection against the numpy twins."""

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

from reservoir._collect import (
    SPIKE_RESETS,
    CHUNK_ROWS,
    ONE_STEP_CHUNK_ROWS,
    ReservoirOperator,
    collect_states,
)
from reservoir._kernels import (
    RESET_SUBTRACT,
    csr_matmul_add,
    step_update,
    tanh_float32_array,
    transpose_scaled,
)

from . import reference

SUMMARIES = ("final", "mean", "spike_rate")
# float32 differs from the float64 reference by rounding of the products only.
TOL = {np.float64: 1e-12, np.float32: 2e-5}


def random_reservoir(rng, n_units, n_inputs, density=1.0):
    w_in = rng.normal(0.0, 0.8, (n_units, n_inputs))
    bias = rng.normal(0.0, 0.3, n_units)
    w_rec = rng.standard_normal((n_units, n_units))
    if density < 1:
        w_rec[rng.random(w_rec.shape) >= density] = 0.0
    radius = np.max(np.abs(np.linalg.eigvals(w_rec))) if n_units else 1.0
    w_rec *= 0.9 / radius if radius > 0 else 1.0
    return w_in, bias, w_rec


def _step_args(activation, state, tracked=True):
    shape, dtype = state.shape, state.dtype
    per_unit = np.ones(shape[0], dtype)
    return [
        activation, state, shape[1], per_unit * (1 - dtype.type(0.4)),
        per_unit * dtype.type(0.4), per_unit * dtype.type(0.3), RESET_SUBTRACT,
        np.zeros(shape[1], dtype),
    ] + ([np.ones(shape, dtype), np.zeros(shape, dtype)] if tracked else [])


def _activation(pre):
    """The kernel's tanh: numpy's in float64, tanh_float32 in float32."""
    if pre.dtype == np.float64:
        return np.tanh(pre)
    out = np.empty_like(pre)
    tanh_float32_array(pre, out)
    return out


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 7), (4, 1), (3, 33), (1, 1), (5, 70)])
def test_step_update_matches_reference(dtype, shape, reset):
    rng = np.random.default_rng(0)
    pre = rng.normal(0, 2, shape).astype(dtype)
    activation = _activation(pre)
    state = rng.uniform(-1, 1, shape).astype(dtype)
    # The twin computes in the same dtype, so the kernel must agree to the bit:
    # a float32 kernel that promotes to float64 rounds once instead of thrice.
    expected_state, expected_spikes = reference.leaky_spike_update(
        activation, state, 0.4, 0.3, reset
    )
    args = _step_args(pre if dtype == np.float32 else activation, state)
    args[6] = SPIKE_RESETS[reset]
    n_spikes = step_update(*args)
    abs_sum, state_sum, spike_count = args[7:]
    assert expected_state.dtype == dtype
    np.testing.assert_array_equal(state, expected_state)
    np.testing.assert_array_equal(spike_count, expected_spikes)
    assert n_spikes == expected_spikes.sum()
    np.testing.assert_array_equal(state_sum, 1 + expected_state)
    np.testing.assert_allclose(
        abs_sum, np.abs(expected_state).sum(axis=0), rtol=1e-6, atol=TOL[dtype]
    )
    assert spike_count.sum() > 0 or shape == (1, 1)


@pytest.mark.parametrize("n_running", [40, 17, 0])
def test_step_update_fused_tanh_untracked_sums_and_running_prefix(n_running):
    """float32 with tanh in the pass: the twin given exact tanh, to the tanh
    bound; the same states and spike total with the running sums skipped;
    columns past ``n_running`` untouched."""
    rng = np.random.default_rng(1)
    pre = rng.normal(0, 2, (6, 40)).astype(np.float32)
    state = rng.uniform(-1, 1, pre.shape).astype(np.float32)
    expected_state, expected_spikes = reference.leaky_spike_update(
        np.tanh(pre.astype(np.float64)), state.astype(np.float64), 0.4, 0.3
    )
    run = slice(0, n_running)
    tracked, untracked = state.copy(), state.copy()
    args = _step_args(pre, tracked)
    args[2] = n_running
    n_spikes = step_update(*args)
    np.testing.assert_allclose(
        tracked[:, run], expected_state[:, run], atol=0.4 * TANH32_BOUND + 1e-7
    )
    np.testing.assert_array_equal(tracked[:, n_running:], state[:, n_running:])
    np.testing.assert_array_equal(args[9][:, run], expected_spikes[:, run])
    np.testing.assert_array_equal(args[8], 1 + np.where(
        np.arange(40) < n_running, tracked, 0))
    bare = _step_args(pre, untracked, tracked=False)
    bare[2] = n_running
    assert step_update(*bare) == n_spikes
    np.testing.assert_array_equal(untracked, tracked)
    np.testing.assert_array_equal(bare[7], args[7])


# The error bound of tanh_float32 stated in _kernels (checked there on every
# float32 in [1e-30, 12]).
TANH32_BOUND = 3.41e-7


def test_tanh_float32_within_its_stated_bound():
    rng = np.random.default_rng(2)
    x = np.concatenate([
        rng.normal(0, 3, 200_000), rng.uniform(-12, 12, 200_000),
        np.geomspace(1e-30, 20, 20_000), [0.0, 9.0, 1e4, np.finfo(np.float32).max],
    ]).astype(np.float32)
    x = np.concatenate([x, -x])
    out = np.empty_like(x)
    tanh_float32_array(x, out)
    assert out.dtype == np.float32
    exact = np.tanh(x.astype(np.float64))
    error = np.abs(out - exact)
    assert error.max() <= TANH32_BOUND
    assert np.all(error <= TANH32_BOUND * np.abs(exact) + 1e-45)  # relative too
    assert np.all(np.abs(out) <= 1)
    # Saturated beyond the clamp: one value on each side, as tanh in float32.
    assert len(np.unique(out[x >= 9])) == 1 and len(np.unique(out[x <= -9])) == 1


def test_update_kernel_keeps_float32_arithmetic():
    """No float64 in the float32 specialisation: half the SIMD width otherwise."""
    f32 = np.float32
    args = _step_args(np.ones((2, 3), f32), np.zeros((2, 3), f32))
    # A fresh compilation: numba cannot inspect code loaded from its cache.
    kernel = njit(step_update.py_func)
    kernel(*args)
    assert "fpext" not in kernel.inspect_llvm(kernel.signatures[0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_rows, n_batch", [(1, 1), (5, 3), (40, 17), (90, 33)])
def test_csr_matmul_add_matches_dense(dtype, n_rows, n_batch):
    rng = np.random.default_rng(1)
    dense_matrix = sp.random(n_rows, n_rows, density=0.3, random_state=2).toarray()
    csr = sp.csr_matrix(dense_matrix.astype(dtype))
    x = rng.standard_normal((n_rows, n_batch)).astype(dtype)
    out = rng.standard_normal((n_rows, n_batch)).astype(dtype)
    expected = reference.csr_matmul_add(dense_matrix, x.astype(float), out.astype(float))
    csr_matmul_add(
        csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data, x, out
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=10 * TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("density", [1.0, 0.3])
@pytest.mark.parametrize(
    "n_samples, n_steps, n_inputs, n_units",
    [
        (1, 1, 1, 1),  # degenerate everything
        (3, 1, 5, 9),  # single step: no recurrent product at all
        (2, 6, 1, 1),  # one neuron
        (5, 4, 3, 12),
        (CHUNK_ROWS + 3, 3, 2, 6),  # crosses a chunk boundary
        (ONE_STEP_CHUNK_ROWS + 3, 1, 4, 5),  # and a one-step chunk boundary
    ],
)
def test_collect_states_matches_reference(
    dtype, density, n_samples, n_steps, n_inputs, n_units
):
    rng = np.random.default_rng(n_samples + n_units)
    w_in, bias, w_rec = random_reservoir(rng, n_units, n_inputs, density)
    x = rng.uniform(-1, 1, (n_samples, n_steps, n_inputs))
    leak, threshold, width = 0.6, 0.35, n_units + 2
    expected = reference.collect_states(
        x, w_in, bias, w_rec, leak, threshold, SUMMARIES, width
    )
    recurrent = sp.csr_matrix(w_rec) if density < 1 else w_rec
    operator = ReservoirOperator(w_in, bias, recurrent, dtype)
    features, mean_abs, spikes = collect_states(
        operator, x.astype(dtype), leak_rate=leak, spike_threshold=threshold,
        summaries=SUMMARIES, n_units_out=width, n_jobs=2,
    )
    assert features.dtype == dtype
    np.testing.assert_allclose(features, expected, rtol=0, atol=TOL[dtype])
    rates = expected[:, 2 * width : 2 * width + n_units]
    np.testing.assert_allclose(spikes, rates.sum() * n_steps, rtol=1e-6)
    states = np.stack([
        reference.trajectory(s, w_in, bias, w_rec, leak, threshold)[0] for s in x
    ])
    np.testing.assert_allclose(
        mean_abs, np.abs(states).mean(axis=(1, 2)), rtol=1e-5, atol=TOL[dtype]
    )


@pytest.mark.parametrize("n_steps", [5, 1])
def test_collect_states_summary_order_and_subset(n_steps):
    rng = np.random.default_rng(3)
    w_in, bias, w_rec = random_reservoir(rng, 4, 2)
    x = rng.uniform(-1, 1, (6, n_steps, 2))
    operator = ReservoirOperator(w_in, bias, w_rec, np.float64)
    kwargs = dict(leak_rate=0.9, spike_threshold=0.2, n_units_out=4)
    full, _, spikes = collect_states(operator, x, summaries=SUMMARIES, **kwargs)
    assert spikes > 0
    for picked in [("spike_rate", "final"), ("mean",), ("spike_rate",)]:
        columns = [full[:, 4 * SUMMARIES.index(name) :][:, :4] for name in picked]
        got, _, _ = collect_states(operator, x, summaries=picked, **kwargs)
        np.testing.assert_array_equal(got, np.hstack(columns))


def test_one_step_operator_needs_no_recurrent_weights():
    rng = np.random.default_rng(4)
    w_in, bias, w_rec = random_reservoir(rng, 7, 3)
    x = rng.uniform(-1, 1, (ONE_STEP_CHUNK_ROWS + 5, 1, 3))
    kwargs = dict(leak_rate=0.8, spike_threshold=0.3, summaries=SUMMARIES, n_units_out=9)
    with_w = collect_states(ReservoirOperator(w_in, bias, w_rec, np.float64), x, **kwargs)
    without = collect_states(
        ReservoirOperator(w_in, bias, None, np.float64), x, n_jobs=2, **kwargs
    )
    for a, b in zip(with_w, without):
        np.testing.assert_array_equal(a, b)
    expected = reference.collect_states(x, w_in, bias, w_rec, 0.8, 0.3, SUMMARIES, 9)
    np.testing.assert_allclose(without[0], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 0.37])
@pytest.mark.parametrize("density", [1.0, 0.3])
def test_operator_scales_recurrent_weights_as_it_copies(scale, density):
    rng = np.random.default_rng(5)
    w_in, bias, w_rec = random_reservoir(rng, 6, 2, density)
    x = rng.uniform(-1, 1, (4, 5, 2))
    kwargs = dict(leak_rate=0.5, spike_threshold=0.3, summaries=SUMMARIES, n_units_out=6)
    recurrent = sp.csr_matrix(w_rec) if density < 1 else w_rec
    got, _, _ = collect_states(
        ReservoirOperator(w_in, bias, recurrent, np.float32, scale), x.astype(np.float32),
        **kwargs,
    )
    expected = reference.collect_states(x, w_in, bias, w_rec * scale, 0.5, 0.3, SUMMARIES, 6)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL[np.float32])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (3, 70), (33, 5), (64, 64)])
def test_transpose_scaled_writes_into_a_strided_block(dtype, shape):
    src = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = np.full((shape[1], shape[0] + 5), 7.0, dtype)
    scale = np.linspace(0.5, 2.0, shape[1]).astype(dtype)  # one factor per sequence
    transpose_scaled(src, scale, out[:, 2 : 2 + shape[0]])
    np.testing.assert_array_equal(out[:, 2 : 2 + shape[0]], src.T * scale[:, None])
    assert np.all(out[:, :2] == 7) and np.all(out[:, 2 + shape[0] :] == 7)


ALL_SUMMARIES = ("final", "mean", "spike_rate", "window_mean", "window_spike_rate")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("density", [1.0, 0.3])
@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("n_windows", [1, 3, 8])
@pytest.mark.parametrize(
    "lengths",
    [
        [5, 1, 9, 2, 9, 3],  # unequal, with one-step and shorter-than-K sequences
        [4, 4, 4],  # equal: the unsorted fast path
        [1, 1],  # every sequence one step
    ],
)
def test_variable_length_windows_and_resets_match_reference(
    dtype, density, reset, n_windows, lengths
):
    check_variable_length(dtype, density, reset, n_windows, lengths)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("density", [1.0, 0.3])
def test_variable_length_across_chunks_matches_reference(dtype, density):
    check_variable_length(dtype, density, "subtract", 3, list(range(1, CHUNK_ROWS + 40)))


def check_variable_length(dtype, density, reset, n_windows, lengths):
    rng = np.random.default_rng(len(lengths) + n_windows)
    n_inputs, n_units, width = 3, 7, 9
    w_in, bias, w_rec = random_reservoir(rng, n_units, n_inputs, density)
    lengths = np.array(lengths)
    padded = rng.uniform(-1, 1, (len(lengths), lengths.max(), n_inputs))
    padded[np.arange(lengths.max())[None, :] >= lengths[:, None]] = np.nan  # never read
    sequences = [p[:n] for p, n in zip(padded, lengths)]
    leak, threshold = 0.6, 0.3
    expected = reference.collect_states(
        sequences, w_in, bias, w_rec, leak, threshold, ALL_SUMMARIES, width,
        n_windows=n_windows, reset=reset,
    )
    recurrent = sp.csr_matrix(w_rec) if density < 1 else w_rec
    operator = ReservoirOperator(
        w_in, bias, recurrent if lengths.max() > 1 else None, dtype
    )
    features, mean_abs, _ = collect_states(
        operator, padded.astype(dtype), leak_rate=leak, spike_threshold=threshold,
        summaries=ALL_SUMMARIES, n_units_out=width, lengths=lengths,
        spike_reset=reset, n_windows=n_windows, n_jobs=2,
    )
    assert features.dtype == dtype and np.isfinite(features).all()
    np.testing.assert_allclose(features, expected, rtol=0, atol=10 * TOL[dtype])
    states = [reference.trajectory(s, w_in, bias, w_rec, leak, threshold, reset)[0]
              for s in sequences]
    np.testing.assert_allclose(
        mean_abs, [np.abs(s).mean() for s in states], rtol=1e-5, atol=TOL[dtype]
    )
    # Order in, order out: a permutation of the rows permutes the features.
    order = rng.permutation(len(lengths))
    shuffled, _, _ = collect_states(
        operator, padded[order].astype(dtype), leak_rate=leak,
        spike_threshold=threshold, summaries=ALL_SUMMARIES, n_units_out=width,
        lengths=lengths[order], spike_reset=reset, n_windows=n_windows,
    )
    np.testing.assert_allclose(shuffled, features[order], rtol=0, atol=10 * TOL[dtype])


@pytest.mark.parametrize("n_steps", [1, 4])
def test_chunks_even_equal_and_empty_input(n_steps):
    from reservoir._collect import chunk_rows

    for n_samples in (0, 1, 33, 1025, 5000, 9000):
        for n_units, itemsize in ((100, 4), (100, 8), (5000, 4), (5000, 8)):
            rows = chunk_rows(n_samples, n_units, itemsize, n_steps)
            n_chunks = -(-n_samples // rows)
            assert rows >= 32 and (n_chunks <= 1 or n_chunks % 2 == 0 or rows == 32)
            assert rows <= 2048  # never above the widest target
    # The wide rule follows the product's width (a grouped W multiplies its
    # blocks one at a time) and yields to the chunk's memory.
    assert chunk_rows(10**6, 5000, 4, 28, row_bytes=4 * 5000 * 4) > 2000
    assert chunk_rows(10**6, 1250, 4, 28, row_bytes=4 * 5000 * 4) < 600
    assert chunk_rows(10**6, 5000, 8, 28, row_bytes=19 * 5000 * 8) < 1100
    rng = np.random.default_rng(0)
    w_in, bias, w_rec = random_reservoir(rng, 5, 3)
    operator = ReservoirOperator(w_in, bias, w_rec, np.float32)
    out, _, _ = collect_states(
        operator, np.zeros((0, n_steps, 3), np.float32), leak_rate=0.3,
        spike_threshold=0.5, summaries=("final",), n_units_out=5,
    )
    assert out.shape == (0, 5)
