"""Numba kernels of the spiking leaky-tanh reservoir.

Arrays in, arrays out: no scikit-learn, no randomness, no Python objects.
The state of a batch of ``B`` independent sequences is kept *transposed*,
``(n_units, B)``, so that the recurrent product is one matrix-matrix product
per time step and every inner loop runs over contiguous samples.
"""

import numpy as np
from numba import njit


# Spike reset rules (``reset`` below).
RESET_NONE, RESET_SUBTRACT, RESET_ZERO = 0, 1, 2


@njit(cache=True, nogil=True, inline="always")
def leaky_spike_reset(previous, activation, keep, leak_rate, spike_threshold, reset):
    """The reservoir update of one neuron: every path calls this and only this.

    ``s = keep * previous + leak_rate * activation`` with ``keep = 1 - leak_rate``
    (passed in, rounded to the array dtype, so that float32 stays float32). A
    spike fires where ``s > threshold``; then ``reset`` is ``RESET_SUBTRACT``
    (``s -= threshold``, the original model), ``RESET_ZERO`` (``s = 0``, as a
    LIF neuron) or ``RESET_NONE`` (the spike is only read out: a threshold
    crossing). Returns ``(s, fired)``.

    The reset is a select, not a branch, so that a loop over neurons
    vectorises: a spike takes away ``threshold`` (subtract) or ``s`` (zero,
    ``s - s``); with no reset the state is kept.
    """
    s = keep * previous + leak_rate * activation
    fired = s > spike_threshold
    taken = spike_threshold if reset == RESET_SUBTRACT else s
    s = s - taken if fired and reset != RESET_NONE else s
    return s, fired


@njit(cache=True, nogil=True, inline="always")
def leaky_spike(previous, activation, keep, leak_rate, spike_threshold):
    """:func:`leaky_spike_reset` with the subtractive reset."""
    return leaky_spike_reset(
        previous, activation, keep, leak_rate, spike_threshold, RESET_SUBTRACT
    )


# tanh in float32 as x P(x^2) / Q(x^2) on [-9, 9] (fitted here by linear
# programming on the relative error, coefficients rounded to float32); beyond
# 9, float32 tanh is +-1 to within half an ulp. Unlike a call to tanh, the
# rational function vectorises with the rest of the update. Error against
# float64 tanh, checked on every float32 in [1e-30, 12] (and it is odd):
# <= 3.41e-7 absolute and relative (numpy's float32 tanh: 6e-8, the float32
# rounding of one recurrent product: ~1e-6); tests/test_kernels.py samples it.
TANH32_CLAMP = np.float32(9.0)
_P0, _P1, _P2, _P3, _P4 = (np.float32(c) for c in (
    1.0, 0.13370319087719504, 0.003482389812706489, 2.0376771408650563e-05,
    1.3012186433538798e-08,
))
_Q1, _Q2, _Q3, _Q4 = (np.float32(c) for c in (
    0.4670365218744467, 0.02582797947780176, 0.00032633418517716604,
    7.640356879878583e-07,
))
_ONE32 = np.float32(1.0)


# error_model="numpy": Python's error model tests every division for zero,
# which stops the loop vectorising (q >= 1 here: nothing to catch). "contract"
# lets Horner's steps be FMAs (1.2x); LLVM inlines the function into the
# update loop with its own flags, so the update itself stays uncontracted.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def tanh_float32(x):
    """``tanh`` of a float32 as a vectorisable rational function (see above)."""
    x = min(max(x, -TANH32_CLAMP), TANH32_CLAMP)
    u = x * x
    p = (((_P4 * u + _P3) * u + _P2) * u + _P1) * u + _P0
    q = (((_Q4 * u + _Q3) * u + _Q2) * u + _Q1) * u + _ONE32
    # Near +-9 the rounded quotient can exceed 1 by an ulp or two.
    return min(max(x * p / q, -_ONE32), _ONE32)


@njit(cache=True, nogil=True, error_model="numpy")
def tanh_float32_array(x, out):
    """:func:`tanh_float32` over an array (for tests and the numpy twins)."""
    flat_in, flat_out = x.ravel(), out.ravel()
    for i in range(flat_in.shape[0]):
        flat_out[i] = tanh_float32(flat_in[i])


@njit(cache=True, nogil=True, error_model="numpy")
def step_update(
    pre, state, n_running, keep, leak_rate, spike_threshold, reset, abs_sum=None,
    state_sum=None, spike_count=None,
):
    """Advance one time step in place: one pass over ``pre``.

    ``pre``, ``state``, ``state_sum`` and ``spike_count`` are C-ordered
    ``(n_units, B)``, of which the first ``n_running`` columns (the sequences
    still running) are updated; ``abs_sum`` is ``(B,)`` and accumulates
    ``sum_j |s_j|`` for the growth rule, and then the number of spikes is
    returned (0 without it). ``keep``, ``leak_rate`` and
    ``spike_threshold`` are per neuron, ``(n_units,)``, in the arrays' dtype
    (see :func:`leaky_spike_reset`).

    In float32, ``pre`` is the pre-activation and :func:`tanh_float32` is
    applied in the same pass; in float64 ``pre`` already holds numpy's (exact)
    ``tanh(pre)``. The sums are only kept when given (None compiles the loop
    without them): a running sum is one more read and write of an
    (n_units, B) array per step, and counting spikes alone costs 1.5x.

    The loop has no branches, so that it vectorises: the dtype test and the
    None tests fold at compile time, and the reset is a select.
    """
    n_units = state.shape[0]
    one, zero = state.dtype.type(1), state.dtype.type(0)  # float32 stays float32
    fired_total = 0
    for j in range(n_units):
        keep_j, leak_j, threshold_j = keep[j], leak_rate[j], spike_threshold[j]
        fired_j = 0
        for b in range(n_running):
            a = tanh_float32(pre[j, b]) if pre.itemsize == 4 else pre[j, b]
            s, fired = leaky_spike_reset(state[j, b], a, keep_j, leak_j, threshold_j, reset)
            state[j, b] = s
            if abs_sum is not None:
                abs_sum[b] += abs(s)
                fired_j += fired
            if state_sum is not None:
                state_sum[j, b] += s
            if spike_count is not None:
                spike_count[j, b] += one if fired else zero  # an exact integer
        fired_total += fired_j
    return fired_total


# reassoc lets the |s| sum vectorise (2x on the whole kernel); it reorders
# that sum (the growth signal: ~1e-16 relative), never the states.
@njit(cache=True, nogil=True, fastmath={"reassoc"})
def first_step(
    activation, keep, leak_rate, spike_threshold, reset, out, state_cols, spike_cols,
    abs_sum,
):
    """The whole trajectory of one-step sequences, written into output rows.

    ``keep``, ``leak_rate`` and ``spike_threshold`` are per neuron, ``(n,)``.

    From the zero state one step is :func:`leaky_spike_reset` of a zero state, so
    ``activation`` (B, n) is overwritten with ``s``, which is copied to the
    columns ``state_cols[k] + j`` of ``out`` (the final, the mean and every
    window's mean state are the same thing); spikes go to the columns
    ``spike_cols[k] + j``. ``abs_sum[b] += sum_j |s_j|``. Returns the spike count.
    """
    n_batch, n_units = activation.shape
    zero = keep[0] - keep[0]  # the zero initial state, in the arrays' dtype
    total = 0
    for b in range(n_batch):
        row = activation[b]
        acc = abs_sum[b]
        fired_in_row = 0
        # Two copies of the loop, so that neither tests for spikes per element.
        if spike_cols.shape[0]:
            spikes = out[b, spike_cols[0] : spike_cols[0] + n_units]
            for j in range(n_units):
                s, fired = leaky_spike_reset(
                    zero, row[j], keep[j], leak_rate[j], spike_threshold[j], reset
                )
                spikes[j] = 1 if fired else 0
                row[j] = s
                acc += abs(s)
                fired_in_row += fired
            for col in spike_cols[1:]:
                out[b, col : col + n_units] = spikes
        else:
            for j in range(n_units):
                s, fired = leaky_spike_reset(
                    zero, row[j], keep[j], leak_rate[j], spike_threshold[j], reset
                )
                row[j] = s
                acc += abs(s)
                fired_in_row += fired
        abs_sum[b] = acc
        total += fired_in_row
        for col in state_cols:
            out[b, col : col + n_units] = row
    return total


@njit(cache=True, nogil=True)
def csr_matmul_add(indptr, indices, data, dense, out):
    """``out += A @ dense`` for a CSR matrix ``A`` and a C-ordered ``dense``.

    Each stored entry scales one contiguous row of ``dense`` (a run over the
    batch), which vectorises, unlike scattering into rows of ``out``. Entries
    are taken four at a time so that each pass over a row of ``out`` does four
    products instead of one (1.4-1.8x here).
    """
    n_rows = out.shape[0]
    n_batch = out.shape[1]
    for i in range(n_rows):
        row = out[i]
        p = indptr[i]
        end = indptr[i + 1]
        while p + 4 <= end:
            w0, w1, w2, w3 = data[p], data[p + 1], data[p + 2], data[p + 3]
            d0 = dense[indices[p]]
            d1 = dense[indices[p + 1]]
            d2 = dense[indices[p + 2]]
            d3 = dense[indices[p + 3]]
            for b in range(n_batch):
                row[b] += (w0 * d0[b] + w1 * d1[b]) + (w2 * d2[b] + w3 * d3[b])
            p += 4
        for q in range(p, end):
            w = data[q]
            d = dense[indices[q]]
            for b in range(n_batch):
                row[b] += w * d[b]


@njit(cache=True, nogil=True)
def transpose_scaled(src, scale, dst):
    """``dst[j, i] = scale[j] * src[i, j]``, tiled so both sides stay in cache.

    Writes the (n_units, B) summaries into rows of the (B, n_features) output,
    each sequence ``j`` scaled by its own factor (one over its length for the
    means); numpy's strided transpose ran at a quarter of this speed.
    """
    n_rows, n_cols = src.shape
    tile = 32
    for i0 in range(0, n_rows, tile):
        i1 = min(i0 + tile, n_rows)
        for j0 in range(0, n_cols, tile):
            j1 = min(j0 + tile, n_cols)
            for j in range(j0, j1):
                factor = scale[j]
                for i in range(i0, i1):
                    dst[j, i] = src[i, j] * factor


@njit(cache=True, nogil=True)
def record_window_ends(step, ends, running_sum, snapshot):
    """Snapshot a running sum for the sequences whose window ``k`` ends here.

    ``ends`` is (K - 1, B): the step count at which window ``k`` of sequence
    ``b`` ends; after step ``step`` (0-based) the sums (n_units, B) of every
    sequence with ``ends[k, b] == step + 1`` are copied into
    ``snapshot[k, :, b]``. A window's sum is then the difference of two
    snapshots, so nothing per step is kept.
    """
    n_units, n_batch = running_sum.shape
    for k in range(ends.shape[0]):
        for b in range(n_batch):
            if ends[k, b] == step + 1:
                for j in range(n_units):
                    snapshot[k, j, b] = running_sum[j, b]


# ---------------------------------------------------------------- one long series
# Rows are time steps of one series and the state carries from row to row; the
# input projection of every step is one matrix product done before these loops.


@njit(cache=True, nogil=True)
def _recurrent_product(w_rec, indptr, indices, data, sparse, state, pre):
    """``pre = W @ state`` for dense ``w_rec`` or the CSR arrays of ``W``."""
    if not sparse:
        np.dot(w_rec, state, pre)
        return
    for i in range(pre.shape[0]):
        p = indptr[i]
        end = indptr[i + 1]
        # Four partial sums: one chain of dependent adds ran 2x slower.
        a0 = state[0] - state[0]
        a1 = a0
        a2 = a0
        a3 = a0
        while p + 4 <= end:
            a0 += data[p] * state[indices[p]]
            a1 += data[p + 1] * state[indices[p + 1]]
            a2 += data[p + 2] * state[indices[p + 2]]
            a3 += data[p + 3] * state[indices[p + 3]]
            p += 4
        for q in range(p, end):
            a0 += data[q] * state[indices[q]]
        pre[i] = (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True)
def series_states(
    out, w_rec, indptr, indices, data, sparse, state, keep, leak_rate,
    spike_threshold, spike_col,
):
    """States of one series, written over its input projection in ``out``.

    ``out`` is (n_timesteps, n_features); on entry its columns ``0..n_units``
    hold ``W_in x_t + b`` and on exit the state ``s_t``. ``state`` (n_units,)
    is the initial state on entry and the final state on exit. Spikes go to
    columns ``spike_col + j`` unless ``spike_col < 0``. ``W`` is ``w_rec``
    (dense) or ``(indptr, indices, data)`` (CSR) as ``sparse`` says.
    """
    n_units = state.shape[0]
    pre = np.empty_like(state)
    for t in range(out.shape[0]):
        if n_units == 0:
            break
        _recurrent_product(w_rec, indptr, indices, data, sparse, state, pre)
        row = out[t]
        for j in range(n_units):
            s, fired = leaky_spike(
                state[j], np.tanh(pre[j] + row[j]), keep, leak_rate, spike_threshold
            )
            state[j] = s
            row[j] = s
            if spike_col >= 0:
                row[spike_col + j] = 1 if fired else 0


@njit(cache=True, nogil=True)
def series_states_batch(
    out, starts, lengths, w_rec, indptr, indices, data, sparse, states, keep,
    leak_rate, spike_threshold, spike_col,
):
    """:func:`series_states` for several series at once, one matrix product a step.

    Series ``b`` occupies rows ``starts[b]..starts[b] + lengths[b]`` of ``out``;
    ``lengths`` must not increase with ``b``, so the series still running at
    step ``t`` are a prefix. ``states`` (n_units, n_series) holds the initial
    states on entry and the final ones on exit.
    """
    n_units, n_series = states.shape
    active = n_series
    work = np.ascontiguousarray(states)
    pre = np.empty_like(work)
    n_steps = lengths[0] if n_series else 0
    for t in range(n_steps):
        if n_units == 0:
            break
        while lengths[active - 1] <= t:
            active -= 1
        if active < work.shape[1]:
            # Series that ended keep their final state; the rest is re-packed
            # so that the product stays one contiguous matrix product.
            states[:, active : work.shape[1]] = work[:, active:]
            work = np.ascontiguousarray(work[:, :active])
            pre = np.empty_like(work)
        if sparse:
            pre[:] = 0
            csr_matmul_add(indptr, indices, data, work, pre)
        else:
            np.dot(w_rec, work, pre)
        # Tiles of 8 neurons: each series' row of out is written a cache line
        # at a time, not one element per line per series (1.3x on 64 series).
        for j0 in range(0, n_units, 8):
            j1 = min(j0 + 8, n_units)
            for b in range(active):
                row = out[starts[b] + t]
                for j in range(j0, j1):
                    s, fired = leaky_spike(
                        work[j, b], np.tanh(pre[j, b] + row[j]), keep, leak_rate,
                        spike_threshold,
                    )
                    work[j, b] = s
                    row[j] = s
                    if spike_col >= 0:
                        row[spike_col + j] = 1 if fired else 0
    states[:, :active] = work[:, :active]


@njit(cache=True, nogil=True)
def generate_series(
    out, features, w_in, bias, w_rec, indptr, indices, data, sparse, coef,
    intercept, keep, leak_rate, spike_threshold, input_col, spike_col,
):
    """Closed loop: each readout prediction is the next input.

    ``features`` (n_features,) is the feature row of the last step read,
    ``[s | x | z]`` with the state in columns ``0..n_units``, the input at
    ``input_col`` and spikes at ``spike_col`` (absent when negative); it is
    updated in place. For ``k = 0, 1, ...``: ``out[k] = coef @ features +
    intercept``; the reservoir then reads ``out[k]`` as its next input
    (``W_in out[k] + W s + b``) and the features are rebuilt.
    """
    n_units, n_inputs = w_in.shape
    n_outputs, n_features = coef.shape
    state = np.ascontiguousarray(features[:n_units])
    pre = np.empty_like(state)
    for k in range(out.shape[0]):
        for o in range(n_outputs):
            acc = intercept[o]
            for f in range(n_features):
                acc += coef[o, f] * features[f]
            out[k, o] = acc
        if k + 1 == out.shape[0]:
            break
        if n_units:
            _recurrent_product(w_rec, indptr, indices, data, sparse, state, pre)
        for j in range(n_units):
            a = bias[j] + pre[j]
            for i in range(n_inputs):
                a += w_in[j, i] * out[k, i]
            s, fired = leaky_spike(state[j], np.tanh(a), keep, leak_rate, spike_threshold)
            state[j] = s
            features[j] = s
            if spike_col >= 0:
                features[spike_col + j] = 1 if fired else 0
        if input_col >= 0:
            for i in range(n_inputs):
                features[input_col + i] = out[k, i]
