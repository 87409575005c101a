r"""Reservoir states of long series step by step, and a forecaster built on them.

A row is a **time step of one series** (not an independent sequence as in
:class:`~reservoir.SNLNNTransformer`): the state carries from row to row.
Vocabulary: a *series* is an array ``(n_timesteps, n_inputs)`` (channels-last)
or a list of them, each from the initial state; the *washout* is the initial
transient left out of the readout fit; *teacher forcing* reads the true inputs;
*generation* feeds each prediction back as the next input; an *initial state*
continues a series where an earlier call ended. Nothing is remembered between
calls, so the same input always gives the same output.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from . import _dask
from ._blas import single_threaded_blas
from ._kernels import generate_series, series_states, series_states_batch
from ._weights import INPUT_WEIGHTS, active_block, draw_weights, recurrent_scale

__all__ = ["SNLNNForecaster", "SNLNNSeriesTransformer"]

_DTYPES = [np.float64, np.float32]


def _ndim(obj):
    try:
        return np.ndim(obj)
    except ValueError:  # a ragged nested list
        return None


def _not_2d(k, ndim, collection):
    what = "is ragged" if ndim is None else f"has {ndim} dimension{'s' * (ndim != 1)}"
    kind = "a list of series" if collection else "one series given as rows"
    return ValueError(
        f"X is {kind}, but X[{k}] {what}: a series is 2-D, (n_timesteps, n_inputs)."
    )


def _validate_series(estimator, X, reset):
    """List of validated series in one float dtype, and whether X was a list.

    A list, tuple or 1-D object array whose first element is 2-D is a
    collection, each element a series; anything else is one series.
    """
    # A series runs step after step: a dask array would only be gathered here.
    where = type(estimator).__name__
    _dask.reject(X, where)
    if getattr(X, "ndim", None) == 3 and X.dtype != object:
        raise ValueError(
            f"X has shape {X.shape}: several series are a list of 2-D series "
            "(n_timesteps, n_inputs), e.g. list(X)."
        )
    listed = isinstance(X, (list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 1
    )
    if listed and len(X) == 0:
        raise ValueError("X is an empty list: give one series or a list of them.")
    collection = listed and _ndim(X[0]) == 2
    for k, part in enumerate(X if collection else []):
        if _ndim(part) != 2:
            raise _not_2d(k, _ndim(part), True)
    parts = list(X) if collection else [X]
    for k, part in enumerate(parts if collection else []):
        _dask.reject(part, where, name=f"X[{k}]")
    try:
        series = [
            validate_data(estimator, part, reset=reset and k == 0, dtype=_DTYPES)
            for k, part in enumerate(parts)
        ]
    except ValueError:
        # numpy's "inhomogeneous shape" names no row: find it.
        first = _ndim(X[0]) if listed and not collection else None
        bad = [k for k, row in enumerate(X) if _ndim(row) != first] if first else []
        if not bad:
            raise
        raise _not_2d(bad[0], _ndim(X[bad[0]]), False) from None
    dtype = np.result_type(*series)
    return [np.asarray(part, dtype=dtype) for part in series], collection


def _dense_is_faster(nnz, n, dtype, n_series):
    """Whether dense BLAS beats the CSR loops for a W with ``nnz`` of ``n * n``.

    Measured (``benchmarks/timeseries.py --tasks crossover``): for one series
    CSR costs ~0.4 ns a stored weight and gemv ~0.016 ns a byte of W while W
    fits in a 2 MiB L2, ~0.035 beyond (dense from density ~0.16 in float32,
    ~0.32 in float64 at 500 units); for several series the CSR and GEMM
    products cross near density 0.25 in either dtype.
    """
    if n_series > 1:
        return nnz > 0.25 * n * n
    size = n * n * np.dtype(dtype).itemsize
    return 0.4 * nnz > size * (0.016 if size <= 2 << 20 else 0.035)


class SNLNNSeriesTransformer(TransformerMixin, BaseEstimator):
    r"""Per-step states of the spiking leaky-tanh reservoir along long series.

    The rows of ``X`` are the time steps of one series (shape ``(n_timesteps,
    n_inputs)``, channels-last) and the state carries from each step to the
    next; a list of 2-D arrays is several series, each starting from the
    initial state (zero unless ``initial_state`` says otherwise). The model is
    the one of :class:`~reservoir.SNLNNTransformer`, from the same weights for
    the same ``random_state``:

    .. math::

        s_t = (1 - a)\, s_{t-1} + a \tanh(W_{in} x_t + W s_{t-1} + b), \quad
        z_t = [s_t > \theta], \quad s_t \leftarrow s_t - \theta z_t

    Each output row is ``[s_t | x_t | z_t]``: the state, the input
    (``include_input``) and the spikes (``include_spikes``). The inputs of all
    steps are projected by one matrix product, then a compiled loop runs the
    recurrence: one product by ``W`` a step (CSR, or dense BLAS where that is
    faster); several series advance together, one matrix-matrix product a
    step. Memory is the output plus ``O(n_units^2)``. No growth:
    ``reservoir_dim`` neurons are active throughout.

    The defaults of ``spectral_radius``, ``leak_rate`` and ``input_scaling``
    (and the forecaster's ``alpha``) scored best over a grid on four tasks
    (Mackey-Glass 10 steps ahead and free-running, NARMA-10, Lorenz; see
    ``benchmarks/timeseries_defaults.py``); NARMA-10 prefers ``leak_rate=1``
    and ``input_scaling=0.1``.

    Parameters
    ----------
    reservoir_dim : int, default=300
        Neurons.
    spectral_radius : float, default=1.0
        Largest eigenvalue modulus of ``W``.
    leak_rate : float, default=0.6
        Leak :math:`a` in (0, 1].
    spike_threshold : float, default=1.0
        Spike and subtract above it. Values >= 1 disable spikes (the state
        stays in (-1, 1) from a state inside it), the default: the reset made
        every benchmark task worse (MG 10-step NRMSE 3e-4 -> 0.09 at 0.8).
    input_scaling : float, default=0.3
        Standard deviation of the Gaussian input weights.
    bias_scaling : float, default=0.5
        Standard deviation of the Gaussian bias.
    density : float, default=0.1
        Fraction of non-zero recurrent weights; below 1 ``W`` is sparse.
    input_weights : {"gaussian", "receptive_field"}, default="gaussian"
        As in :class:`~reservoir.SNLNNTransformer`.
    receptive_field : int or None, default=None
        Window width for ``"receptive_field"`` (``None``: ``max(1, n_inputs //
        4)``); must be ``None`` with ``"gaussian"``.
    include_input : bool, default=True
        Append the input :math:`x_t` to each row (a linear readout then sees
        the input directly).
    include_spikes : bool, default=False
        Append the spikes :math:`z_t` (0 or 1 per neuron) to each row.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights; the same value gives the same output.

    Attributes
    ----------
    n_features_in_ : int
        Inputs per time step.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.
    input_weights_ : ndarray of shape (reservoir_dim, ``n_features_in_``)
    bias_ : ndarray of shape (reservoir_dim,)
    recurrent_weights_ : ndarray or CSR matrix of shape (reservoir_dim,) * 2
        The unscaled draw; ``recurrent_scale_ * recurrent_weights_`` is ``W``.
    recurrent_scale_ : float
        Factor that gives ``W`` the spectral radius ``spectral_radius``.

    Examples
    --------
    >>> import numpy as np
    >>> from reservoir import SNLNNSeriesTransformer
    >>> x = np.sin(np.arange(200) / 5.0)[:, None]
    >>> states = SNLNNSeriesTransformer(reservoir_dim=50, random_state=0)
    >>> features = states.fit_transform(x)
    >>> features.shape                   # 50 states + the input, per step
    (200, 51)
    >>> head, last = states.transform(x[:120], return_state=True)
    >>> tail = states.transform(x[120:], initial_state=last)   # continue
    >>> bool(np.allclose(np.vstack([head, tail]), features))
    True
    """

    _parameter_constraints: dict = {
        "reservoir_dim": [Interval(Integral, 1, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="neither")],
        "leak_rate": [Interval(Real, 0, 1, closed="right")],
        "spike_threshold": [Interval(Real, 0, None, closed="neither")],
        "input_scaling": [Interval(Real, 0, None, closed="neither")],
        "bias_scaling": [Interval(Real, 0, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="right")],
        "input_weights": [StrOptions(set(INPUT_WEIGHTS))],
        "receptive_field": [Interval(Integral, 1, None, closed="left"), None],
        "include_input": ["boolean"],
        "include_spikes": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        reservoir_dim=300,
        *,
        spectral_radius=1.0,
        leak_rate=0.6,
        spike_threshold=1.0,
        input_scaling=0.3,
        bias_scaling=0.5,
        density=0.1,
        input_weights="gaussian",
        receptive_field=None,
        include_input=True,
        include_spikes=False,
        random_state=None,
    ):
        self.reservoir_dim = reservoir_dim
        self.spectral_radius = spectral_radius
        self.leak_rate = leak_rate
        self.spike_threshold = spike_threshold
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.density = density
        self.input_weights = input_weights
        self.receptive_field = receptive_field
        self.include_input = include_input
        self.include_spikes = include_spikes
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the reservoir for series with ``X``'s number of inputs.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_inputs) or list of such arrays
            One series, or several.
        y : None
            Ignored.

        Returns
        -------
        self : SNLNNSeriesTransformer
        """
        _validate_series(self, X, reset=True)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        # draw_weights resolves receptive_field's default and refuses it with
        # "gaussian" inputs, as SNLNNTransformer does.
        w_in, bias, w_rec = draw_weights(
            seed,
            self.n_features_in_,
            self.reservoir_dim,
            input_scaling=self.input_scaling,
            bias_scaling=self.bias_scaling,
            density=self.density,
            input_weights=self.input_weights,
            receptive_field=self.receptive_field,
        )
        n = self.reservoir_dim
        # Same memo key as SNLNNTransformer's for the same draw: refits share it.
        scale = recurrent_scale(
            self.spectral_radius, active_block(w_rec, n), (seed, n, self.density, n)
        )
        self._seed, self.input_weights_, self.bias_ = seed, w_in, bias
        self.recurrent_weights_, self.recurrent_scale_ = w_rec, scale
        # What transform reads, fixed here: set_params takes effect at the next fit.
        self._model = {
            name: getattr(self, name)
            for name in ("reservoir_dim", "leak_rate", "spike_threshold",
                         "include_input", "include_spikes")
        }
        return self

    def transform(self, X, initial_state=None, return_state=False):
        """Per-step features ``[s_t | x_t | z_t]`` of every series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_inputs) or list of such arrays
            float32 in gives float32 out.
        initial_state : array-like of shape (reservoir_dim,) or \
                (n_series, reservoir_dim), default=None
            State before the first step of each series; ``None`` is zero.
        return_state : bool, default=False
            Also return the state after the last step of each series.

        Returns
        -------
        features : ndarray of shape (total_timesteps, n_features_out)
            The rows of the series one after the other.
        final_state : ndarray of shape (reservoir_dim,) or (n_series, reservoir_dim)
            Only if ``return_state``; 2-D when ``X`` is a list.
        """
        check_is_fitted(self)
        series, collection = _validate_series(self, X, reset=False)
        features, final = self._run(series, initial_state)
        if not return_state:
            return features
        return features, (final if collection else final[0])

    def get_feature_names_out(self, input_features=None):
        """Names ``state0..``, then ``input0..`` and ``spike0..`` when included.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in fit.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        n, model = self._model["reservoir_dim"], self._model
        names = [f"state{i}" for i in range(n)]
        if model["include_input"]:
            names += [f"input{i}" for i in range(self.n_features_in_)]
        if model["include_spikes"]:
            names += [f"spike{i}" for i in range(n)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------- helpers

    def _layout(self):
        """Columns of the input and spike blocks (-1 when absent), and the width."""
        n, d = self._model["reservoir_dim"], self.n_features_in_
        with_input = self._model["include_input"]
        with_spikes = self._model["include_spikes"]
        input_col = n if with_input else -1
        spike_col = n + d * with_input if with_spikes else -1
        return input_col, spike_col, n + d * with_input + n * with_spikes

    def _initial_states(self, initial_state, n_series, dtype):
        n = self._model["reservoir_dim"]
        if initial_state is None:
            return np.zeros((n_series, n), dtype)
        if np.ndim(initial_state) not in (1, 2):
            state = np.asarray(initial_state)
        else:
            state = check_array(initial_state, ensure_2d=False, dtype=_DTYPES,
                                input_name="initial_state")
        if state.shape == (n,):
            state = np.broadcast_to(state, (n_series, n))
        if state.shape != (n_series, n):
            raise ValueError(
                f"initial_state has shape {state.shape}, but the reservoir has {n} "
                f"units and {n_series} series were given: expected ({n},) or "
                f"({n_series}, {n})."
            )
        return np.array(state, dtype=dtype)

    def _operator(self, dtype, n_series=1):
        """The kernels' recurrent arguments: dense W or CSR arrays, in ``dtype``.

        A sparse draw runs dense where BLAS is faster (:func:`_dense_is_faster`).
        CSR indices are unsigned so that Numba skips its negative-index test on
        every gather: a step took half the time.
        """
        n = self._model["reservoir_dim"]
        block = active_block(self.recurrent_weights_, n)
        if sp.issparse(block) and _dense_is_faster(block.nnz, n, dtype, n_series):
            block = block.toarray()
        empty_index = np.empty(0, np.uint32)
        if sp.issparse(block):
            csr = sp.csr_matrix(block, copy=True)
            csr.sort_indices()
            data = (csr.data * self.recurrent_scale_).astype(dtype)
            index = np.uint32 if csr.nnz < 2**32 else np.int64
            indptr, indices = csr.indptr.astype(index), csr.indices.astype(index)
            return np.empty((0, 0), dtype), indptr, indices, data, True
        dense = np.ascontiguousarray(block * self.recurrent_scale_, dtype=dtype)
        return dense, empty_index, empty_index, np.empty(0, dtype), False

    def _scalars(self, dtype):
        leak = dtype.type(self._model["leak_rate"])
        # keep in the dtype, so that float32 arithmetic stays float32.
        return dtype.type(1) - leak, leak, dtype.type(self._model["spike_threshold"])

    def _run(self, series, initial_state):
        """Features of every series and their final states (n_series, n_units)."""
        dtype = series[0].dtype
        n = self._model["reservoir_dim"]
        input_col, spike_col, width = self._layout()
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        states = self._initial_states(initial_state, len(series), dtype)
        out = np.empty((int(lengths.sum()), width), dtype)
        w_in_t = np.ascontiguousarray(self.input_weights_.T, dtype=dtype)
        bias = self.bias_.astype(dtype)
        with single_threaded_blas():
            for x, start in zip(series, starts):
                rows = out[start : start + len(x)]
                # All the steps' input projections in one product.
                np.matmul(x, w_in_t, out=rows[:, :n])
                rows[:, :n] += bias
                if input_col >= 0:
                    rows[:, input_col : input_col + x.shape[1]] = x
            recurrent = self._operator(dtype, len(series))
            scalars = self._scalars(dtype)
            if len(series) == 1:
                final = states[0].copy()
                series_states(out, *recurrent, final, *scalars, spike_col)
                return out, final[None]
            # Longest first, so the series still running are a prefix.
            order = np.argsort(-lengths, kind="stable")
            batch = np.ascontiguousarray(states[order].T)
            series_states_batch(out, starts[order], lengths[order], *recurrent,
                                batch, *scalars, spike_col)
        final = np.empty_like(states)
        final[order] = batch.T
        return out, final


class SNLNNForecaster(RegressorMixin, BaseEstimator):
    r"""Forecast a series with reservoir states and a closed-form ridge readout.

    :meth:`fit` runs the input series ``X`` (channels-last ``(n_timesteps,
    n_inputs)``, or a list) through ``reservoir``, drops the first ``washout``
    steps of every series and fits :class:`~reservoir.RidgeReadout` from the
    features of step ``t`` to the target ``y[t]`` (one or several columns).
    The target sets what is forecast: ``y[t] = x[t + h]`` trains the
    ``h``-step predictor, which :meth:`predict` applies under teacher forcing;
    with ``h = 1``, :meth:`generate` runs closed loop. Every call starts from
    the zero state (or ``final_state_`` with ``initial_state="after_fit"``)
    unless given an ``initial_state``: to stream, pass ``final_state_`` or the
    state that ``return_state=True`` returns.

    Parameters
    ----------
    reservoir : SNLNNSeriesTransformer or None, default=None
        Cloned in :meth:`fit`; ``None`` is ``SNLNNSeriesTransformer()``. Tune
        it as ``reservoir__spectral_radius`` and so on.
    alpha : float, default=1e-8
        Ridge penalty of the readout (the intercept is not penalised). The
        normal equations are formed in float64 even from float32 features, so
        the same penalty suits both.
    washout : int or "auto", default="auto"
        Initial steps of each training series left out of the readout fit;
        ``"auto"`` is ``min(100, n_timesteps // 10)`` per series, an int must
        be less than every series' length.
    initial_state : {"zero", "after_fit"}, default="zero"
        Where :meth:`predict`, :meth:`score` and :meth:`generate` start when
        not given an ``initial_state``: zero, or ``final_state_`` (for data
        that follow the training series, as the test folds of
        :class:`~sklearn.model_selection.TimeSeriesSplit` do).
    random_state : int, RandomState instance or None, default=None
        If not None, seeds the reservoir in place of its own ``random_state``.

    Attributes
    ----------
    reservoir_ : SNLNNSeriesTransformer
    readout_ : RidgeReadout
        Fitted on ``reservoir_``'s features.
    washout_ : ndarray of shape (n_series,)
        Steps dropped from each training series.
    final_state_ : ndarray of shape (reservoir_dim,)
        State after the last step of the (last) training series.
    final_features_ : ndarray of shape (n_features_out,)
        Its feature row: :meth:`generate` without ``X`` goes on from it.
    n_targets_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from reservoir import SNLNNForecaster, SNLNNSeriesTransformer
    >>> x = np.sin(np.arange(1200) / 8.0)[:, None]
    >>> model = SNLNNForecaster(SNLNNSeriesTransformer(100, random_state=0))
    >>> model = model.fit(x[:1000], x[1:1001])      # one step ahead
    >>> # Teacher forcing, going on from the end of the training series:
    >>> one_step = model.predict(x[1000:-1], initial_state=model.final_state_)
    >>> bool(np.abs(one_step - x[1001:]).max() < 1e-3)
    True
    >>> future = model.generate(50)                 # closed loop after x[999]
    >>> bool(np.abs(future - x[1000:1050]).max() < 1e-2)
    True
    """

    _parameter_constraints: dict = {
        "reservoir": [SNLNNSeriesTransformer, None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "washout": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "initial_state": [StrOptions({"zero", "after_fit"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self, reservoir=None, *, alpha=1e-8, washout="auto", initial_state="zero",
        random_state=None,
    ):
        self.reservoir = reservoir
        self.alpha = alpha
        self.washout = washout
        self.initial_state = initial_state
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Run ``X`` through the reservoir and fit the readout to ``y``.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_inputs) or list of such arrays
            Input series; each starts from the zero state.
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_targets), \
                or list of such arrays
            Target at every step, one per series of ``X``.

        Returns
        -------
        self : SNLNNForecaster
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        series, collection = _validate_series(self, X, reset=True)
        targets = self._validate_targets(y, series, collection)
        washouts = np.array([self._washout(len(x)) for x in series], dtype=np.int64)
        reservoir = clone(SNLNNSeriesTransformer() if self.reservoir is None
                          else self.reservoir)
        if self.random_state is not None:
            reservoir.set_params(random_state=self.random_state)
        reservoir.fit(series[0])
        features, final = reservoir._run(series, None)
        if len(series) == 1:
            rows, target = features[washouts[0] :], targets[0][washouts[0] :]
        else:
            keep = np.concatenate([np.arange(len(x)) >= w
                                   for x, w in zip(series, washouts)])
            rows = features[keep]
            target = np.concatenate([t[w:] for t, w in zip(targets, washouts)])
        readout = self._fit_readout(rows, target)
        # Set together at the end: a failed fit leaves the previous model whole.
        self.reservoir_, self.readout_, self.washout_ = reservoir, readout, washouts
        self.n_targets_ = 1 if target.ndim == 1 else target.shape[1]
        self.final_state_, self.final_features_ = final[-1], features[-1].copy()
        return self

    def predict(self, X, initial_state=None, return_state=False):
        """Teacher-forced predictions: the readout at every step of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_inputs) or list of such arrays
        initial_state : array-like of shape (reservoir_dim,) or \
                (n_series, reservoir_dim), default=None
            ``None`` follows the ``initial_state`` parameter (zero by default).
        return_state : bool, default=False
            Also return the state after the last step of each series.

        Returns
        -------
        y_pred : ndarray of shape (total_timesteps,) or (total_timesteps, n_targets)
            The rows of the series one after the other.
        final_state : ndarray of shape (reservoir_dim,) or (n_series, reservoir_dim)
            Only if ``return_state``.
        """
        check_is_fitted(self)
        series, collection = _validate_series(self, X, reset=False)
        features, final = self.reservoir_._run(series, self._start(initial_state))
        y_pred = self._readout(features)
        if not return_state:
            return y_pred
        return y_pred, (final if collection else final[0])

    def generate(self, n_timesteps, X=None, initial_state=None, return_state=False):
        """Closed-loop forecast: every prediction becomes the next input.

        Needs a model of the next input (``n_targets_ == n_features_in_``).

        Parameters
        ----------
        n_timesteps : int
            Steps to generate, at least 1.
        X : array-like of shape (n_context, n_inputs), default=None
            Context read first under teacher forcing; the forecast starts after
            its last step. ``None`` goes on from ``final_features_``.
        initial_state : array-like of shape (reservoir_dim,), default=None
            State before the context (only with ``X``); ``None`` follows the
            ``initial_state`` parameter.
        return_state : bool, default=False
            Also return the state after the last input read (the last
            generated step is not read): continue with
            ``generate(k, X=forecast[-1:], initial_state=state)``.

        Returns
        -------
        forecast : ndarray of shape (n_timesteps, ``n_features_in_``)
            ``forecast[0]`` predicts the step after the context.
        final_state : ndarray of shape (reservoir_dim,)
            Only if ``return_state``.
        """
        check_is_fitted(self)
        if (not isinstance(n_timesteps, Integral) or n_timesteps < 1
                or isinstance(n_timesteps, (bool, np.bool_))):
            raise ValueError(
                f"n_timesteps must be an integer >= 1 (steps to generate), got "
                f"{n_timesteps!r}."
            )
        if self.n_targets_ != self.n_features_in_:
            raise ValueError(
                "generate feeds each prediction back as the next input, so the "
                f"model needs as many targets as inputs; it was fitted with "
                f"{self.n_targets_} targets and {self.n_features_in_} inputs."
            )
        reservoir = self.reservoir_
        if X is None:
            if initial_state is not None:
                raise ValueError(
                    "initial_state needs a context X to read from it; without X "
                    "generate goes on from the end of the training series."
                )
            features = self.final_features_.copy()
        else:
            series, collection = _validate_series(self, X, reset=False)
            if collection:
                raise ValueError("generate takes one context series, not a list.")
            rows, _ = reservoir._run(series, self._start(initial_state))
            features = rows[-1].copy()
        dtype = features.dtype
        coef = np.asarray(self.readout_.coef_, dtype).reshape(self.n_targets_, -1)
        intercept = np.broadcast_to(
            np.asarray(self.readout_.intercept_, dtype=dtype), (self.n_targets_,)
        ).copy()
        input_col, spike_col, _ = reservoir._layout()
        out = np.empty((n_timesteps, self.n_targets_), dtype)
        with single_threaded_blas():
            generate_series(
                out, features, reservoir.input_weights_.astype(dtype),
                reservoir.bias_.astype(dtype), *reservoir._operator(dtype), coef,
                intercept, *reservoir._scalars(dtype), input_col, spike_col,
            )
        if not return_state:
            return out
        return out, features[: reservoir._model["reservoir_dim"]].copy()

    def score(self, X, y, sample_weight=None):
        """:math:`R^2` of :meth:`predict` over all the rows of all the series.

        Parameters
        ----------
        X : array-like of shape (n_timesteps, n_inputs) or list of such arrays
        y : array-like of shape (n_timesteps,) or (n_timesteps, n_targets), \
                or list of such arrays
        sample_weight : array-like of shape (total_timesteps,), default=None

        Returns
        -------
        score : float
            :func:`~sklearn.metrics.r2_score`, averaged over the targets.
        """
        from sklearn.metrics import r2_score

        check_is_fitted(self)
        series, collection = _validate_series(self, X, reset=False)
        truth = self._validate_targets(y, series, collection, dtype=np.float64)
        features, _ = self.reservoir_._run(series, self._start(None))
        return r2_score(np.concatenate(truth), self._readout(features),
                        sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------- helpers

    def _start(self, initial_state):
        if initial_state is None and self.initial_state == "after_fit":
            return self.final_state_
        return initial_state

    def _washout(self, n_timesteps):
        if self.washout == "auto":
            return min(100, n_timesteps // 10)
        if n_timesteps <= self.washout:
            raise ValueError(
                f"A training series has {n_timesteps} time steps, not more than "
                f"washout={self.washout}: nothing would be left to fit the readout."
            )
        return self.washout

    def _validate_targets(self, y, series, collection, dtype=None):
        parts = list(y) if collection and isinstance(y, (list, tuple)) else None
        if collection and (parts is None or len(parts) != len(series)):
            raise ValueError(
                f"X is a list of {len(series)} series, so y must be a list of as "
                "many target series."
            )
        parts = parts if collection else [y]
        for k, part in enumerate(parts):
            _dask.reject(part, type(self).__name__, name=f"y[{k}]" if collection else "y")
        targets = []
        for k, (target, x) in enumerate(zip(parts, series)):
            target = check_array(
                target, ensure_2d=False, dtype=dtype or x.dtype, input_name="y",
                ensure_min_samples=1,
            )
            if target.ndim > 2 or len(target) != len(x):
                name = f"y[{k}]" if collection else "y"
                raise ValueError(
                    f"{name} has {len(target)} time steps (shape {target.shape}), "
                    f"but its input series has {len(x)}: give one target row per step."
                )
            targets.append(target)
        if len({t.shape[1:] for t in targets}) > 1:
            raise ValueError("Every target series must have as many columns.")
        return targets

    def _fit_readout(self, rows, target):
        """The ridge readout, its statistics formed exactly from the features.

        float32 products rounded the Gram by about 1e-7 of its norm, far above
        the default penalty: float32 forecasts were 100x worse than float64 on
        MG 10-step. Chunks of the float32 features are converted to float64
        instead (exact), at most ~64 MB at a time. BLAS runs on one thread, as
        for every concurrent caller, so a fit alone or among others rounds alike.
        """
        from ._readout import RidgeReadout  # sklearn.linear_model: import on use

        readout = RidgeReadout(alpha=self.alpha)
        with single_threaded_blas():
            if rows.dtype == np.float64:
                return readout.fit(rows, target)
            step = 4096 * max(1, (1 << 23) // (4096 * rows.shape[1]))
            for start in range(0, len(rows), step):
                part = rows[start : start + step].astype(np.float64)
                readout.partial_fit(part, target[start : start + step])
        return readout

    def _readout(self, features):
        coef, intercept = self.readout_.coef_, self.readout_.intercept_
        with single_threaded_blas():
            return features @ coef.T.astype(features.dtype) + np.asarray(
                intercept, dtype=features.dtype
            )
