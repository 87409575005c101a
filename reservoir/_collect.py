"""State collection: drive the Numba kernels over chunks of sequences.

Each chunk of sequences (:func:`chunk_rows`) runs the whole time loop; the
recurrent product is one BLAS matrix-matrix product per step over the chunk.
Chunks run on ``n_jobs`` Python threads (the kernels and BLAS release the
GIL) with BLAS itself held to one thread (:mod:`._blas`), so the two thread
pools never fight over the cores and every chunk is computed identically for
any ``n_jobs`` and any number of concurrent callers.
Memory is ``O(n_jobs * chunk * n_units)`` plus the output (sequences of
different lengths also copy each chunk's inputs, gathered in length order). One-step
sequences take a path of their own, in the output's row layout.

Sequences of different lengths (``lengths``) are sorted longest first, so that
each chunk holds sequences of similar length and, at step ``t``, the ones still
running are a prefix of its columns: each runs for exactly its own length, and
no padding reaches any summary.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ._blas import single_threaded_blas
from ._kernels import (
    RESET_NONE,
    RESET_SUBTRACT,
    RESET_ZERO,
    csr_matmul_add,
    first_step,
    record_window_ends,
    step_update,
    transpose_scaled,
)

# Per-neuron summaries of a trajectory. The window summaries are ``n_windows``
# blocks each: the mean state, and the spike rate, over K consecutive parts of
# equal length (window k holds the steps t with floor(K t / length) == k).
SUMMARIES = ("final", "mean", "spike_rate", "window_mean", "window_spike_rate")
WINDOW_SUMMARIES = ("window_mean", "window_spike_rate")
SPIKE_RESETS = {"subtract": RESET_SUBTRACT, "zero": RESET_ZERO, "none": RESET_NONE}
# Rows per chunk, measured in situ (28 steps x 28 inputs, one thread): from
# 256 to 512 rows float32 state collection gained 2-9% at 1000-5000 units;
# float64 gained 15-30% up to 1024 rows. The update's (n_units, rows) arrays
# then leave the cache: float32 at 1000 units was slower at 1024 rows than at
# 512. From 4000 units the products dominate and BLAS's packing of W per call
# is what is left to spread: 2048 rows took 5000 units from 86-88% to 94% of
# numpy's matmul rate (float32, 1 and 2 threads) and from 85% to 91-95%
# (float64). "Units" there is the width of the recurrent product: a grouped W
# multiplies its diagonal blocks one at a time. Wide chunks are held to
# WIDE_CHUNK_BYTES of per-chunk arrays per thread (z, pre, the running sums and
# the window snapshots): each such array is 40-80 MB at 5000 units.
CHUNK_ROWS = 512  # float32
FLOAT64_CHUNK_ROWS = 1024
WIDE_CHUNK_ROWS = 2048  # either dtype, from WIDE_CHUNK_UNITS units
WIDE_CHUNK_UNITS = 4000
WIDE_CHUNK_BYTES = 512 * 2**20
# Sparse W too: at 500 units, density 0.1, float32 ran 1.7x faster in 512-row
# chunks than in 256 (17,222 against 10,285 seq/s), float64 alike in 1024 and 256.
# One-step chunks hold no state, only one (rows, units) block per thread; larger
# ones spread BLAS's packing of W_in over more rows (2 threads: 78% -> 87% of
# matmul at 1000 units).
ONE_STEP_CHUNK_ROWS = 1024
# Chunks are never smaller than this, even when that leaves one chunk.
MIN_CHUNK_ROWS = 32


def chunk_rows(n_samples, n_units, itemsize, n_steps, row_bytes=0):
    """Sequences per chunk for this shape: the size above, then evened out.

    ``n_units`` is the width of the recurrent product, ``row_bytes`` the bytes
    of the chunk's arrays per sequence (bounds the wide chunks). The chunks are
    made equal and even in number, so that two threads finish together; the
    split depends on the shape alone, never on ``n_jobs``.
    """
    if n_steps == 1:
        target = ONE_STEP_CHUNK_ROWS
    else:
        target = FLOAT64_CHUNK_ROWS if itemsize == 8 else CHUNK_ROWS
        if n_units >= WIDE_CHUNK_UNITS:
            fits = WIDE_CHUNK_BYTES // max(row_bytes, 1)
            target = max(target, min(WIDE_CHUNK_ROWS, fits))
    n_chunks = max(1, -(-n_samples // target))  # no samples: one empty chunk
    n_chunks += n_chunks % 2
    return max(MIN_CHUNK_ROWS, -(-n_samples // n_chunks))


def summary_width(summaries, n_units, n_windows):
    """Output columns of ``summaries``, each block ``n_units`` wide."""
    return n_units * sum(n_windows if s in WINDOW_SUMMARIES else 1 for s in summaries)


def window_ends(lengths, n_windows):
    """(K - 1, B) step counts at which windows 0 .. K-2 end: ceil((k+1) L / K)."""
    k = np.arange(1, n_windows, dtype=np.int64)[:, None]
    return -((-k * lengths[None, :]) // n_windows)


class ReservoirOperator:
    """The active reservoir in the layout the kernels want, for one dtype.

    ``weights`` is ``[bias | W_in | W]`` (dense W) or ``[bias | W_in]`` with
    W kept as CSR arrays (sparse W), so that ``weights @ [1; x_t; s_{t-1}]`` is
    one product. ``w_rec=None`` gives an operator for one-step sequences only,
    which never touch W; ``recurrent_scale`` multiplies W as it is copied.

    ``groups > 1`` says that a dense W only connects neurons ``i, j`` with
    ``i % groups == j % groups`` (several timescales, see
    :func:`._weights.within_groups`). The neurons are then kept sorted by group
    inside the operator (``perm``), so that W is ``groups`` dense diagonal
    blocks, each its own product: ``groups`` times fewer flops than the whole W.
    Results come back in the original neuron order.
    """

    def __init__(self, w_in, bias, w_rec, dtype, recurrent_scale=1.0, groups=1):
        n_active, n_inputs = w_in.shape
        self.n_active = n_active
        self.n_inputs = n_inputs
        self.dtype = np.dtype(dtype)
        self.input_t = np.ascontiguousarray(w_in.T, dtype=self.dtype)
        self.bias = np.asarray(bias, dtype=self.dtype)
        self.sparse = sp.issparse(w_rec)
        self.perm = self.inverse = self.blocks = None
        if w_rec is None:
            return
        head = 1 + n_inputs
        if groups > 1 and not self.sparse and n_active > 1:
            group = np.arange(n_active) % groups
            self.perm = np.argsort(group, kind="stable")
            self.inverse = np.argsort(self.perm)
            self.weights = np.empty((n_active, head), self.dtype)
            self.weights[:, 0] = bias[self.perm]
            self.weights[:, 1:head] = w_in[self.perm]
            bounds = np.searchsorted(group[self.perm], np.arange(groups + 1))
            self.blocks = []
            for r0, r1 in zip(bounds[:-1], bounds[1:]):
                rows = self.perm[r0:r1]
                block = (w_rec[np.ix_(rows, rows)] * recurrent_scale).astype(self.dtype)
                self.blocks.append((r0, r1, block))
            return
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

    def run_chunk(self, x, keep, leak_rate, spike_threshold, reset, lengths, ends,
                  on_step=None, track_sum=True, track_spikes=True, activity=True):
        """Run sequences ``x`` of shape (B, T, D); return per-unit summaries.

        ``lengths`` (B,), sorted longest first, or None when all run ``T``
        steps; ``ends`` is :func:`window_ends` of them, or None for no windows.
        Returns ``final, state_sum, spike_count`` of shape (n_active, B) (the
        sums are None unless ``track_sum`` / ``track_spikes``), ``abs_sum`` of
        shape (B,), the sum of ``|s|`` over steps and units, the window
        snapshots ``(state_snap, spike_snap)`` of shape (K - 1, n_active, B),
        or None, and the number of spikes (``abs_sum`` None and 0 spikes
        unless ``activity``). ``on_step(t, state)``, if given,
        sees the states of the running sequences after every step (a view:
        copy it).
        """
        n_batch, n_steps, n_inputs = x.shape
        n = self.n_active
        head = 1 + n_inputs
        perm, blocks = self.perm, self.blocks
        if perm is not None:  # per-neuron scalars in the operator's order
            keep, leak_rate, spike_threshold = (
                keep[perm], leak_rate[perm], spike_threshold[perm]
            )
            scratch = np.empty((n, n_batch), dtype=self.dtype)
        # Column b of z is [1, x_t, s_{t-1}] for sequence b.
        z = np.empty((head + n, n_batch), dtype=self.dtype)
        z[0] = 1.0
        z[head:] = 0.0
        state = z[head:]
        pre = np.empty((n, n_batch), dtype=self.dtype)
        state_sum = np.zeros((n, n_batch), dtype=self.dtype) if track_sum else None
        spike_count = np.zeros((n, n_batch), dtype=self.dtype) if track_spikes else None
        abs_sum = np.zeros(n_batch, dtype=self.dtype) if activity else None
        # float32: tanh is fused into the update (a vectorised rational
        # function, see _kernels); float64 keeps numpy's tanh, exact.
        fused_tanh = self.dtype == np.float32
        n_spikes = 0
        snaps = None
        if ends is not None:
            snaps = tuple(
                np.zeros((len(ends), n, n_batch), dtype=self.dtype) if tracked else None
                for tracked in (track_sum, track_spikes)
            )
        input_part = self.weights[:, :head]
        running = n_batch
        for t in range(n_steps):
            if lengths is not None:
                # Sorted longest first: the sequences still running are a prefix.
                while running and lengths[running - 1] <= t:
                    running -= 1
            m = running
            z[1:head, :m] = x[:m, t, :].T
            # Products over the running columns only (a prefix: strided, which
            # BLAS takes as it is); all columns while every sequence runs.
            zm, pm, sm = (z, pre, state) if m == n_batch else (z[:, :m], pre[:, :m], state[:, :m])
            if blocks is not None:
                np.matmul(input_part, zm[:head], out=pm)
                if t > 0:
                    for r0, r1, block in blocks:
                        part = scratch[r0:r1, :m]
                        np.matmul(block, sm[r0:r1], out=part)
                        pm[r0:r1] += part
            elif self.sparse or t == 0:
                # At t = 0 the state is zero: skip the recurrent product.
                np.matmul(input_part, zm[:head], out=pm)
                if self.sparse and t > 0:
                    csr_matmul_add(self.indptr, self.indices, self.data, sm, pm)
            else:
                np.matmul(self.weights, zm, out=pm)
            if not fused_tanh:
                np.tanh(pm, out=pm)
            n_spikes += step_update(
                pre, state, m, keep, leak_rate, spike_threshold, reset, abs_sum,
                state_sum, spike_count,
            )
            if on_step is not None:
                on_step(t, state[:, :m] if perm is None else state[self.inverse, :m])
            if snaps is not None:
                for total, snap in zip((state_sum, spike_count), snaps):
                    if total is not None:
                        record_window_ends(t, ends[:, :m], total[:, :m], snap[:, :, :m])
        if perm is not None:  # back to the neurons' own order
            state, state_sum, spike_count = (
                None if a is None else a[self.inverse]
                for a in (state, state_sum, spike_count)
            )
            if snaps is not None:
                snaps = tuple(None if s is None else s[:, self.inverse] for s in snaps)
        return state, state_sum, spike_count, abs_sum, snaps, n_spikes


def collect_states(
    operator,
    x,
    *,
    leak_rate,
    spike_threshold,
    summaries,
    n_units_out,
    lengths=None,
    spike_reset="subtract",
    n_windows=1,
    n_jobs=1,
    out=None,
    progress=None,
    activity=True,
):
    """Summaries of the reservoir trajectory of every sequence in ``x``.

    Parameters
    ----------
    operator : ReservoirOperator
    x : ndarray of shape (n_samples, n_steps, n_inputs)
        Channels-last sequences; with ``lengths``, sequence ``i`` is
        ``x[i, :lengths[i]]`` and the rest is padding, never read.
    leak_rate, spike_threshold : float or ndarray of shape (n_active,)
        One value, or one per active neuron.
    summaries : sequence of str from ``SUMMARIES``
    n_units_out : int
        Width of each summary block; neurons beyond the active ones read 0.
    lengths : ndarray of int of shape (n_samples,), optional
        Steps of each sequence, all >= 1; None means ``n_steps`` for all.
    spike_reset : {"subtract", "zero", "none"}
    n_windows : int
        Windows K of the window summaries.
    n_jobs : int
        Threads over chunks of sequences.
    out : ndarray of shape (n_samples, summary_width(...)), optional
    progress : callable, optional
        Called with the number of sequences finished after each chunk.
    activity : bool
        Whether to measure the activity below (the growth rule's); without
        it both are None and the update pass skips their sums.

    Returns
    -------
    features : ndarray of shape (n_samples, summary_width(summaries, n_units_out, n_windows))
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
    width = summary_width(summaries, n_units_out, n_windows)
    if out is None:
        out = np.zeros((n_samples, width), dtype=dtype)
    mean_abs = np.empty(n_samples, dtype=dtype)
    # Per neuron, in the dtype: float32 arithmetic stays float32.
    leak = np.broadcast_to(np.asarray(leak_rate, dtype=dtype), (n,)).copy()
    keep = dtype.type(1) - leak
    threshold = np.broadcast_to(np.asarray(spike_threshold, dtype=dtype), (n,)).copy()
    reset = SPIKE_RESETS[spike_reset]
    if lengths is not None and np.all(lengths == n_steps):
        lengths = None  # equal lengths: the fast path, no sorting
    # Where each summary block starts in a row of the output.
    starts_of = {}
    col = 0
    for name in summaries:
        starts_of[name] = col
        col += n_units_out * (n_windows if name in WINDOW_SUMMARIES else 1)
    windows = n_windows if any(s in WINDOW_SUMMARIES for s in summaries) else 0
    # Running sums only for the summaries that read them.
    track_sum = any(s in ("mean", "window_mean") for s in summaries)
    track_spikes = any(s in ("spike_rate", "window_spike_rate") for s in summaries)

    one_step = n_steps == 1
    # Per sequence of a chunk: z and pre, the running sums, their window
    # snapshots, the grouped product's scratch.
    n_arrays = 2 + (track_sum + track_spikes) * (1 + max(windows - 1, 0))
    if operator.blocks is None:
        product_units = n
    else:
        n_arrays += 1
        product_units = max(r1 - r0 for r0, r1, _ in operator.blocks)
    chunk = chunk_rows(n_samples, product_units, dtype.itemsize, n_steps,
                       row_bytes=n_arrays * n * dtype.itemsize)
    # Longest first, ties in input order: chunks of similar lengths.
    order = None if lengths is None else np.argsort(-lengths, kind="stable")

    def write(block, counts, final, state_sum, spikes, snaps):
        """Write one chunk's summaries into ``block`` (rows of the output)."""
        inv = (dtype.type(1) / counts).astype(dtype)
        sources = {"final": (final, np.ones_like(inv)), "mean": (state_sum, inv),
                   "spike_rate": (spikes, inv)}
        for name in summaries:
            c = starts_of[name]
            if name in sources:
                src, scale = sources[name]
                transpose_scaled(src, scale, block[:, c : c + n])
                continue
            # With one window (snaps None) the window is the whole sequence.
            k_sum = 0 if name == "window_mean" else 1
            total = state_sum if name == "window_mean" else spikes
            snap = None if snaps is None else snaps[k_sum]
            ends = window_ends(counts.astype(np.int64), windows)
            begin, previous = np.zeros(len(counts), np.int64), np.zeros_like(total)
            last = None
            for k in range(windows):
                stop = ends[k] if k < windows - 1 else counts.astype(np.int64)
                current = snap[k] if k < windows - 1 else total
                size = stop - begin
                part = block[:, c + k * n_units_out : c + k * n_units_out + n]
                transpose_scaled(
                    current - previous,
                    (dtype.type(1) / np.maximum(size, 1)).astype(dtype),
                    part,
                )
                if last is not None and np.any(size == 0):
                    # Shorter than K steps: an empty window repeats the one before.
                    part[size == 0] = last[size == 0]
                last = part
                begin, previous = stop, current

    def work_steps(start):
        stop = min(start + chunk, n_samples)
        if order is None:
            rows, counts = slice(start, stop), np.full(stop - start, n_steps)
            part, part_lengths = x[start:stop], None
        else:
            rows = order[start:stop]
            counts = lengths[rows]
            part, part_lengths = x[rows, : counts[0]], counts
        ends = window_ends(counts, windows) if windows > 1 else None
        final, state_sum, spikes, abs_sum, snaps, n_spikes = operator.run_chunk(
            part, keep, leak, threshold, reset, part_lengths, ends,
            track_sum=track_sum, track_spikes=track_spikes, activity=activity,
        )
        block = out[start:stop] if order is None else np.zeros((stop - start, width), dtype)
        write(block, counts, final, state_sum, spikes, snaps)
        if order is not None:
            out[rows] = block
        if activity:
            mean_abs[rows] = abs_sum / (counts * max(n, 1))
        return float(n_spikes), stop - start

    # One step needs neither W nor the transposed state: the product lands in
    # rows laid out like the output, and one kernel writes every summary (for
    # one step the final, mean and every window's mean state are the state).
    def block_starts(names):
        return np.array(
            [starts_of[name] + k * n_units_out
             for name in summaries if name in names
             for k in range(n_windows if name in WINDOW_SUMMARIES else 1)],
            dtype=np.int64,
        )

    state_cols = block_starts(("final", "mean", "window_mean"))
    spike_cols = block_starts(("spike_rate", "window_spike_rate"))

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
            activation, keep, leak, threshold, reset, out[start:stop], state_cols,
            spike_cols, mean_abs[start:stop],
        )
        mean_abs[start:stop] *= dtype.type(1.0 / max(n, 1))
        return float(spikes), stop - start

    run = work_one_step if one_step else work_steps

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
    if not activity:
        return out, None, None
    return out, mean_abs, total_spikes


def _drain(results, progress):
    total = 0.0
    for spikes, done in results:
        total += spikes
        if progress is not None:
            progress(done)
    return total
