"""Weight initialisation and spectral-radius scaling.

Every weight family has its own child random stream (``SeedSequence.spawn``),
so that changing how one family is drawn never shifts the others.
"""

from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, eigs

from ._blas import single_threaded_blas

INPUT_WEIGHTS = ("gaussian", "receptive_field")

# Exact dense eigenvalues are cheap below this size; ARPACK above it.
_DENSE_EIG_LIMIT = 300
_RADIUS_CACHE = OrderedDict()
_RADIUS_CACHE_SIZE = 256


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
        Standard deviation of the Gaussian input weights.
    bias_scaling : float
        Standard deviation of the Gaussian bias (0 gives no bias).
    density : float
        Fraction of non-zero recurrent weights.
    input_weights : {"gaussian", "receptive_field"}
        ``"receptive_field"`` connects each neuron to one contiguous window of
        ``receptive_field`` inputs only (local features, as in vision models).
    receptive_field : int or None
        Window width for ``"receptive_field"``.

    Returns
    -------
    w_in : ndarray of shape (n_units, n_inputs)
    bias : ndarray of shape (n_units,)
    w_rec : ndarray of shape (n_units, n_units) or CSR matrix
        Standard-normal recurrent weights, not yet scaled; CSR when
        ``density < 1``.
    """
    input_ss, recurrent_ss, bias_ss, field_ss = np.random.SeedSequence(seed).spawn(4)
    w_in = np.random.default_rng(input_ss).normal(0.0, input_scaling, (n_units, n_inputs))
    if input_weights == "receptive_field":
        width = min(int(receptive_field), n_inputs)
        starts = np.random.default_rng(field_ss).integers(0, n_inputs - width + 1, n_units)
        cols = np.arange(n_inputs)
        outside = (cols < starts[:, None]) | (cols >= starts[:, None] + width)
        w_in[outside] = 0.0
        # Keep the pre-activation variance that of a full Gaussian row.
        w_in *= np.sqrt(n_inputs / width)
    bias = np.random.default_rng(bias_ss).normal(0.0, 1.0, n_units) * bias_scaling
    rng = np.random.default_rng(recurrent_ss)
    w_rec = rng.standard_normal((n_units, n_units))
    if density < 1.0:
        w_rec[rng.random((n_units, n_units)) >= density] = 0.0
        w_rec = sp.csr_matrix(w_rec)
    return w_in, bias, w_rec


def active_block(w_rec, n_active):
    """The recurrent weights among the first ``n_active`` neurons."""
    block = w_rec[:n_active, :n_active]
    return block.tocsr() if sp.issparse(block) else block


def spectral_radius(matrix):
    """Largest eigenvalue modulus of a square dense or sparse matrix.

    Exact (LAPACK) for small matrices, ARPACK (relative tolerance 1e-4) above
    ``_DENSE_EIG_LIMIT`` neurons. Returns 0.0 for a nilpotent or empty matrix.
    """
    n = matrix.shape[0]
    if n == 0:
        return 0.0
    if n <= _DENSE_EIG_LIMIT:
        dense = matrix.toarray() if sp.issparse(matrix) else matrix
        return float(np.max(np.abs(np.linalg.eigvals(dense))))
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
            dense = matrix.toarray() if sp.issparse(matrix) else matrix
            return float(np.max(np.abs(np.linalg.eigvals(dense))))
    return float(np.max(np.abs(values)))


def cached_spectral_radius(key, matrix):
    """``spectral_radius(matrix)``, memoised on ``key`` within this process.

    ``key`` must identify the random draw (seed, sizes, density, active size),
    so that refits which change only the spectral radius or the leak rate, as
    in a grid search, reuse the eigen-solve.
    """
    if key is not None and key in _RADIUS_CACHE:
        _RADIUS_CACHE.move_to_end(key)
        return _RADIUS_CACHE[key]
    with single_threaded_blas():
        radius = spectral_radius(matrix)
    if key is not None:
        _RADIUS_CACHE[key] = radius
        if len(_RADIUS_CACHE) > _RADIUS_CACHE_SIZE:
            _RADIUS_CACHE.popitem(last=False)
    return radius
