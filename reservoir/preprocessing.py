"""Image preprocessing for reservoirs that read images as sequences.

:func:`deskew` is the classic moment-based deskewing of handwritten digits
(shear each image so that its principal axis is vertical and centre its
mass). It is stateless, so it is a function: in a pipeline, wrap it in
``FunctionTransformer(deskew)``.
"""

import math

import numpy as np
from numba import njit
from sklearn.utils.validation import check_array

__all__ = ["deskew"]


@njit(cache=True, nogil=True)
def _deskew_kernel(images, out):
    """Deskew each ``(height, width)`` image of ``images`` into ``out``.

    Moments in float64; each output pixel is the bilinear interpolation of the
    input at ``M (o - c) + m``: ``c`` the image centre, ``m`` the centre of
    mass and ``M = [[1, 0], [alpha, 1]]`` the shear with ``alpha =
    cov(row, col) / var(row)``. Pixels outside the image count as zero (as
    ``scipy.ndimage.affine_transform(order=1, mode="grid-constant")``).
    """
    n, height, width = images.shape
    centre_row = (height - 1) / 2.0
    centre_col = (width - 1) / 2.0
    for k in range(n):
        total = 0.0
        row_sum = 0.0
        col_sum = 0.0
        for i in range(height):
            for j in range(width):
                v = images[k, i, j]
                total += v
                row_sum += i * v
                col_sum += j * v
        out_k = out[k]
        if total <= 0.0:  # a blank image stays blank
            for i in range(height):
                for j in range(width):
                    out_k[i, j] = 0.0
            continue
        mean_row = row_sum / total
        mean_col = col_sum / total
        var_row = 0.0
        cov = 0.0
        for i in range(height):
            for j in range(width):
                v = images[k, i, j]
                var_row += (i - mean_row) * (i - mean_row) * v
                cov += (i - mean_row) * (j - mean_col) * v
        alpha = cov / var_row if var_row > 1e-12 * total else 0.0
        for i in range(height):
            src_row = i - centre_row + mean_row
            r0 = math.floor(src_row)
            fr = src_row - r0
            for j in range(width):
                src_col = alpha * (i - centre_row) + (j - centre_col) + mean_col
                c0 = math.floor(src_col)
                fc = src_col - c0
                acc = 0.0
                for dr in range(2):
                    r = r0 + dr
                    if r < 0 or r >= height:
                        continue
                    wr = fr if dr else 1.0 - fr
                    for dc in range(2):
                        c = c0 + dc
                        if c < 0 or c >= width:
                            continue
                        wc = fc if dc else 1.0 - fc
                        acc += wr * wc * images[k, r, c]
                out_k[i, j] = acc


def deskew(X, image_shape=None):
    """Deskew flattened images by their second moments.

    Each image is sheared horizontally so that its principal axis becomes
    vertical, and shifted so that its centre of mass is the image centre
    (bilinear interpolation, zero outside the image). For handwritten digits
    this removes slant, the variation a reservoir reading rows or columns
    handles worst: on MNIST it is worth about 0.4 points to SNLNN (see the
    README's MNIST table).

    Parameters
    ----------
    X : array-like of shape (n_samples, height * width)
        Non-negative intensities (ink), one flattened image per row.
    image_shape : tuple of (int, int), default=None
        ``(height, width)``. ``None`` means square images.

    Returns
    -------
    ndarray of shape (n_samples, height * width)
        The deskewed images, float32 for float32 input, else float64. ``X``
        is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> from reservoir.preprocessing import deskew
    >>> slanted = np.zeros((5, 5))
    >>> slanted[[0, 1, 2, 3, 4], [3, 3, 2, 1, 1]] = 1.0
    >>> upright = deskew(slanted.reshape(1, -1)).reshape(5, 5)
    >>> upright.argmax(axis=1)
    array([2, 2, 2, 2, 2])
    """
    X = check_array(X, dtype=[np.float64, np.float32], ensure_min_samples=1)
    n_features = X.shape[1]
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"deskew needs square images when image_shape is None; "
                f"{n_features} features is not a square number. Pass "
                f"image_shape=(height, width)."
            )
        image_shape = (side, side)
    height, width = (int(s) for s in image_shape)
    if height < 1 or width < 1 or height * width != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} does not match {n_features} "
            f"features per row."
        )
    if X.min() < 0:
        raise ValueError(
            "deskew expects non-negative intensities (its moments weight pixels "
            "by their value); got negative values."
        )
    images = np.ascontiguousarray(X).reshape(-1, height, width)
    out = np.empty_like(images)
    _deskew_kernel(images, out)
    return out.reshape(X.shape[0], n_features)
