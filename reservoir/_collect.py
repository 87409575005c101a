"""State collection: drive the Numba kernels over chunks of sequences.

Each chunk of ``CHUNK_ROWS`` sequences runs the whole time loop; the
recurrent product is one BLAS matrix-matrix product per step over the chunk.
Chunks run on ``n_jobs`` Python threads (the kernels and BLAS release the
GIL) with BLAS itself held to one thread (:mod:`._blas`), so the two thread
pools never fight over the cores and every chunk is computed identically for
any ``n_jobs`` and any number of concurrent callers.
Memory is ``O(n_jobs * CHUNK_ROWS * n_units)`` plus the output. One-step
sequences take a path of their own, in the output's row layout.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._blas import single_threaded_blas
from ._kernels import csr_matmul_add, first_step, leaky_spike_update, transpose_scaled

SUMMARIES = ("final", "mean", "spike_rate")
CHUNK_ROWS = 256
# One-step chunks hold no state, only one (rows, units) block per thread; larger
# ones spread BLAS's packing of W_in over more rows (2 threads: 78% -> 87% of
# matmul at 1000 units).
ONE_STEP_CHUNK_ROWS = 1024
# Inputs of fewer than two full chunks are split in two (down to this many rows
# per chunk), so that n_jobs=2 keeps both cores busy on small inputs. The split
# depends on n_samples alone: results never depend on n_jobs.
MIN_CHUNK_ROWS = 32


class ReservoirOperator:
    """The active reservoir in the layout the kernels want, for one dtype.

    ``weights`` is ``[bias | W_in | W]`` (dense W) or ``[bias | W_in]`` with
    W kept as CSR arrays (sparse W), so that ``weights @ [1; x_t; s_{t-1}]`` is
    one product. ``w_rec=None`` gives an operator for one-step sequences only,
    which never touch W; ``recurrent_scale`` multiplies W as it is copied.
    """

    def __init__(self, w_in, bias, w_rec, dtype, recurrent_scale=1.0):
        n_active, n_inputs = w_in.shape
        self.n_active = n_active
        self.n_inputs = n_inputs
        self.dtype = np.dtype(dtype)
        self.input_t = np.ascontiguousarray(w_in.T, dtype=self.dtype)
        self.bias = np.asarray(bias, dtype=self.dtype)
        self.sparse = sp.issparse(w_rec)
        if w_rec is None:
            return
        head = 1 + n_inputs
        # Written in place: no float64 [b | W_in | W] temporary (0.2 GB at 5000 units).
        width = head if self.sparse else head + n_active
        self.weights = np.empty((n_active, width), self.dtype)
        self.weights[:, 0] = bias
        self.weights[:, 1:head] = w_in
        if self.sparse:
            csr = sp.csr_matrix(w_rec)
            csr.sort_indices()
            self.indptr = csr.indptr.astype(np.int64)
            self.indices = csr.indices.astype(np.int64)
            self.data = (csr.data * recurrent_scale).astype(self.dtype)
        else:
            np.multiply(
                w_rec, recurrent_scale, out=self.weights[:, head:], casting="same_kind"
            )

    def run_chunk(self, x, keep, leak_rate, spike_threshold):
        """Run sequences ``x`` of shape (B, T, D); return per-unit summaries.

        Returns ``final, state_sum, spike_count`` of shape (n_active, B) and
        ``abs_sum`` of shape (B,), the sum of ``|s|`` over steps and units.
        """
        n_batch, n_steps, n_inputs = x.shape
        n = self.n_active
        head = 1 + n_inputs
        # Column b of z is [1, x_t, s_{t-1}] for sequence b.
        z = np.empty((head + n, n_batch), dtype=self.dtype)
        z[0] = 1.0
        z[head:] = 0.0
        state = z[head:]
        pre = np.empty((n, n_batch), dtype=self.dtype)
        state_sum = np.zeros((n, n_batch), dtype=self.dtype)
        spike_count = np.zeros((n, n_batch), dtype=self.dtype)
        abs_sum = np.zeros(n_batch, dtype=self.dtype)
        input_part = self.weights[:, :head]
        for t in range(n_steps):
            z[1:head] = x[:, t, :].T
            if self.sparse or t == 0:
                # At t = 0 the state is zero: skip the recurrent product.
                np.matmul(input_part, z[:head], out=pre)
                if self.sparse and t > 0:
                    csr_matmul_add(self.indptr, self.indices, self.data, state, pre)
            else:
                np.matmul(self.weights, z, out=pre)
            np.tanh(pre, out=pre)
            leaky_spike_update(
                pre, state, keep, leak_rate, spike_threshold, state_sum, spike_count,
                abs_sum,
            )
        return state, state_sum, spike_count, abs_sum


def collect_states(
    operator,
    x,
    *,
    leak_rate,
    spike_threshold,
    summaries,
    n_units_out,
    n_jobs=1,
    out=None,
    progress=None,
):
    """Summaries of the reservoir trajectory of every sequence in ``x``.

    Parameters
    ----------
    operator : ReservoirOperator
    x : ndarray of shape (n_samples, n_steps, n_inputs)
    leak_rate, spike_threshold : float
    summaries : sequence of {"final", "mean", "spike_rate"}
    n_units_out : int
        Width of each summary block; neurons beyond the active ones read 0.
    n_jobs : int
        Threads over chunks of sequences.
    out : ndarray of shape (n_samples, len(summaries) * n_units_out), optional
    progress : callable, optional
        Called with the number of sequences finished after each chunk.

    Returns
    -------
    features : ndarray of shape (n_samples, len(summaries) * n_units_out)
    mean_abs_state : ndarray of shape (n_samples,)
        Mean ``|s|`` over steps and active neurons, per sequence.
    spike_count : float
        Total spikes emitted.
    """
    n_samples, n_steps = x.shape[:2]
    if x.shape[2] != operator.n_inputs:
        raise ValueError(
            f"x has {x.shape[2]} inputs per step, the reservoir {operator.n_inputs}."
        )
    n = operator.n_active
    dtype = operator.dtype
    if out is None:
        out = np.zeros((n_samples, len(summaries) * n_units_out), dtype=dtype)
    mean_abs = np.empty(n_samples, dtype=dtype)
    leak = dtype.type(leak_rate)
    keep = dtype.type(1) - leak  # in the dtype: float32 arithmetic stays float32
    threshold = dtype.type(spike_threshold)
    inv_steps = dtype.type(1.0 / n_steps)

    chunk = ONE_STEP_CHUNK_ROWS if n_steps == 1 else CHUNK_ROWS
    chunk = min(chunk, max(MIN_CHUNK_ROWS, -(-n_samples // 2)))

    def work_steps(start):
        stop = min(start + chunk, n_samples)
        final, state_sum, spikes, abs_sum = operator.run_chunk(
            x[start:stop], keep, leak, threshold
        )
        blocks = {"final": final, "mean": state_sum, "spike_rate": spikes}
        for k, name in enumerate(summaries):
            scale = dtype.type(1) if name == "final" else inv_steps
            transpose_scaled(
                blocks[name], scale, out[start:stop, k * n_units_out : k * n_units_out + n]
            )
        mean_abs[start:stop] = abs_sum * (inv_steps / dtype.type(max(n, 1)))
        return float(spikes.sum()), stop - start

    # One step needs neither W nor the transposed state: the product lands in
    # rows laid out like the output, and one kernel writes every summary.
    state_cols = np.array(
        [k * n_units_out for k, name in enumerate(summaries) if name != "spike_rate"],
        dtype=np.int64,
    )
    spike_col = (
        summaries.index("spike_rate") * n_units_out if "spike_rate" in summaries else -1
    )

    # Per-thread scratch: a fresh block per chunk cost 15% in page faults.
    local = threading.local()

    def work_one_step(start):
        stop = min(start + chunk, n_samples)
        if not hasattr(local, "block"):
            local.block = np.empty((chunk, n), dtype=dtype)
        activation = local.block[: stop - start]
        np.matmul(x[start:stop, 0], operator.input_t, out=activation)
        activation += operator.bias
        np.tanh(activation, out=activation)
        mean_abs[start:stop] = 0.0
        spikes = first_step(
            activation, keep, leak, threshold, out[start:stop], state_cols, spike_col,
            mean_abs[start:stop],
        )
        mean_abs[start:stop] *= dtype.type(1.0 / max(n, 1))
        return float(spikes), stop - start

    run = work_one_step if n_steps == 1 else work_steps

    def work(start):
        # Entered again in the thread that runs the chunk: re-asserts one BLAS
        # thread per chunk, and sets it at all for a per-thread (OpenMP) BLAS.
        with single_threaded_blas():
            return run(start)

    starts = range(0, n_samples, chunk)
    total_spikes = 0.0
    with single_threaded_blas():
        if n_jobs == 1 or n_samples <= chunk:
            results = map(work, starts)
            total_spikes = _drain(results, progress)
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                total_spikes = _drain(pool.map(work, starts), progress)
    return out, mean_abs, total_spikes


def _drain(results, progress):
    total = 0.0
    for spikes, done in results:
        total += spikes
        if progress is not None:
            progress(done)
    return total
