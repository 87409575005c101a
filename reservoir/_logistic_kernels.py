"""Numba kernel of the logistic loss: one pass over a block of rows.

Arrays in, arrays out, like :mod:`._kernels`. For a block ``X_b`` of rows it
computes the logits ``X_b W + b``, the loss, the residuals ``G_b = P_b - Y_b``
and ``X_b^T G_b`` four rows at a time, so each row is read from memory once
and both products reuse it from cache. BLAS would run these as two skinny
GEMMs (10 columns for MNIST) that pack the whole block twice; measured on
60,000 x 3000 float32 features and 10 classes, one thread: 0.13-0.16 s per
evaluation here against 0.26 s through OpenBLAS, for 0.026 s to read ``X``
once.

The products accumulate in the dtype of ``X`` (as BLAS does) in an order
fixed by the compiled code (``fastmath`` reassociation lets the dot products
use SIMD lanes), so results are deterministic but differ from BLAS's in the
last bits. The loss and residuals are computed in float64.
"""

import math

import numpy as np
from numba import njit

# Reassociation lets the reductions over features use SIMD lanes; contraction
# lets them use FMAs. No other fast-math flag: the inputs are finite (checked
# by the estimator) but nothing here needs to assume it.
_SIMD = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_SIMD)
def _logits_4x2(x0, x1, x2, x3, w0, w1, out, k):
    """Dot products of four rows with two weight rows into ``out[:4, k:k+2]``."""
    zero = x0[0] - x0[0]
    a0 = zero; a1 = zero; b0 = zero; b1 = zero  # noqa: E702
    c0 = zero; c1 = zero; d0 = zero; d1 = zero  # noqa: E702
    for j in range(x0.shape[0]):
        u = w0[j]
        v = w1[j]
        a0 += x0[j] * u
        a1 += x0[j] * v
        b0 += x1[j] * u
        b1 += x1[j] * v
        c0 += x2[j] * u
        c1 += x2[j] * v
        d0 += x3[j] * u
        d1 += x3[j] * v
    out[0, k], out[0, k + 1] = a0, a1
    out[1, k], out[1, k + 1] = b0, b1
    out[2, k], out[2, k + 1] = c0, c1
    out[3, k], out[3, k + 1] = d0, d1


@njit(cache=True, nogil=True, fastmath=_SIMD)
def _add_outer_4x2(x0, x1, x2, x3, g, k, o0, o1):
    """``o0 += X4^T g[:4, k]`` and ``o1 += X4^T g[:4, k + 1]`` for four rows."""
    g00, g10, g20, g30 = g[0, k], g[1, k], g[2, k], g[3, k]
    g01, g11, g21, g31 = g[0, k + 1], g[1, k + 1], g[2, k + 1], g[3, k + 1]
    for j in range(x0.shape[0]):
        p = x0[j]
        q = x1[j]
        s = x2[j]
        t = x3[j]
        o0[j] += g00 * p + g10 * q + g20 * s + g30 * t
        o1[j] += g01 * p + g11 * q + g21 * s + g31 * t


@njit(cache=True, nogil=True, fastmath=_SIMD)
def _logits_1(x, weights_t, out):
    """Dot products of one row with every weight row (the block's last rows)."""
    for k in range(weights_t.shape[0]):
        w = weights_t[k]
        acc = x[0] - x[0]
        for j in range(x.shape[0]):
            acc += x[j] * w[j]
        out[k] = acc


@njit(cache=True, nogil=True, error_model="numpy")
def _loss_and_residuals(logits, y, n_outputs, residual):
    """Loss of rows of float64 logits; ``residual[:, :n_outputs] = P - Y``.

    One output: the binomial loss on the logit of class 1 (``y`` is 0 or 1),
    ``-log sigmoid(+-z)``; more: the softmax cross-entropy.
    """
    loss = 0.0
    for i in range(logits.shape[0]):
        if n_outputs == 1:
            z = logits[i, 0]
            t = z if y[i] == 1 else -z
            # -log sigmoid(t) = log(1 + e^-t), without overflow for t << 0.
            loss += math.log1p(math.exp(-t)) if t >= 0 else math.log1p(math.exp(t)) - t
            e = math.exp(-abs(z))
            p = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
            residual[i, 0] = p - (1.0 if y[i] == 1 else 0.0)
        else:
            top = logits[i, 0]
            for k in range(1, n_outputs):
                top = max(top, logits[i, k])
            total = 0.0
            for k in range(n_outputs):
                total += math.exp(logits[i, k] - top)
            log_norm = top + math.log(total)
            loss += log_norm - logits[i, y[i]]
            for k in range(n_outputs):
                residual[i, k] = math.exp(logits[i, k] - log_norm)
            residual[i, y[i]] -= 1.0
    return loss


@njit(cache=True, nogil=True)
def block_loss(x, y, weights_t, intercept, n_outputs, xtg, residual_sum):
    """Loss of a block of rows; writes ``X_b^T G_b`` and adds ``sum_i G_i``.

    Parameters
    ----------
    x : (n, F) array, C-contiguous, float32 or float64
    y : (n,) int array of class indices
    weights_t : (K2, F) array in x's dtype, the weights transposed, ``K2`` the
        number of outputs rounded up to even (a zero row pads it)
    intercept : (K2,) float64
    n_outputs : the number of real outputs, ``K2`` or ``K2 - 1``
    xtg : (K2, F) array in x's dtype, overwritten with ``X_b^T G_b`` (its
        padding row is zero)
    residual_sum : (K2,) float64, ``sum_i G_i`` is added to it

    Returns the block's summed loss (float64).
    """
    n = x.shape[0]
    n_padded = weights_t.shape[0]
    logits = np.empty((4, n_padded), dtype=x.dtype)
    logits64 = np.zeros((4, n_padded))
    residual = np.zeros((4, n_padded))
    g = np.zeros((4, n_padded), dtype=x.dtype)
    xtg[:] = 0
    loss = 0.0
    for r in range(0, n, 4):
        m = min(4, n - r)
        if m == 4:
            for k in range(0, n_padded, 2):
                _logits_4x2(x[r], x[r + 1], x[r + 2], x[r + 3],
                            weights_t[k], weights_t[k + 1], logits, k)
        else:
            for i in range(m):
                _logits_1(x[r + i], weights_t, logits[i])
        for i in range(m):
            for k in range(n_padded):
                logits64[i, k] = logits[i, k] + intercept[k]
        loss += _loss_and_residuals(logits64[:m], y[r:r + m], n_outputs, residual[:m])
        for i in range(m):
            for k in range(n_outputs):
                residual_sum[k] += residual[i, k]
                g[i, k] = residual[i, k]
        if m == 4:
            for k in range(0, n_padded, 2):
                _add_outer_4x2(x[r], x[r + 1], x[r + 2], x[r + 3], g, k,
                               xtg[k], xtg[k + 1])
        else:
            for i in range(m):
                for k in range(n_outputs):
                    gik = g[i, k]
                    out = xtg[k]
                    row = x[r + i]
                    for j in range(row.shape[0]):
                        out[j] += gik * row[j]
    return loss
