"""Weight initialisation and spectral-radius scaling.

Every weight family has its own child random stream (``SeedSequence.spawn``),
so that changing how one family is drawn never shifts the others.
"""

import threading
import warnings
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import ArpackNoConvergence, eigs

from ._blas import single_threaded_blas

INPUT_WEIGHTS = ("gaussian", "receptive_field")

# Exact dense eigenvalues are cheap below this size; ARPACK above it.
_DENSE_EIG_LIMIT = 300
# An ARPACK radius below this fraction of the RMS row norm ||W||_F / sqrt(n)
# is not trusted (a near-defective W can fool it) and is solved densely.
_ARPACK_RADIUS_FLOOR = 1e-6
_RADIUS_CACHE = OrderedDict()
_RADIUS_CACHE_SIZE = 256
# Guards _RADIUS_CACHE: a lookup then move_to_end must not interleave with
# another thread's eviction.
_RADIUS_LOCK = threading.Lock()


def draw_weights(
    seed,
    n_inputs,
    n_units,
    *,
    input_scaling,
    bias_scaling,
    density,
    input_weights="gaussian",
    receptive_field=None,
):
    """Draw unscaled reservoir weights for ``n_units`` pre-allocated neurons.

    Parameters
    ----------
    seed : int
        Root of the random streams; the same seed gives the same weights.
    n_inputs : int
        Inputs per time step.
    n_units : int
        Neurons to allocate (``max_reservoir_dim``).
    input_scaling : float
        Sets the standard deviation of the input weights. With
        ``input_weights="gaussian"`` every entry is drawn with standard
        deviation ``input_scaling``. With ``"receptive_field"`` the ``width``
        entries inside a neuron's window are drawn with standard deviation
        ``input_scaling * sqrt(n_inputs / width)`` and the others are 0, so
        every row has the expected squared norm of a Gaussian row,
        ``n_inputs * input_scaling**2``.
    bias_scaling : float
        Standard deviation of the Gaussian bias (0 gives no bias).
    density : float
        Probability in (0, 1] that a recurrent weight is non-zero. Below 1,
        each weight is non-zero independently of the others (so a row's count
        is binomial, not fixed) and ``w_rec`` is CSR; 1 gives a dense draw.
    input_weights : {"gaussian", "receptive_field"}
        ``"receptive_field"`` connects each neuron to one contiguous window of
        ``receptive_field`` inputs only (local features, as in vision models),
        at a uniformly random start.
    receptive_field : int or None
        Window width for ``"receptive_field"``, from 1 to ``n_inputs``;
        ``None`` means ``max(1, n_inputs // 4)``. Must be ``None`` with
        ``"gaussian"``, which has no window.

    Returns
    -------
    w_in : ndarray of shape (n_units, n_inputs)
    bias : ndarray of shape (n_units,)
    w_rec : ndarray of shape (n_units, n_units) or CSR matrix
        Standard-normal recurrent weights, not yet scaled; CSR with sorted,
        unique column indices when ``density < 1``.

    Raises
    ------
    ValueError
        If ``input_weights`` is unknown, if ``receptive_field`` is given with
        ``"gaussian"``, or if it is outside 1..``n_inputs``.
    """
    if input_weights not in INPUT_WEIGHTS:
        raise ValueError(
            f"input_weights must be one of {INPUT_WEIGHTS}; got {input_weights!r}."
        )
    if input_weights != "receptive_field" and receptive_field is not None:
        raise ValueError(
            f"receptive_field={receptive_field} only applies to "
            f'input_weights="receptive_field"; got input_weights="{input_weights}". '
            "Leave receptive_field=None."
        )
    if input_weights == "receptive_field":
        width = max(1, n_inputs // 4)
        if receptive_field is not None:
            width = int(receptive_field)
        if not 1 <= width <= n_inputs:
            raise ValueError(
                f"receptive_field={receptive_field} must be between 1 and the "
                f"{n_inputs} inputs per step."
            )
    input_ss, recurrent_ss, bias_ss, field_ss = np.random.SeedSequence(seed).spawn(4)
    w_in = np.random.default_rng(input_ss).normal(0.0, input_scaling, (n_units, n_inputs))
    if input_weights == "receptive_field":
        starts = np.random.default_rng(field_ss).integers(0, n_inputs - width + 1, n_units)
        cols = np.arange(n_inputs)
        outside = (cols < starts[:, None]) | (cols >= starts[:, None] + width)
        w_in[outside] = 0.0
        # Keep the pre-activation variance that of a full Gaussian row.
        w_in *= np.sqrt(n_inputs / width)
    bias = np.random.default_rng(bias_ss).normal(0.0, 1.0, n_units) * bias_scaling
    rng = np.random.default_rng(recurrent_ss)
    if density >= 1.0:
        return w_in, bias, rng.standard_normal((n_units, n_units))
    return w_in, bias, _sparse_normal(rng, n_units, density)


def _sparse_normal(rng, n, density):
    """CSR ``n x n``: each entry standard normal with probability ``density``, else 0.

    The gaps between successive non-zero positions of the row-major flattened
    matrix are i.i.d. geometric, so drawing them gives independent Bernoulli
    entries exactly, already sorted, in O(nnz) memory (no n x n temporary).
    """
    size = n * n
    expected = density * size
    # Enough gaps to pass the end almost always; the loop covers the rest.
    chunk = int(expected + 6.0 * np.sqrt(expected * (1.0 - density)) + 16)
    def draw(count):
        # A gap past the end ends the matrix; capping it keeps the sums from
        # overflowing int64, which geometric() saturates at for density < 1e-18.
        return np.minimum(rng.geometric(density, count), size + 1)

    gaps = [draw(chunk)]
    total = int(gaps[0].sum())
    while total < size:
        gaps.append(draw(max(16, chunk // 16)))
        total += int(gaps[-1].sum())
    positions = np.concatenate(gaps) if len(gaps) > 1 else gaps[0]
    del gaps
    np.cumsum(positions, out=positions)
    positions -= 1
    positions = positions[: np.searchsorted(positions, size)]
    nnz = len(positions)
    index_dtype = np.int32 if max(size, nnz) < 2**31 else np.int64
    indptr = np.searchsorted(positions, np.arange(n + 1, dtype=np.int64) * n)
    np.remainder(positions, n, out=positions)
    indices = positions.astype(index_dtype)
    del positions
    data = rng.standard_normal(nnz)
    matrix = sp.csr_matrix(
        (data, indices, indptr.astype(index_dtype)), shape=(n, n), copy=False
    )
    matrix.has_sorted_indices = True
    return matrix


def within_groups(w_rec, n_groups):
    """``w_rec`` with every weight between neurons of different groups removed.

    Neuron ``j`` is in group ``j % n_groups``, so the result is ``n_groups``
    independent reservoirs interleaved in one pool: every active prefix of it
    holds equal parts of each. Dense stays dense (zeros), CSR stays CSR.
    """
    if sp.issparse(w_rec):
        coo = w_rec.tocoo()
        keep = coo.row % n_groups == coo.col % n_groups
        kept = sp.csr_matrix(
            (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=w_rec.shape
        )
        kept.sort_indices()
        return kept
    group = np.arange(w_rec.shape[0]) % n_groups
    w_rec[group[:, None] != group[None, :]] = 0.0
    return w_rec


def active_block(w_rec, n_active):
    """The recurrent weights among the first ``n_active`` neurons."""
    block = w_rec[:n_active, :n_active]
    return block.tocsr() if sp.issparse(block) else block


def _cyclic_units(matrix):
    """Neurons on a directed cycle of the non-zero pattern, or None for all.

    Ordering the strongly connected components of the pattern topologically
    makes ``matrix`` block triangular, so its eigenvalues are those of the
    diagonal blocks, and a block of one neuron without a self-connection
    contributes exactly 0. The non-zero spectrum is thus that of the principal
    submatrix on the returned neurons; none returned means ``matrix`` is
    nilpotent (a directed acyclic pattern).
    """
    n = matrix.shape[0]
    if sp.issparse(matrix):
        pattern = matrix.tocsr(copy=True)
        pattern.eliminate_zeros()
    else:
        # A pattern with more edges than n(n-1)/2 cannot be acyclic, and the
        # full draws of density 1 would only pay for an n x n CSR copy.
        if np.count_nonzero(matrix) > n * (n - 1) // 2:
            return None
        pattern = sp.csr_matrix(matrix)
    _, labels = connected_components(pattern, directed=True, connection="strong")
    on_cycle = np.bincount(labels)[labels] > 1
    on_cycle |= pattern.diagonal() != 0
    return None if on_cycle.all() else np.flatnonzero(on_cycle)


def _dense_radius(matrix):
    dense = matrix.toarray() if sp.issparse(matrix) else matrix
    return float(np.max(np.abs(np.linalg.eigvals(dense))))


def spectral_radius(matrix):
    """Largest eigenvalue modulus of a square dense or sparse matrix.

    Only the neurons on a directed cycle of the non-zero pattern are solved
    for (the rest contribute exact zeros), so a nilpotent matrix, such as a
    very sparse draw without cycles, gives exactly 0.0, as does an empty one.
    The solve is exact (LAPACK) up to ``_DENSE_EIG_LIMIT`` neurons and ARPACK
    (relative tolerance 1e-4) above; an ARPACK radius below
    ``_ARPACK_RADIUS_FLOOR * ||W||_F / sqrt(n)`` is recomputed densely.
    """
    n = matrix.shape[0]
    if n == 0:
        return 0.0
    units = _cyclic_units(matrix)
    if units is not None:
        if len(units) == 0:
            return 0.0
        if sp.issparse(matrix):
            matrix = matrix[units][:, units]
        else:
            matrix = matrix[np.ix_(units, units)]
        n = len(units)
    if n <= _DENSE_EIG_LIMIT:
        return _dense_radius(matrix)
    # A fixed start vector keeps ARPACK, and so the scaling, deterministic.
    v0 = np.ones(n)
    try:
        values = eigs(
            matrix, k=1, which="LM", tol=1e-4, ncv=min(n, 64),
            v0=v0, return_eigenvectors=False,
        )
    except ArpackNoConvergence as exc:
        values = exc.eigenvalues
        if len(values) == 0:
            return _dense_radius(matrix)
    radius = float(np.max(np.abs(values)))
    norm = sp.linalg.norm(matrix) if sp.issparse(matrix) else np.linalg.norm(matrix)
    # This W has a cycle, so a radius near 0 is suspect (ARPACK can fail on a
    # near-defective matrix) and 1/radius would blow W up: confirm it densely.
    if radius < _ARPACK_RADIUS_FLOOR * norm / np.sqrt(n):
        return _dense_radius(matrix)
    return radius


def cached_spectral_radius(key, matrix):
    """``spectral_radius(matrix)``, memoised on ``key`` within this process.

    ``key`` must identify the random draw (seed, sizes, density, active size),
    so that refits which change only the spectral radius or the leak rate, as
    in a grid search, reuse the eigen-solve. Thread-safe; the solve itself
    runs outside the lock, so two threads may solve the same key once each.
    """
    if key is not None:
        with _RADIUS_LOCK:
            if key in _RADIUS_CACHE:
                _RADIUS_CACHE.move_to_end(key)
                return _RADIUS_CACHE[key]
    with single_threaded_blas():
        radius = spectral_radius(matrix)
    if key is not None:
        with _RADIUS_LOCK:
            _RADIUS_CACHE[key] = radius
            while len(_RADIUS_CACHE) > _RADIUS_CACHE_SIZE:
                _RADIUS_CACHE.popitem(last=False)
    return radius


def recurrent_scale(target_radius, block, key=None):
    """Factor that gives ``block`` the spectral radius ``target_radius``.

    Parameters
    ----------
    target_radius : float
        Wanted spectral radius (the transformer's ``spectral_radius``).
    block : ndarray or sparse matrix of shape (n, n)
        Unscaled recurrent weights among the active neurons
        (:func:`active_block`).
    key : hashable or None, default=None
        Memo key of :func:`cached_spectral_radius`; None solves afresh.

    Returns
    -------
    scale : float
        ``target_radius / spectral_radius(block)``, finite and positive.
        A nilpotent block (spectral radius exactly 0: a sparse pattern
        without a directed cycle, usual below about one connection per
        neuron, ``density < 1 / n``) has no such factor: a ``UserWarning`` is
        issued and the circular-law scale
        ``target_radius * sqrt(n) / ||block||_F`` is returned, the factor that
        gives ``target_radius`` to a large random matrix of i.i.d. entries
        with the same mean square; for standard-normal weights it is about
        ``target_radius / sqrt(nnz / n)``. An all-zero block gives 1.0 (its
        scale is irrelevant).
    """
    radius = cached_spectral_radius(key, block)
    if radius > 0:
        return target_radius / radius
    n = block.shape[0]
    if sp.issparse(block):
        nnz = block.count_nonzero()
        norm = sp.linalg.norm(block)
    else:
        nnz = int(np.count_nonzero(block))
        norm = np.linalg.norm(block)
    scale = target_radius * np.sqrt(n) / norm if norm > 0 else 1.0
    warnings.warn(
        f"The recurrent weights among the {n} active neurons have no directed "
        f"cycle ({nnz} non-zero of {n * n}, i.e. density {nnz / n**2:.2g}), so "
        f"their spectral radius is 0 and no scale gives spectral_radius="
        f"{target_radius}; using the circular-law scale {scale:.4g} instead. "
        f"Raise density to about 1/{n} = {1 / n:.2g} or more "
        f"(2/{n} = {2 / n:.2g} for cycles to form reliably).",
        UserWarning,
        stacklevel=2,
    )
    return float(scale)
