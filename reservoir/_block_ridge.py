"""Ridge from sufficient statistics that grow by blocks of columns.

Used by the auto-sizing estimators (:mod:`reservoir._autosize`): the kept
features of a growing model (:class:`_Columns`), the statistics of shifted
features and targets (:class:`_Statistics`), which extend by the columns of a
new block, and the Cholesky factor of the standardised, regularised Gram
(:class:`_IncrementalRidge`), which extends by a column block without being
recomputed.
"""

import numpy as np
from scipy import linalg

# Rows per product when forming Gram blocks: float32 products, float64 sums,
# so that the rounding of one chunk is bounded by its size, not by n_samples.
# At 4096 rows, a product of a few thousand columns with a few hundred runs
# at the full float32 rate (measured: 337 GFLOP/s against 341 at 8192).
_CHUNK = 4096

# Most address space reserved up front for each of the kept feature arrays
# (_Columns) and the factor (_IncrementalRidge); beyond it they grow by
# doubling. Untouched pages cost no memory, but a machine that does not
# overcommit would refuse much larger reservations. MNIST-20k at 40 blocks
# needs 576 MB (features) and 512 MB (factor).
_RESERVE_BYTES = 2**30


def _cross(a, b):
    """``a.T @ b`` in float64, products in the arrays' dtype over row chunks."""
    out = np.zeros((a.shape[1], b.shape[1]))
    for start in range(0, a.shape[0], _CHUNK):
        out += a[start : start + _CHUNK].T @ b[start : start + _CHUNK]
    return out


def _new_gram_columns(features, start):
    """The Gram columns of ``features[:, start:]``, ``(d, d - start)``: one
    product of the old columns with all the new ones (a growth step's, not a
    block's: small block-pair products ran BLAS far below its rate), and one
    of the new ones with themselves."""
    new = features[:, start:]
    column = np.empty((features.shape[1], new.shape[1]))
    column[:start] = _cross(features[:, :start], new)
    column[start:] = _cross(new, new)
    return column


def _feature_scale(centred_diagonal, n_samples, mean):
    """Population standard deviation of each column (as StandardScaler), with
    constant columns left unscaled: their float64 spread is rounding noise."""
    scale = np.sqrt(np.maximum(centred_diagonal, 0.0) / n_samples)
    constant = scale < 10 * np.finfo(np.float32).eps * np.maximum(np.abs(mean), 1.0)
    scale[constant] = 1.0
    return scale


def _grow_matrix(old, width):
    """``old`` (d, d) zero-extended to (d + width, d + width)."""
    d = old.shape[0]
    out = np.zeros((d + width, d + width))
    out[:d, :d] = old
    return out


def _grow_rows(old, width):
    out = np.zeros((old.shape[0] + width,) + old.shape[1:])
    out[: old.shape[0]] = old
    return out


class _Columns:
    """Features of fixed rows in one array that gains column blocks, so that
    the Gram extension of a growth step is one product of the old columns with
    all the new ones (small block-pair products ran BLAS at a few percent of
    its rate). The capacity starts at ``capacity`` columns, capped so that no
    more than ``_RESERVE_BYTES`` are reserved up front, and doubles when
    exceeded. Fortran order keeps each block's columns contiguous, so that
    only the pages of the columns written are touched: in C order, the first
    block touched a page in every row, and with transparent huge pages that
    made all the capacity resident at once (1.5 s and 576 MB on MNIST-20k,
    even for a fit that stops after a few blocks)."""

    def __init__(self, n_rows, dtype, capacity):
        itemsize = np.dtype(dtype).itemsize
        capacity = max(1, min(capacity, _RESERVE_BYTES // max(1, n_rows * itemsize)))
        self._data = np.empty((n_rows, capacity), dtype=dtype, order="F")
        self.n_columns = 0

    @property
    def columns(self):
        """The columns so far, ``(n_rows, n_columns)`` (a view)."""
        return self._data[:, : self.n_columns]

    def append(self, block):
        """Add the columns of ``block``."""
        start, stop = self.n_columns, self.n_columns + block.shape[1]
        if stop > self._data.shape[1]:
            data = np.empty(
                (self._data.shape[0], max(stop, 2 * self._data.shape[1])),
                dtype=self._data.dtype, order="F",
            )
            data[:, :start] = self.columns
            self._data = data
        self._data[:, start:stop] = block
        self.n_columns = stop


class _Statistics:
    """Sufficient statistics of (features, targets) about fixed shifts.

    ``xx = sum (x - m)(x - m)^T``, ``x_sum = sum (x - m)``, ``xy = sum (x - m)
    (y - c)^T``, ``y_sum = sum (y - c)``, over ``n`` rows, with ``m`` the
    column means of the data a block was created on (kept by the estimator) and
    ``c`` the first targets' means: centring about a nearby point keeps the
    float64 sums free of cancellation.
    """

    def __init__(self, n_targets):
        self.n = 0
        self.x_sum = np.zeros(0)
        self.xx = np.zeros((0, 0))
        self.xy = np.zeros((0, n_targets))
        self.y_sum = np.zeros(n_targets)

    def add_columns(self, width):
        """Columns of a new block for rows already counted: they read their
        shift (0 after shifting), i.e. the new block is imputed at its mean."""
        self.x_sum = np.r_[self.x_sum, np.zeros(width)]
        self.xx = _grow_matrix(self.xx, width)
        self.xy = _grow_rows(self.xy, width)

    def add_imputed_columns(self, projection, offset):
        """Columns of a new block for rows already counted, which never ran
        through it: they read its best affine prediction from the old columns,
        ``b = a @ projection + offset`` (all shifted). The statistics stay those
        of a real data matrix (so the Gram stays positive semi-definite), and
        are computed from the old ones alone."""
        n, s, g = self.n, self.x_sum, self.xx
        gp = g @ projection
        b_sum = projection.T @ s + n * offset
        ps = projection.T @ s
        bb = projection.T @ gp
        bb = 0.5 * (bb + bb.T) + np.outer(ps, offset) + np.outer(offset, ps)
        bb += n * np.outer(offset, offset)
        cross = gp + np.outer(s, offset)
        by = projection.T @ self.xy + np.outer(offset, self.y_sum)
        d, width = g.shape[0], projection.shape[1]
        self.add_columns(width)
        self.x_sum[d:] = b_sum
        self.xx[:d, d:] = cross
        self.xx[d:, :d] = cross.T
        self.xx[d:, d:] = bb
        self.xy[d:] = by

    def add_rows(self, features, targets):
        """Add rows: ``features`` and ``targets`` already shifted."""
        self.n += features.shape[0]
        self.x_sum += features.sum(axis=0, dtype=np.float64)
        self.xx += _cross(features, features)
        self.xy += _cross(features, targets)
        self.y_sum += targets.sum(axis=0, dtype=np.float64)

    def extend_block(self, features, start, targets):
        """New columns ``features[:, start:]`` for the same rows, ``features``
        holding the old columns first."""
        new = features[:, start:]
        self.add_columns(new.shape[1])
        column = _new_gram_columns(features, start)
        self.xx[:, start:] = column
        self.xx[start:, :start] = column[:start].T
        self.x_sum[start:] = new.sum(axis=0, dtype=np.float64)
        self.xy[start:] = _cross(new, targets)
        if not start:
            self.n = features.shape[0]
            self.y_sum = targets.sum(axis=0, dtype=np.float64)


def _ridge_from_statistics(stats, x_shift, y_shift, alpha):
    """Ridge on standardised features from ``stats``: ``(coef, intercept)`` in
    the raw feature space, ``coef`` of shape (n_targets, n_features).

    Equal to :class:`~reservoir.RidgeReadout` ``(alpha)`` fitted on
    ``StandardScaler().fit_transform(X)``, with the coefficients mapped back.
    """
    n = stats.n
    x_mean = stats.x_sum / n
    # In the outer product's array: one fresh d x d array, not two (at 8000
    # features each is 512 MB of first-touched pages).
    gram = np.outer(stats.x_sum, x_mean)
    np.subtract(stats.xx, gram, out=gram)
    rhs = stats.xy - np.outer(x_mean, stats.y_sum)
    scale = _feature_scale(np.diag(gram).copy(), n, x_shift + x_mean)
    gram /= scale[:, None]
    gram /= scale[None, :]
    gram.flat[:: gram.shape[0] + 1] += alpha
    weights = linalg.cho_solve(
        linalg.cho_factor(gram, overwrite_a=True, check_finite=False),
        rhs / scale[:, None],
        check_finite=False,
    )
    weights /= scale[:, None]
    intercept = y_shift + stats.y_sum / n - (x_shift + x_mean) @ weights
    return weights.T, intercept


class _IncrementalRidge:
    """The Cholesky factor of the standardised, regularised training Gram,
    extended by a block of columns at each growth step.

    Adding columns leaves the old columns' means and scales, and so the old
    part of ``K = Z^T Z + alpha I`` and of its upper factor ``R``, unchanged:
    the new factor is ``[[R, U], [0, T]]`` with ``U = R^-T K12`` (one
    triangular solve) and ``T`` the factor of the Schur complement
    ``K22 - U^T U``. ``R`` is kept as a Fortran-ordered ``d x d`` matrix at the
    front of a buffer sized for the expected width (doubled beyond it), so
    that LAPACK reads it without a copy and a step moves the old columns'
    upper parts to the new leading dimension in place (a block-by-block factor
    made every solve a Python loop of small products). The forward solve of
    the last right-hand side is cached, so that solving at a larger size only
    solves the new rows.
    """

    def __init__(self, alpha, capacity=0):
        self.alpha = alpha
        self.scale = np.zeros(0)
        # Sized for ``capacity`` features up front when that fits in
        # _RESERVE_BYTES: growing by reallocation copies, and touches fresh
        # pages, at every doubling.
        self._buffer = np.zeros(min(capacity * capacity, _RESERVE_BYTES // 8))
        self._rhs = self._forward_rhs = None

    @property
    def n_features(self):
        return len(self.scale)

    @property
    def factor(self):
        """``R`` in its upper triangle (a ``(d, d)`` Fortran-ordered view);
        below the diagonal are stale values, which LAPACK never reads."""
        d = self.n_features
        return self._buffer[: d * d].reshape((d, d), order="F")

    def _grow(self, size):
        """Lay the factor out as ``(size, size)``, its old columns' upper parts
        in place (the new columns are written by the caller)."""
        d = self.n_features
        if len(self._buffer) < size * size:
            buffer = np.zeros(max(size * size, 2 * len(self._buffer)))
            buffer[: size * d].reshape((size, d), order="F")[:d] = self.factor
            self._buffer = buffer
            return
        # Last column first: a column's new place never overlaps the old
        # places of the columns before it.
        buffer = self._buffer
        for j in range(d - 1, 0, -1):
            buffer[j * size : j * size + j + 1] = buffer[j * d : j * d + j + 1]

    def extend_columns(self, centred, new_scale):
        """Add the columns whose centred Gram block (all rows so far and the new
        ones, ``(d + b, b)``) is ``centred`` and whose scales are ``new_scale``."""
        d = self.n_features
        width = len(new_scale)
        scale = np.r_[self.scale, new_scale]
        k_new = centred / scale[:, None] / new_scale[None, :]
        k22 = k_new[d:]
        k22.flat[:: k22.shape[0] + 1] += self.alpha
        if d:
            u = linalg.solve_triangular(
                self.factor, k_new[:d], trans="T", lower=False, check_finite=False
            )
            k22 -= u.T @ u
        try:
            t = linalg.cholesky(k22, lower=False, check_finite=False)
        except linalg.LinAlgError as exc:
            raise ValueError(
                f"the regularised Gram matrix is not numerically positive definite "
                f"at {d + width} features (alpha={self.alpha!r}); increase "
                "alpha."
            ) from exc
        self._grow(d + width)
        self.scale = scale
        factor = self.factor
        if d:
            factor[:d, d:] = u
        factor[d:, d:] = t

    def extend(self, stats, x_shift):
        """Add the columns of ``stats`` beyond the current ones."""
        n = stats.n
        d = self.n_features
        x_mean = stats.x_sum / n
        centred = stats.xx[:, d:] - np.outer(stats.x_sum, x_mean[d:])
        new_scale = _feature_scale(np.diag(centred[d:]).copy(), n, x_shift[d:] + x_mean[d:])
        self.extend_columns(centred, new_scale)

    def _forward(self, rhs):
        """``R^-T rhs``. The rows of the last right-hand side that are unchanged
        keep their solution (a row's solution depends on the rows before it
        alone), so that after growth only the new rows are solved."""
        factor = self.factor
        done = 0 if self._rhs is None else min(len(self._rhs), len(rhs))
        if done and not np.array_equal(rhs[:done], self._rhs[:done]):
            done = 0
        x = np.empty_like(rhs)
        if done:
            x[:done] = self._forward_rhs[:done]
        if done < len(rhs):
            x[done:] = linalg.solve_triangular(
                factor[done:, done:], rhs[done:] - factor[:done, done:].T @ x[:done],
                trans="T", lower=False, check_finite=False,
            )
        self._rhs, self._forward_rhs = rhs, x
        return x

    def solve_centred(self, rhs):
        """Raw-scale weights for the centred right-hand side ``Xc^T yc``."""
        weights = linalg.solve_triangular(
            self.factor, self._forward(rhs / self.scale[:, None]), lower=False,
            check_finite=False,
        )
        return weights / self.scale[:, None]

    def solve(self, stats, x_shift, y_shift):
        """``(weights, intercept)`` for the shifted features (d, n_targets)."""
        n = stats.n
        x_mean = stats.x_sum / n
        weights = self.solve_centred(stats.xy - np.outer(x_mean, stats.y_sum))
        intercept = stats.y_sum / n - x_mean @ weights
        return weights, intercept
