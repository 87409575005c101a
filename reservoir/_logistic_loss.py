"""Logistic loss and gradient of a linear model, fused over row blocks of X.

One evaluation streams ``X`` once: for each block of ``BLOCK_ROWS`` rows it
computes the logits ``X_b @ W``, their log-softmax (or log-sigmoid, for two
classes), the residuals ``G_b = P_b - Y_b`` and ``X_b^T G_b``. For C-ordered
``X`` (what the transformer returns) one Numba kernel does all of it four rows
at a time (:mod:`._logistic_kernels`: half the time of BLAS's two skinny
products here); other layouts go through BLAS. Products run in the dtype of
``X`` (float32 input is never upcast or copied); the loss, the residuals and
the sums over blocks are float64.

Blocks run on ``n_jobs`` Python threads with BLAS held to one thread
(:mod:`._blas`), and their results are summed in block order, so the loss and
gradient are bit-identical for any ``n_jobs``. The block boundaries depend on
``n_samples`` alone.

Standardisation is folded into the weights: with ``z = (x - mean) / scale``,
``z @ W + b = x @ (W / scale) + (b - mean @ (W / scale))``, and the gradient
with respect to ``W`` is ``(X^T G - mean (sum_i G_i)) / scale``. So the
standardised problem costs nothing beyond the raw one and ``X`` is never
centred, scaled or copied.
"""

import numpy as np
from scipy.special import expit, log_expit

from ._blas import single_threaded_blas
from ._logistic_kernels import block_loss

# Blocks of 1024 rows: few enough per evaluation (59 on MNIST) for Python's
# overhead not to count, and for the BLAS path (other layouts) large enough
# to run near its peak on the skinny (n_features, n_classes) products.
BLOCK_ROWS = 1024


def moments(X, map_blocks):
    """Column means and standard deviations (ddof 0) of ``X`` in float64.

    Per-block means and centred sums of squares, merged in block order (Chan
    et al.): no ``sum(x^2) - n mean^2`` cancellation, one pass over ``X``.
    """
    def block(start):
        xb = X[start : start + BLOCK_ROWS]
        mean = xb.mean(axis=0, dtype=np.float64)
        centred = xb - mean.astype(xb.dtype)
        m2 = np.einsum("ij,ij->j", centred, centred, dtype=np.float64)
        # Correct the sum of squares for the rounding of the mean to X's dtype.
        shift = mean - mean.astype(xb.dtype)
        m2 -= len(xb) * shift**2
        return len(xb), mean, m2

    n, mean, m2 = 0, 0.0, 0.0
    for n_b, mean_b, m2_b in map_blocks(block, range(0, X.shape[0], BLOCK_ROWS)):
        delta = mean_b - mean
        total = n + n_b
        m2 = m2 + m2_b + delta**2 * (n * n_b / total)
        mean = mean + delta * (n_b / total)
        n = total
    var = np.maximum(m2 / n, 0.0)
    # A constant column that float64 cannot represent exactly keeps a variance
    # of rounding noise (std ~1e-15), which would scale its weight by 1e15:
    # below the rounding bound it is constant, as in StandardScaler.
    eps = np.finfo(np.float64).eps
    var[var <= n * eps * var + (n * mean * eps) ** 2] = 0.0
    return mean, np.sqrt(var)


class LogisticLoss:
    """``f(params) -> (loss, gradient)`` of the L2-penalised logistic loss.

    The objective is sklearn's scaling of ``C * sum_i loss_i + ||W||^2 / 2``:
    divided by ``C * n_samples``, it is ``mean_i loss_i + l2 * ||W||^2 / 2``
    with ``l2 = 1 / (C n)``, so that a gradient tolerance means the same as in
    :class:`sklearn.linear_model.LogisticRegression`.

    ``params`` is the ravelled ``(n_features + fit_intercept, n_outputs)``
    float64 array: the weights of the standardised features, then the
    (unpenalised) intercepts. ``n_outputs`` is ``n_classes``, or 1 for two
    classes (the binomial loss on the logit of ``classes_[1]``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    y : ndarray of int of shape (n_samples,)
        Class indices.
    n_classes : int
    l2 : float
    mean, scale : ndarray of shape (n_features,) or None
        Standardisation folded into the weights; None for none.
    fit_intercept : bool
    map_blocks : callable
        ``map``-like: ``map_blocks(f, starts)`` yields ``f(start)`` in order.
    """

    def __init__(self, X, y, n_classes, l2, mean, scale, fit_intercept, map_blocks):
        # The kernel indexes with y unchecked: one pass here keeps it in bounds.
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"class indices must lie in [0, {n_classes}); got {y.min()} to {y.max()}."
            )
        self.X, self.y = X, y
        self.n_outputs = 1 if n_classes == 2 else n_classes
        self.l2 = l2
        self.mean, self.scale = mean, scale
        self.fit_intercept = fit_intercept
        self.map_blocks = map_blocks
        self.shape = (X.shape[1] + int(fit_intercept), self.n_outputs)

    def raw(self, params):
        """``(W, b)`` acting on raw ``X``: weights in X's dtype (F, K), the
        intercepts in float64 (K,)."""
        params = params.reshape(self.shape)
        n_features = self.X.shape[1]
        weights = params[:n_features]
        intercept = params[n_features] if self.fit_intercept else np.zeros(self.n_outputs)
        if self.scale is not None:
            weights = weights / self.scale[:, None]
            intercept = intercept - self.mean @ weights
        return np.ascontiguousarray(weights, dtype=self.X.dtype), intercept

    def _block_blas(self, start, weights, intercept):
        """One block through BLAS: any layout of ``X`` (the kernel needs rows)."""
        with single_threaded_blas():  # per block: see _collect.collect_states
            xb = self.X[start : start + BLOCK_ROWS]
            yb = self.y[start : start + BLOCK_ROWS]
            rows = np.arange(len(xb))
            logits = (xb @ weights).astype(np.float64)
            logits += intercept
            if self.n_outputs == 1:
                z = logits[:, 0]
                positive = yb == 1
                # -log p(y): log(1 + e^z) - y z, as -log_expit(+-z).
                loss = -np.sum(log_expit(np.where(positive, z, -z)))
                residual = expit(z) - positive
                residual = residual[:, None]
            else:
                top = logits.max(axis=1, keepdims=True)
                logits -= top
                log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
                logits -= log_norm  # log-softmax
                loss = -np.sum(logits[rows, yb])
                residual = np.exp(logits, out=logits)
                residual[rows, yb] -= 1.0
            xtg = xb.T @ residual.astype(xb.dtype)
            return loss, xtg, residual.sum(axis=0)

    def _block_kernel(self, start, weights_t, intercept):
        """One block through :func:`._logistic_kernels.block_loss` (C-ordered ``X``)."""
        xb = self.X[start : start + BLOCK_ROWS]
        xtg = np.empty_like(weights_t)
        residual_sum = np.zeros(len(weights_t))
        loss = block_loss(
            xb, self.y[start : start + BLOCK_ROWS], weights_t, intercept,
            self.n_outputs, xtg, residual_sum,
        )
        k = self.n_outputs
        return loss, xtg[:k].T, residual_sum[:k]

    def _block_function(self, weights, intercept):
        """``f(start) -> (loss, X_b^T G_b, sum_i G_i)`` for the current weights."""
        if not self.X.flags.c_contiguous:
            return lambda start: self._block_blas(start, weights, intercept)
        # The kernel takes the weights transposed, their number rounded up
        # to even with a zero row (its tiles are two outputs wide).
        n_padded = self.n_outputs + self.n_outputs % 2
        weights_t = np.zeros((n_padded, weights.shape[0]), dtype=weights.dtype)
        weights_t[: self.n_outputs] = weights.T
        intercept_padded = np.zeros(n_padded)
        intercept_padded[: self.n_outputs] = intercept
        return lambda start: self._block_kernel(start, weights_t, intercept_padded)

    def __call__(self, params):
        weights, intercept = self.raw(params)
        n_samples, n_features = self.X.shape
        loss = 0.0
        xtg = np.zeros((n_features, self.n_outputs))
        g_sum = np.zeros(self.n_outputs)
        starts = range(0, n_samples, BLOCK_ROWS)
        for loss_b, xtg_b, g_sum_b in self.map_blocks(
            self._block_function(weights, intercept), starts
        ):
            loss += loss_b
            xtg += xtg_b
            g_sum += g_sum_b
        params = params.reshape(self.shape)
        w = params[:n_features]
        if self.scale is not None:
            xtg -= np.outer(self.mean, g_sum)
            xtg /= self.scale[:, None]
        grad = np.empty(self.shape)
        grad[:n_features] = xtg / n_samples + self.l2 * w
        if self.fit_intercept:
            grad[n_features] = g_sum / n_samples
        value = loss / n_samples + 0.5 * self.l2 * float(np.vdot(w, w))
        return value, grad.ravel()
