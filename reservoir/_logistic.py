"""Multinomial logistic readout: L-BFGS over a fused, blockwise, threaded loss.

The loss and gradient live in :mod:`._logistic_loss`; this module holds the
estimator: validation, labels, the optimiser and the prediction methods.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy import optimize
from scipy.special import log_expit, log_softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _dask
from ._blas import single_threaded_blas
from ._labels import (
    DaskLinearClassifierMixin,
    check_classes,
    check_targets,
    class_indices,
)
from ._logistic_loss import LogisticLoss, moments


class LogisticReadoutClassifier(DaskLinearClassifierMixin, BaseEstimator):
    """Multinomial logistic regression for large dense float32 features.

    Minimises the objective of :class:`sklearn.linear_model.LogisticRegression`
    with an L2 penalty, ``C * sum_i loss_i + ||W||^2 / 2`` (the intercept is not
    penalised), with L-BFGS-B (:func:`scipy.optimize.minimize`). The loss is
    the softmax cross-entropy for three or more classes and, as in
    scikit-learn, the binomial loss on one weight vector for two classes.

    Built for reservoir features (tens of thousands of rows, thousands of
    columns): ``X`` is never copied or upcast. Each loss evaluation streams
    ``X`` once in blocks of 1024 rows, computing the logits, the softmax
    residuals and the gradient contribution of a block while it is in cache
    (a Numba kernel for C-ordered ``X``, BLAS for other layouts), with
    products in the dtype of ``X`` and sums in float64. Blocks run on
    ``n_jobs`` threads and are summed in a fixed order, so results do not
    depend on ``n_jobs``.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength, a positive float; ``np.inf`` fits
        without a penalty.

    max_iter : int, default=100
        Maximum number of L-BFGS iterations.

    tol : float, default=1e-4
        L-BFGS stops when every component of the projected gradient of the
        objective divided by ``C * n_samples`` (scikit-learn's scaling, so the
        same ``tol`` means the same) is at most ``tol``, or, as scikit-learn's
        ``lbfgs`` does, when an iteration reduces that objective by less than
        ``64 * eps`` relative (with float32 features the usual exit once the
        gradient reaches their rounding noise); neither warns.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept per class.

    standardize : bool, default=True
        Fit on the standardised features ``(x - mean) / std`` (population std,
        zero std taken as 1), like :class:`~sklearn.preprocessing.StandardScaler`
        in a pipeline before :class:`~sklearn.linear_model.LogisticRegression`:
        the penalty then acts equally on every feature whatever its scale. The
        moments take one pass over ``X`` and the scaling is folded into the
        weights, so ``X`` is never scaled. ``coef_`` and ``intercept_`` act on
        the raw features.

    n_jobs : int or None, default=None
        Threads over row blocks in :meth:`fit` (``None`` means 1, ``-1`` all
        cores). Results do not depend on it.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights on the raw features (one row for two classes, for
        ``classes_[1]``), in the dtype of ``X``.

    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts on the raw features, in the dtype of ``X``. Zero when
        ``fit_intercept=False`` and ``standardize=False``; with
        ``standardize=True`` it also carries the folded-in feature means.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_iter_ : ndarray of shape (1,)
        Number of L-BFGS iterations run.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model, many solvers.
    RidgeReadoutClassifier : Closed-form ridge readout, no iterations.

    Notes
    -----
    The iterations match scikit-learn's ``lbfgs`` (same scaling, ``maxls=50``,
    ``ftol = 64 * eps``); with float64 input and a tight ``tol`` the solution
    agrees with ``make_pipeline(StandardScaler(), LogisticRegression())`` to
    the solver's tolerance. With float32 input the logits and gradients carry
    float32 rounding, which is far below what the iterations resolve at the
    usual ``tol``. Standardisation is folded into the products rather than
    applied to ``X``, so with float32 features whose mean is large next to
    their spread the logits carry the rounding of the raw features: with mean
    1e3 times the spread, logits off by ~0.04 against a float64 fit (0.004 for
    StandardScaler + LogisticRegression in float32); predictions were
    unchanged in that check. Reservoir states are bounded and centred enough
    for this not to matter; centre such features first, or pass float64.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from reservoir import LogisticReadoutClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticReadoutClassifier(C=0.1, max_iter=200).fit(X, y)
    >>> clf.coef_.shape, clf.predict_proba(X[:2]).shape
    ((10, 64), (2, 10))
    >>> round(clf.score(X, y), 2)
    0.99
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],  # inf: no penalty
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
    }

    def __init__(
        self, C=1.0, *, max_iter=100, tol=1e-4, fit_intercept=True, standardize=True,
        n_jobs=None,
    ):
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the model by L-BFGS.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. float32 and float64 are used as they are (not
            copied); other types are converted to float64.

        y : array-like of shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # Fitting needs every row in memory, many times: gathering a dask
        # array silently would defeat its purpose.
        _dask.reject(X, type(self).__name__)
        _dask.reject(y, type(self).__name__, name="y")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        indices = self._encode(y)
        n_samples, n_features = X.shape
        n_jobs = effective_n_jobs(self.n_jobs)
        pool = ThreadPoolExecutor(n_jobs) if n_jobs > 1 else nullcontext()
        with single_threaded_blas(), pool:
            map_blocks = map if n_jobs == 1 else pool.map
            mean = scale = None
            if self.standardize:
                mean, scale = moments(X, map_blocks)
                scale[scale == 0.0] = 1.0  # constant features, as StandardScaler
            loss = LogisticLoss(
                X, indices, len(self.classes_), 1.0 / (self.C * n_samples), mean,
                scale, self.fit_intercept, map_blocks,
            )
            result = optimize.minimize(
                loss,
                np.zeros(loss.shape).ravel(),
                method="L-BFGS-B",
                jac=True,
                # scikit-learn's settings, so that the iterations are its own.
                options={
                    "maxiter": self.max_iter,
                    "maxls": 50,
                    "gtol": self.tol,
                    "ftol": 64 * np.finfo(float).eps,
                },
            )
        if result.status != 0:
            warnings.warn(
                f"L-BFGS did not converge ({result.message}); increase max_iter "
                "or tol.",
                ConvergenceWarning,
                stacklevel=3,  # past sklearn's fit wrapper, to the caller
            )
        weights, intercept = loss.raw(result.x)
        self.coef_ = np.ascontiguousarray(weights.T)
        self.intercept_ = intercept.astype(X.dtype)
        # scipy counts the first step even at maxiter=0; sklearn clips it.
        self.n_iter_ = np.array([min(result.nit, self.max_iter)], dtype=np.int32)
        return self

    def _encode(self, y):
        """Set ``classes_`` and return the indices of ``y`` in it."""
        check_targets(self, y)
        self.classes_ = np.unique(y)
        check_classes(self, self.classes_)
        return class_indices(self.classes_, y)

    def predict_log_proba(self, X):
        """Log of the class probabilities, computed stably from the logits.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples; a dask array gives a lazy dask array.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        lazy = _dask.lazy_method(self, "predict_log_proba", X)
        if lazy is not None:
            return lazy
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.stack([log_expit(-scores), log_expit(scores)], axis=1)
        return log_softmax(scores, axis=1)

    def predict_proba(self, X):
        """Class probabilities: the softmax (sigmoid for two classes) of the logits.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples; a dask array gives a lazy dask array.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        lazy = _dask.lazy_method(self, "predict_proba", X)
        if lazy is not None:
            return lazy
        return np.exp(self.predict_log_proba(X))
