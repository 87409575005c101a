"""scikit-learn's bundled 8 x 8 digits, reshaped as short multivariate sequences."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

__all__ = ["load_digits_sequences"]

_SEQUENCE_NOTE = """\
Sequence layout (reservoir.datasets.load_digits_sequences)
------------------------------------------------------------

Each image is read top to bottom as a sequence of 8 time steps, the 8 pixels
of one row being the 8 inputs at that step: ``data`` has shape
(1797, 8, 8) = (n_sequences, n_steps, n_inputs). Pixels are float32, divided
by 16 so that they lie in [0, 1]. This ships with scikit-learn, so it needs no
download: a quick, offline stand-in for sequence classification.

"""


def load_digits_sequences(*, return_X_y=False):
    """Load scikit-learn's 8 x 8 digits as sequences of 8 steps of 8 inputs.

    Each image row is one time step, so a reservoir reads a digit top to
    bottom. The data ship with scikit-learn: nothing is downloaded.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (1797, 8, 8), dtype float32
            ``data[i, t]`` is row ``t`` of image ``i``, pixels scaled from
            0..16 to [0, 1].
        target : ndarray of shape (1797,), dtype int64
            Digit class, 0 to 9.
        DESCR : str
            Description of the layout and of the original dataset.

    (data, target) : tuple of ndarray
        Returned instead of the Bunch if ``return_X_y`` is True.

    See Also
    --------
    sklearn.datasets.load_digits : The same images as flat 64-pixel rows.

    Examples
    --------
    >>> from reservoir.datasets import load_digits_sequences
    >>> digits = load_digits_sequences()
    >>> digits.data.shape, digits.data.dtype
    ((1797, 8, 8), dtype('float32'))
    >>> X, y = load_digits_sequences(return_X_y=True)
    >>> float(X.min()), float(X.max()), int(y[0])
    (0.0, 1.0, 0)
    """
    digits = load_digits()
    # Pixel counts are integers 0..16, so dividing by 16 is exact in float32.
    data = (digits.images / 16).astype(np.float32)
    target = digits.target.astype(np.int64, copy=False)
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, DESCR=_SEQUENCE_NOTE + digits.DESCR)
