"""Readouts for reservoir features: a streaming ridge and two meta-estimators.

:class:`RidgeReadout` and :class:`RidgeReadoutClassifier` solve the ridge problem in
closed form from sufficient statistics (``X^T X`` and ``X^T Y``) accumulated over
row chunks, so ``X`` is never copied as a whole and data can be streamed with
``partial_fit``. :class:`SNLNNClassifier` and :class:`SNLNNRegressor` chain a
:class:`~reservoir._transformer.SNLNNTransformer` with a readout.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _dask
from ._labels import (
    DaskLinearClassifierMixin,
    check_classes,
    check_targets,
    class_indices,
)
from ._logistic import LogisticReadoutClassifier
from ._transformer import SNLNNTransformer, inherit_input_tags

__all__ = [
    "RidgeReadout",
    "RidgeReadoutClassifier",
    "SNLNNClassifier",
    "SNLNNRegressor",
]


def _solve_spd(gram, rhs, alpha):
    """Solve ``(gram + alpha * I) W = rhs`` for symmetric positive semi-definite gram.

    ``alpha`` is added to the diagonal of ``gram`` in place.

    Cholesky is about twice as cheap as LU and never forms an inverse. It fails
    only when the regularised matrix is not numerically positive definite, which
    with ``alpha > 0`` needs a badly scaled problem and with ``alpha == 0`` just
    needs collinear features or fewer samples than features; the minimum-norm
    least-squares solution is then the natural limit of ridge as alpha -> 0.
    """
    a = gram
    a.flat[:: a.shape[0] + 1] += alpha
    try:
        # Not in place: the fallback below needs ``a`` intact.
        factor = linalg.cho_factor(a, lower=False, overwrite_a=False, check_finite=False)
        return linalg.cho_solve(factor, rhs, check_finite=False)
    except linalg.LinAlgError:
        warnings.warn(
            f"X^T X + alpha * I is not positive definite (alpha={alpha!r}); "
            "features are collinear or there are fewer samples than features. "
            "Using the minimum-norm least-squares solution instead; set alpha > 0 "
            "to get a unique ridge solution.",
            linalg.LinAlgWarning,
            stacklevel=3,
        )
        return linalg.lstsq(a, rhs, check_finite=False)[0]


def _add_outer(a, x, y, alpha):
    """``a += alpha * outer(x, y)`` in place for a C-ordered float64 ``a``."""
    # GER on the Fortran view a.T, which is updated by alpha * y x^T.
    updated = linalg.blas.dger(alpha, y, x, a=a.T, overwrite_a=1)
    if not np.shares_memory(updated, a):  # f2py had to copy: write it back
        a[...] = updated.T


class _ChunkedRidgeBase(BaseEstimator):
    """Sufficient-statistics ridge shared by the regressor and the classifier.

    Statistics are kept about a fixed shift ``(x_shift, y_shift)``, the means of
    the very first chunk: centring about a nearby point keeps the float64 Gram
    free of the catastrophic cancellation that ``sum(x x^T) - n mean mean^T``
    suffers when features have a mean large next to their spread (spike rates
    and saturated states do), and for float32 chunks makes ``x - shift`` nearly
    exact; the correction to the true mean at solve time is exact.
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, *, alpha=1.0, fit_intercept=True, chunk_size=4096):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.chunk_size = chunk_size

    def _reset(self):
        for name in (
            "n_samples_seen_",
            "_x_shift",
            "_y_shift",
            "_x_sum",
            "_y_sum",
            "_xtx",
            "_xty",
        ):
            if hasattr(self, name):
                delattr(self, name)

    def _target_chunk(self, y_part, dtype):
        """Return the float targets of a chunk as an array (m, n_targets)."""
        raise NotImplementedError

    def _validate_features(self, X):
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def _fit_dask(self, X, y, first_call, n_targets):
        """Fit on dask arrays: statistics per block where it lives, merged up a
        tree; with ``first_call`` False, added to those accumulated so far."""
        # Later calls keep the shift of the first, as in-memory partial_fit does.
        shift = None if first_call else (self._x_shift, self._y_shift)
        stats = _dask.ridge_statistics(self, X, y, n_targets, shift)
        if not first_call:
            stats = _dask.merge_statistics(_dask.current_statistics(self), stats)
        _dask.load_statistics(self, stats)

    def _shift_of(self, X_first, y_first, n_targets):
        """The shift of the statistics: the means of the first chunk, rounded
        to its dtype so that the first dtype seen needs no correction."""
        if not self.fit_intercept:
            return np.zeros(X_first.shape[1]), np.zeros(n_targets)
        dtype = X_first.dtype
        x_shift = X_first.mean(axis=0, dtype=np.float64)
        y_shift = self._target_chunk(y_first, dtype).mean(axis=0, dtype=np.float64)
        return (
            x_shift.astype(dtype).astype(np.float64),
            y_shift.astype(dtype).astype(np.float64),
        )

    def _start_statistics(self, x_shift, y_shift):
        self._x_shift, self._y_shift = x_shift, y_shift
        self._x_sum = np.zeros(len(x_shift))
        self._y_sum = np.zeros(len(y_shift))
        self._xtx = np.zeros((len(x_shift), len(x_shift)))
        self._xty = np.zeros((len(x_shift), len(y_shift)))
        self.n_samples_seen_ = 0

    def _accumulate(self, X, y, n_targets):
        """Add the statistics of (X, y) in chunks of ``chunk_size`` rows."""
        n_samples, n_features = X.shape
        dtype = X.dtype
        step = min(self.chunk_size, n_samples)

        if not hasattr(self, "_xtx"):
            self._start_statistics(*self._shift_of(X[:step], y[:step], n_targets))

        x_shift = self._x_shift.astype(dtype)
        y_shift = self._y_shift.astype(dtype)
        shifted = bool(np.any(x_shift))
        buffer = np.empty((step, n_features), dtype=dtype) if shifted else None
        # Reused by every chunk: a fresh (n_features,)^2 product per chunk cost 8%.
        chunk_gram = np.empty((n_features, n_features), dtype=dtype)

        # Sums of this call only, relative to the dtype-rounded shift.
        x_sum = np.zeros(n_features)
        y_sum = np.zeros(n_targets)
        for start in range(0, n_samples, step):
            stop = min(start + step, n_samples)
            if shifted:
                x_part = np.subtract(X[start:stop], x_shift, out=buffer[: stop - start])
            else:
                x_part = X[start:stop]
            y_part = self._target_chunk(y[start:stop], dtype)
            y_part -= y_shift
            # Products in X's dtype (numpy turns x.T @ x into SYRK), accumulated
            # in float64: the rounding error of one chunk is bounded by its
            # size, not by n_samples.
            self._xtx += np.matmul(x_part.T, x_part, out=chunk_gram)
            self._xty += x_part.T @ y_part
            x_sum += x_part.sum(axis=0, dtype=np.float64)
            y_sum += y_part.sum(axis=0, dtype=np.float64)

        # A later call in another dtype may round the shift differently; move its
        # statistics exactly onto the stored shift: (x - s) = (x - c) + (c - s).
        dx = x_shift.astype(np.float64) - self._x_shift
        dy = y_shift.astype(np.float64) - self._y_shift
        if np.any(dx) or np.any(dy):
            self._xtx += (
                np.outer(x_sum, dx) + np.outer(dx, x_sum) + n_samples * np.outer(dx, dx)
            )
            self._xty += (
                np.outer(x_sum, dy) + np.outer(dx, y_sum) + n_samples * np.outer(dx, dy)
            )
            x_sum += n_samples * dx
            y_sum += n_samples * dy
        self._x_sum += x_sum
        self._y_sum += y_sum
        self.n_samples_seen_ += n_samples

    def _solve(self, dtype):
        """Set ``coef_`` (n_targets, n_features) and ``intercept_`` (n_targets,)."""
        n = self.n_samples_seen_
        x_shift, y_shift = self._x_shift, self._y_shift
        x_sum, y_sum = self._x_sum, self._y_sum
        # One working copy of the Gram, updated in place: at 10k features every
        # (n_features, n_features) float64 temporary is another 800 MB.
        gram = self._xtx.copy()
        if self.fit_intercept:
            # Centre the shifted statistics on the true means; the intercept then
            # absorbs the means and is left out of the penalty.
            x_offset = x_sum / n
            _add_outer(gram, x_sum, x_offset, -1.0)
            rhs = self._xty - np.outer(x_offset, y_sum)
            weights = _solve_spd(gram, rhs, self.alpha)
            intercept = (y_shift + y_sum / n) - (x_shift + x_offset) @ weights
        else:
            # Undo the shift to get the raw (uncentred) statistics.
            _add_outer(gram, x_shift, x_sum, 1.0)
            _add_outer(gram, x_sum + n * x_shift, x_shift, 1.0)
            rhs = (
                self._xty
                + np.outer(x_shift, y_sum)
                + np.outer(x_sum, y_shift)
                + n * np.outer(x_shift, y_shift)
            )
            weights = _solve_spd(gram, rhs, self.alpha)
            intercept = None
        self.coef_ = np.ascontiguousarray(weights.T, dtype=dtype)
        # sklearn's linear models all store a plain 0.0 without an intercept.
        self.intercept_ = 0.0 if intercept is None else intercept.astype(dtype)


class RidgeReadout(MultiOutputMixin, RegressorMixin, _ChunkedRidgeBase):
    """Ridge regression solved in closed form from chunked sufficient statistics.

    Minimises ``||y - X w - b||^2 + alpha * ||w||^2`` (the intercept ``b`` is not
    penalised), like :class:`sklearn.linear_model.Ridge` with
    ``solver="cholesky"``, but builds ``X^T X`` and ``X^T y`` over chunks of
    ``chunk_size`` rows. Each chunk product is computed in the dtype of ``X``
    (float32 input uses single-precision GEMM) and added into float64
    accumulators, so no copy of the whole ``X`` is made and memory beyond ``X``
    is ``O(chunk_size * n_features + n_features ** 2)``. :meth:`partial_fit`
    keeps accumulating, which allows fitting on data streamed in batches.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, a non-negative float. With ``alpha=0`` and a
        singular ``X^T X`` the minimum-norm least-squares solution is returned
        with a :class:`scipy.linalg.LinAlgWarning`.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. The data are centred through
        the accumulated statistics; ``X`` itself is never centred in place.

    chunk_size : int, default=4096
        Number of rows per chunk. Larger chunks are faster, smaller chunks use
        less memory and, for float32 input, round less per chunk.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weight vector(s), in the dtype of the ``X`` last passed to :meth:`fit`
        or :meth:`partial_fit`.

    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; ``0.0`` when ``fit_intercept=False``.

    n_samples_seen_ : int
        Number of samples accumulated so far.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    RidgeReadoutClassifier : The same solver with one-vs-all targets.
    sklearn.linear_model.Ridge : Ridge on data held in memory, many solvers.

    Notes
    -----
    Statistics are accumulated about the column means of the first chunk and
    corrected to the true means at solve time, which avoids the cancellation of
    the textbook ``X^T X - n mean mean^T``. Each :meth:`partial_fit` call solves
    the ``n_features``-sized system again, at cost ``O(n_features ** 3)``.

    Examples
    --------
    >>> import numpy as np
    >>> from reservoir import RidgeReadout
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((100, 3)).astype(np.float32)
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    >>> reg = RidgeReadout(alpha=1e-3, chunk_size=32).fit(X, y)
    >>> np.round(reg.coef_, 3), round(float(reg.intercept_), 3)
    (array([ 1. , -2. ,  0.5], dtype=float32), 3.0)
    >>> reg = RidgeReadout(alpha=1e-3)
    >>> for batch in np.array_split(np.arange(100), 4):
    ...     reg = reg.partial_fit(X[batch], y[batch])
    >>> reg.n_samples_seen_
    100
    """

    def _target_chunk(self, y_part, dtype):
        return np.array(y_part, dtype=dtype).reshape(y_part.shape[0], -1)

    def _validate(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
            reset=reset,
        )
        return X, y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the ridge model, discarding previously accumulated statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 and float64 are used as they are; other
            types are converted to float64.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._reset()
        if _dask.dask_pair(X, y):
            return self._fit_dask_pair(X, y, first_call=True)
        X, y = self._validate(X, y, reset=True)
        self._y_ndim = y.ndim
        self._accumulate(X, y, 1 if y.ndim == 1 else y.shape[1])
        self._finish(X.dtype)
        return self

    def _fit_dask_pair(self, X, y, first_call):
        X = _dask.row_blocks(X)
        y = _dask.aligned_targets(y, X)
        X_meta, y_meta = self._validate(_dask.meta(X), _dask.meta(y), reset=first_call)
        n_targets = 1 if y_meta.ndim == 1 else y_meta.shape[1]
        if first_call:
            self._y_ndim = y_meta.ndim
        elif n_targets != self._xty.shape[1]:
            raise ValueError(
                f"y has {n_targets} targets but {type(self).__name__} was fitted "
                f"with {self._xty.shape[1]} targets."
            )
        self._fit_dask(X, y, first_call, n_targets)
        self._finish(X_meta.dtype)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Add a batch of samples to the statistics and solve again.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training batch.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; the number of targets must not change between calls.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not hasattr(self, "_xtx")
        if _dask.dask_pair(X, y):
            return self._fit_dask_pair(X, y, first_call)
        X, y = self._validate(X, y, reset=first_call)
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        if first_call:
            self._y_ndim = y.ndim
        elif n_targets != self._xty.shape[1]:
            raise ValueError(
                f"y has {n_targets} targets but {type(self).__name__} was fitted "
                f"with {self._xty.shape[1]} targets."
            )
        self._accumulate(X, y, n_targets)
        self._finish(X.dtype)
        return self

    def _finish(self, dtype):
        self._solve(dtype)
        if self._y_ndim == 1:
            self.coef_ = self.coef_[0]
            if self.fit_intercept:
                self.intercept_ = self.intercept_[0]

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            return _dask.map_method(self, "predict", X)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_.T + self.intercept_


class RidgeReadoutClassifier(DaskLinearClassifierMixin, _ChunkedRidgeBase):
    """Ridge classifier solved in closed form from chunked sufficient statistics.

    Regresses one-vs-all targets in ``{-1, +1}`` (a single column for two
    classes) exactly as :class:`sklearn.linear_model.RidgeClassifier`, using the
    chunked solver of :class:`RidgeReadout`: no copy of the whole ``X``, products
    in the dtype of ``X`` accumulated in float64, and :meth:`partial_fit` for
    streamed batches. The targets are built one chunk at a time, so the
    ``(n_samples, n_classes)`` indicator matrix is never materialised either.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, a non-negative float.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.

    chunk_size : int, default=4096
        Number of rows per chunk.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the decision function, in the dtype of the last ``X``.

    intercept_ : ndarray of shape (1,) or (n_classes,)
        Independent terms of the decision function; ``0.0`` when
        ``fit_intercept=False``.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_samples_seen_ : int
        Number of samples accumulated so far.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    RidgeReadout : The regressor this classifier is built on.
    sklearn.linear_model.RidgeClassifier : In-memory equivalent.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from reservoir import RidgeReadoutClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RidgeReadoutClassifier(alpha=1.0, chunk_size=500).fit(X / 16, y)
    >>> clf.coef_.shape
    (10, 64)
    >>> round(clf.score(X / 16, y), 2)
    0.94
    """

    def _target_chunk(self, y_part, dtype):
        # y_part holds indices into classes_.
        n_classes = len(self.classes_)
        if n_classes == 2:
            return np.where(y_part == 1, 1, -1).astype(dtype).reshape(-1, 1)
        targets = np.full((y_part.shape[0], n_classes), -1, dtype=dtype)
        targets[np.arange(y_part.shape[0]), y_part] = 1
        return targets

    def _encode(self, y):
        """Validate labels against ``classes_`` and return their indices."""
        check_targets(self, y)
        return class_indices(self.classes_, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the ridge classifier, discarding previously accumulated statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 and float64 are used as they are; other
            types are converted to float64.

        y : array-like of shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._reset()
        if _dask.dask_pair(X, y):
            X, y = _dask.row_blocks(X), _dask.aligned_targets(y, X)
            X_meta, _ = validate_data(
                self, _dask.meta(X), _dask.meta(y), dtype=[np.float64, np.float32]
            )
            self._set_classes(_dask.unique_labels(y))
            self._fit_dask(X, y, True, self._n_targets())
            self._solve(X_meta.dtype)
            return self
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self._set_classes(np.unique(y))
        self._accumulate(X, self._encode(y), self._n_targets())
        self._solve(X.dtype)
        return self

    def _set_classes(self, classes):
        check_classification_targets(classes)
        self.classes_ = classes
        check_classes(self, classes)

    def _n_targets(self):
        return len(self.classes_) if len(self.classes_) > 2 else 1

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Add a batch of samples to the statistics and solve again.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training batch.

        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.

        classes : array-like of shape (n_classes,), default=None
            All the classes that can appear in any batch. Required on the
            first call (unless :meth:`fit` was called before), ignored
            afterwards except for a consistency check.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not hasattr(self, "_xtx")
        if first_call and hasattr(self, "classes_") and classes is None:
            # classes_ left over from a fit that failed; don't trust it.
            del self.classes_
        if first_call and classes is not None:
            self.classes_ = None
        _check_partial_fit_first_call(self, classes)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, got "
                f"classes={self.classes_!r}."
            )
        if _dask.dask_pair(X, y):
            X, y = _dask.row_blocks(X), _dask.aligned_targets(y, X)
            X_meta, _ = validate_data(
                self, _dask.meta(X), _dask.meta(y), dtype=[np.float64, np.float32],
                reset=first_call,
            )
            self._fit_dask(X, y, first_call, self._n_targets())
            self._solve(X_meta.dtype)
            return self
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], reset=first_call
        )
        self._accumulate(X, self._encode(y), self._n_targets())
        self._solve(X.dtype)
        return self




def _readout_has(attr):
    """``available_if`` check: the (fitted, else configured) readout has ``attr``."""

    def check(self):
        if hasattr(self, "readout_"):
            return hasattr(self.readout_, attr)
        try:
            return hasattr(self._make_readout(), attr)
        except (TypeError, ValueError):
            return False

    return check


class _SNLNNBase(MetaEstimatorMixin, BaseEstimator):
    """Reservoir -> optional scaler -> readout, shared by the two meta-estimators."""

    _parameter_constraints: dict = {
        "reservoir": [HasMethods(["fit", "transform"]), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self, reservoir=None, *, readout="ridge", alpha=1.0, standardize=True,
        random_state=None,
    ):
        self.reservoir = reservoir
        self.readout = readout
        self.alpha = alpha
        self.standardize = standardize
        self.random_state = random_state

    def set_params(self, **params):
        """Set parameters; ``reservoir__*`` works with the default ``reservoir=None``.

        A nested ``reservoir__name`` given while ``reservoir`` is None first makes
        ``reservoir`` the default ``SNLNNTransformer()``, so that grid searches
        can tune the default reservoir.
        """
        if params.get("reservoir", self.reservoir) is None and any(
            key.startswith("reservoir__") for key in params
        ):
            params = {**params, "reservoir": SNLNNTransformer()}
        return super().set_params(**params)

    def _make_reservoir(self):
        reservoir = SNLNNTransformer() if self.reservoir is None else clone(self.reservoir)
        if self.random_state is None:
            return reservoir
        # One seed for the whole model: it overrides the reservoir's own. A
        # composite reservoir (Pipeline, FeatureUnion) gets a distinct seed per
        # random part, drawn from it, so that its reservoirs stay different.
        keys = sorted(
            key for key in reservoir.get_params(deep=True)
            if key == "random_state" or key.endswith("__random_state")
        )
        if not keys:
            raise ValueError(
                f"random_state={self.random_state!r} was given, but the reservoir "
                f"{type(reservoir).__name__} has no random_state parameter to seed."
            )
        if keys == ["random_state"]:
            return reservoir.set_params(random_state=self.random_state)
        rng = check_random_state(self.random_state)
        return reservoir.set_params(
            **{key: int(rng.randint(np.iinfo(np.int32).max)) for key in keys}
        )

    def _fit_features(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        self.reservoir_ = self._make_reservoir()
        features = self.reservoir_.fit_transform(X)
        # Mirror the reservoir's input bookkeeping: it is the part that sees X.
        self.n_features_in_ = self.reservoir_.n_features_in_
        if hasattr(self.reservoir_, "feature_names_in_"):
            self.feature_names_in_ = self.reservoir_.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if self.standardize:
            # SNLNNTransformer returns a fresh array owned by us: scale it in
            # place. Another reservoir may return its input (or a view of it).
            owned = isinstance(self.reservoir_, SNLNNTransformer)
            self.scaler_ = StandardScaler(copy=not owned)
            features = self.scaler_.fit_transform(features)
        else:
            self.scaler_ = None
        return features

    def _fit_dask(self, X, y):
        """``fit`` on a dask array: the reservoir as in
        :func:`reservoir._dask.fit_reservoir`, then one fused pass in which each
        block's task computes its features and the readout's statistics, which
        also hold the scaler's moments; only the solve runs on the client."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        reservoir, readout = self._make_reservoir(), self._make_readout()
        if not isinstance(reservoir, SNLNNTransformer):
            raise TypeError(
                f"fit on a dask array needs an SNLNNTransformer reservoir, got "
                f"{type(reservoir).__name__}."
            )
        if not isinstance(readout, _ChunkedRidgeBase):
            raise TypeError(
                f"fit on a dask array needs the ridge readout (readout='ridge' or a "
                f"{RidgeReadout.__name__}/{RidgeReadoutClassifier.__name__}), got "
                f"{type(readout).__name__}: its statistics are what the blocks reduce."
            )
        X = _dask.row_blocks(X)
        y = _dask.aligned_targets(y, X)
        y_meta = _dask.meta(y)
        classifier = isinstance(readout, RidgeReadoutClassifier)
        if classifier and y.ndim != 1:
            raise ValueError(
                f"y must be 1-D class labels, got a dask array of shape {y.shape}."
            )
        X3, streamed, activity = _dask.fit_reservoir(reservoir, X)
        width = len(reservoir.get_feature_names_out())
        if classifier:
            readout._set_classes(_dask.unique_labels(y))
            n_targets = readout._n_targets()
        else:
            readout._y_ndim = y_meta.ndim
            n_targets = 1 if y_meta.ndim == 1 else y_meta.shape[1]
        measured, stats = _dask.pipeline_statistics(
            reservoir, readout, X3, y, streamed, n_targets
        )
        _dask.finish_reservoir(reservoir, X3, streamed, activity, measured)
        self.reservoir_ = reservoir
        self.n_features_in_ = reservoir.n_features_in_
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if self.standardize:
            stats, (mean, var, scale) = _dask.standardized(stats)
            self.scaler_ = StandardScaler()
            self.scaler_.mean_, self.scaler_.var_, self.scaler_.scale_ = mean, var, scale
            self.scaler_.n_samples_seen_ = stats[0]
            self.scaler_.n_features_in_ = width
        else:
            self.scaler_ = None
        _dask.load_statistics(readout, stats)
        readout.n_features_in_ = width
        if classifier:
            readout._solve(X3.dtype)
            self.classes_ = readout.classes_
        else:
            readout._finish(X3.dtype)
        self.readout_ = readout
        return self

    def _readout_method(self, method, X):
        """The readout's ``method`` of the features of ``X`` (lazy for dask)."""
        lazy = _dask.lazy_method(self, method, X)
        if lazy is not None:
            return lazy
        features = self._features(X)  # first: it checks that self is fitted
        return getattr(self.readout_, method)(features)

    def _features(self, X):
        check_is_fitted(self)
        features = self.reservoir_.transform(X)
        if self.scaler_ is not None:
            features = self.scaler_.transform(features)
        return features

    def __sklearn_tags__(self):
        return inherit_input_tags(super().__sklearn_tags__(), self.reservoir)


class SNLNNClassifier(ClassifierMixin, _SNLNNBase):
    """Reservoir classifier: an :class:`SNLNNTransformer` followed by a readout.

    The reservoir turns each sample (a vector, or a sequence of shape
    ``(n_steps, n_inputs)``) into a feature vector of reservoir states; only the
    readout is trained on the labels. The default ridge readout is solved in
    closed form (:class:`RidgeReadoutClassifier`), which is the classical echo
    state network readout.

    Parameters
    ----------
    reservoir : SNLNNTransformer, default=None
        The reservoir; cloned in :meth:`fit`. ``None`` uses
        ``SNLNNTransformer()`` with its defaults. Pass an instance to tune its
        parameters, e.g. ``reservoir__spectral_radius`` in a grid search.

    readout : {"ridge", "logistic"} or classifier instance, default="ridge"
        ``"ridge"`` uses :class:`RidgeReadoutClassifier` ``(alpha=alpha)``;
        ``"logistic"`` uses :class:`LogisticReadoutClassifier`
        ``(C=1 / alpha, standardize=False)`` (``C=inf``, no penalty, when
        ``alpha=0``; the features are standardised by ``standardize`` here),
        on the reservoir's ``n_jobs`` threads: the objective and L-BFGS
        settings of :class:`sklearn.linear_model.LogisticRegression`, without a
        float64 copy of float32 features; it gives :meth:`predict_proba`. A classifier instance is cloned and used as is;
        ``alpha`` is then ignored.

    alpha : float, default=1.0
        Penalty strength of the ``"ridge"`` and ``"logistic"`` readouts.

    standardize : bool, default=True
        Whether to standardise the reservoir features (:class:`StandardScaler`)
        before the readout, so that the penalty acts equally on every unit
        whatever its scale (final states, mean states and spike rates differ
        by orders of magnitude). On digits read as 8 steps of 8 pixels it lifts
        the ridge readout from about 0.92 to 0.96 held-out accuracy (0.81 to
        0.95 with ``input_scaling=0.1``) and is neutral on flat digits; it
        costs one pass over the features.

    random_state : int, RandomState instance or None, default=None
        Seeds the reservoir's weights; when not
        None it overrides the ``random_state`` of ``reservoir``.

    Attributes
    ----------
    reservoir_ : SNLNNTransformer
        The fitted reservoir.

    scaler_ : StandardScaler or None
        The fitted scaler if ``standardize=True``, else ``None``.

    readout_ : classifier
        The fitted readout.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features seen by the reservoir during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    SNLNNRegressor : The regression counterpart.
    RidgeReadoutClassifier : The default readout.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from reservoir import SNLNNClassifier
    >>> from reservoir import SNLNNTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, y, random_state=0)
    >>> clf = SNLNNClassifier(SNLNNTransformer(reservoir_dim=100, random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.85
    True
    """

    _parameter_constraints: dict = {
        **_SNLNNBase._parameter_constraints,
        "readout": [
            StrOptions({"ridge", "logistic"}),
            HasMethods(["fit", "predict"]),
        ],
    }

    def _make_readout(self):
        if isinstance(self.readout, str):
            if self.readout == "ridge":
                return RidgeReadoutClassifier(alpha=self.alpha)
            if self.readout == "logistic":
                # Standardising is this estimator's ``standardize``; the readout
                # takes the reservoir's threads (its results do not depend on them).
                C = np.inf if self.alpha == 0 else 1.0 / self.alpha
                n_jobs = None
                if self.reservoir is not None:
                    n_jobs = self.reservoir.get_params(deep=False).get("n_jobs")
                return LogisticReadoutClassifier(C=C, standardize=False, n_jobs=n_jobs)
            raise ValueError(f"Unknown readout {self.readout!r}.")
        return clone(self.readout)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the reservoir on X, then the readout on its states and y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Training samples.

        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.dask_pair(X, y):
            return self._fit_dask(X, y)
        if y is not None:
            check_classification_targets(y)
        features = self._fit_features(X, y)
        self.readout_ = self._make_readout().fit(features, y)
        self.classes_ = self.readout_.classes_
        return self

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        return self._readout_method("predict", X)

    @available_if(_readout_has("decision_function"))
    def decision_function(self, X):
        """Readout decision function of the reservoir states.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Confidence scores; 1-D for two classes.
        """
        return self._readout_method("decision_function", X)

    @available_if(_readout_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, if the readout provides them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        return self._readout_method("predict_proba", X)

    @available_if(_readout_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log of the class probabilities, if the readout provides them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return self._readout_method("predict_log_proba", X)


class SNLNNRegressor(RegressorMixin, _SNLNNBase):
    """Reservoir regressor: an :class:`SNLNNTransformer` followed by a readout.

    Parameters
    ----------
    reservoir : SNLNNTransformer, default=None
        The reservoir; cloned in :meth:`fit`. ``None`` uses
        ``SNLNNTransformer()`` with its defaults.

    readout : "ridge" or regressor instance, default="ridge"
        ``"ridge"`` uses :class:`RidgeReadout` ``(alpha=alpha)``, which also
        handles multi-output ``y``. A regressor instance is cloned and used as
        is; ``alpha`` is then ignored.

    alpha : float, default=1.0
        Penalty strength of the ``"ridge"`` readout.

    standardize : bool, default=True
        Whether to standardise the reservoir features (:class:`StandardScaler`)
        before the readout, so that the penalty acts equally on every unit.

    random_state : int, RandomState instance or None, default=None
        Seeds the reservoir's weights; when not None it overrides the
        ``random_state`` of ``reservoir``. The readout is deterministic.

    Attributes
    ----------
    reservoir_ : SNLNNTransformer
        The fitted reservoir.

    scaler_ : StandardScaler or None
        The fitted scaler if ``standardize=True``, else ``None``.

    readout_ : regressor
        The fitted readout.

    n_features_in_ : int
        Number of features seen by the reservoir during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    SNLNNClassifier : The classification counterpart.
    RidgeReadout : The default readout.

    Examples
    --------
    >>> import numpy as np
    >>> from reservoir import SNLNNRegressor
    >>> from reservoir import SNLNNTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(300, 2))
    >>> y = np.sin(3 * X[:, 0]) * X[:, 1]
    >>> reg = SNLNNRegressor(SNLNNTransformer(reservoir_dim=100, random_state=0),
    ...                      alpha=1e-3)
    >>> reg.fit(X[:200], y[:200]).score(X[200:], y[200:]) > 0.8
    True
    """

    _parameter_constraints: dict = {
        **_SNLNNBase._parameter_constraints,
        "readout": [StrOptions({"ridge"}), HasMethods(["fit", "predict"])],
    }

    def _make_readout(self):
        if isinstance(self.readout, str):
            if self.readout == "ridge":
                return RidgeReadout(alpha=self.alpha)
            raise ValueError(f"Unknown readout {self.readout!r}.")
        return clone(self.readout)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the reservoir on X, then the readout on its states and y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Training samples.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.dask_pair(X, y):
            return self._fit_dask(X, y)
        features = self._fit_features(X, y)
        self.readout_ = self._make_readout().fit(features, y)
        return self

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        return self._readout_method("predict", X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        readout = self.readout if not isinstance(self.readout, str) else RidgeReadout()
        tags.target_tags.multi_output = get_tags(readout).target_tags.multi_output
        return tags
