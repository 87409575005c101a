"""SNLNNTransformer: the spiking neurogenic reservoir as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._collect import (
    SPIKE_RESETS,
    SUMMARIES,
    WINDOW_SUMMARIES,
    ReservoirOperator,
    collect_states,
    summary_width,
)
from ._blas import single_threaded_blas
from . import _dask
from ._growth import GROWTH_CRITERIA, grown_size, growth_signal
from ._progress import Progress
from ._weights import (
    INPUT_WEIGHTS,
    active_block,
    draw_weights,
    recurrent_scale,
    within_groups,
)


def threshold_sample_rows(n_samples, n_sample=1024):
    """Rows whose states set ``spike_threshold="auto"``: ``n_sample`` spread
    evenly over the whole of X, so that data sorted by class give every class
    a say."""
    return np.unique(np.linspace(0, n_samples - 1, n_sample).astype(np.int64))


def changed_params(recorded, current):
    """Names of ``recorded``'s parameters whose value in ``current`` differs.

    What ``partial_fit`` checks before it continues a model: values compare
    with ``==``, nested dicts (an estimator's ``get_params``) item by item,
    arrays element by element and by shape; values that cannot be compared
    (estimators) must be the same object.
    """
    def same(a, b):
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        try:
            return bool(np.all(a == b)) and np.shape(a) == np.shape(b)
        except (TypeError, ValueError):
            return a is b

    return [name for name, value in recorded.items() if not same(value, current[name])]


def inherit_input_tags(tags, reservoir):
    """Give a meta-estimator's ``tags`` the input tags of its ``reservoir``
    (None: the default SNLNNTransformer), the part that sees X."""
    reservoir = SNLNNTransformer() if reservoir is None else reservoir
    reservoir_input = get_tags(reservoir).input_tags
    tags.input_tags.three_d_array = reservoir_input.three_d_array
    tags.input_tags.allow_nan = reservoir_input.allow_nan
    tags.input_tags.sparse = reservoir_input.sparse
    return tags


def _is_sequence_list(X):
    """Whether X is a collection of 2-D sequences (a list, a tuple or a 1-D
    object array of them), as opposed to one 2-D or 3-D array-like."""
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if not isinstance(X, (list, tuple)):
        return False
    try:
        return len(X) == 0 or np.ndim(X[0]) == 2
    except ValueError:  # a ragged first element: let its check report it
        return True


class SNLNNTransformer(TransformerMixin, BaseEstimator):
    r"""Spiking neurogenic leaky-tanh reservoir as a feature map.

    Each row of ``X`` is one independent sequence of ``n_steps`` time steps,
    run from a zero state. For every step ``t`` and neuron:

    .. math::

        p_t &= W_{in} x_t + W s_{t-1} + b \\
        s_t &= (1 - a)\, s_{t-1} + a \tanh(p_t) \\
        z_t &= [s_t > \theta]

    where :math:`a` is ``leak_rate``, :math:`\theta` is ``spike_threshold``
    and :math:`W` is scaled so that the active reservoir has spectral radius
    ``spectral_radius``. After a spike ``spike_reset`` applies: nothing (the
    default: :math:`z_t` only counts threshold crossings), :math:`s_t
    \leftarrow s_t - \theta` (the original model) or :math:`s_t \leftarrow 0`.
    The output concatenates the requested ``summaries`` of each trajectory:
    the final state :math:`s_T`, the mean state :math:`\frac1T\sum_t s_t`, the
    spike rate :math:`\frac1T\sum_t z_t`, and the last two over each of
    ``n_windows`` parts of the sequence.

    **Neurogenesis.** ``max_reservoir_dim`` neurons are drawn, ``reservoir_dim``
    start active. While fitting, each full batch of ``batch_size`` sequences
    (counted across :meth:`partial_fit` calls, so that streaming and
    :meth:`fit` grow alike) yields one growth decision: its growth signal
    (``growth_criterion``) is compared with ``growth_threshold``, and above it
    ``growth_step`` more neurons become active and the active recurrent matrix
    is rescaled to ``spectral_radius``. A decision takes effect before the next
    sequence is run, so the reservoir never grows after the data it would serve,
    and a final partial batch decides nothing. Every summary block is
    ``max_reservoir_dim`` wide and not-yet-active neurons read 0, so the output
    width never changes when the reservoir grows. The features themselves do
    change: new neurons feed back into the old ones and ``W`` is rescaled, so
    a readout fitted before growth must be refitted after it.

    **Defaults.** They make the transformer a sequence-classification front
    end, chosen on the development suite of seven UCR/UEA sets
    (``benchmarks/tsc.py``): four timescales of 100 neurons, each sequence's
    mean state and its rate of crossings of each neuron's median state (no
    reset) over four windows, standardised inputs. With a ridge readout they
    reach a suite mean of 0.82 (JapaneseVowels 0.99) at the speed of
    MiniRocket, which reaches 0.93. MNIST and the other presets set their own.

    **Batching.** Each row is independent of the others. Results are
    bit-identical for any ``n_jobs`` and any number of concurrent callers, and
    repeated calls give the same output. Across different batchings of the same
    rows (a subset of rows, or ``fit_transform`` against ``fit().transform()``
    after growth) the matrix products round differently with the position of a
    sequence inside its block: float64 agrees to about 1e-13 and float32 to
    about 1e-6, except where such a rounding difference moves a state across
    ``spike_threshold`` (rare in float32, rarer still in float64), which changes
    that neuron's spike count by one (and, with a reset, its state).

    Parameters
    ----------
    reservoir_dim : int, default=400
        Neurons active at the start of fitting.
    max_reservoir_dim : int or None, default=None
        Neurons pre-allocated; growth stops there. ``None`` means
        ``reservoir_dim``: no growth. Set it above ``reservoir_dim`` to let the
        reservoir grow.
    spectral_radius : float, default=0.9
        Largest eigenvalue modulus of the active recurrent matrix.
    leak_rate : float or tuple of float, default=(1.0, 0.3, 0.1, 0.03)
        Leak :math:`a` in (0, 1]; 1 means no memory of the previous state
        other than through ``W``. Several values give several timescales:
        neuron ``j`` leaks at ``leak_rate[j % G]`` and connects only to the
        neurons of its own timescale, so the reservoir is ``G`` independent
        reservoirs of ``reservoir_dim / G`` neurons (each product costs
        ``1 / G`` of a full one).
    spike_threshold : float or "auto", default="auto"
        A neuron spikes when its state exceeds it; then ``spike_reset``
        applies. The state stays inside (-1, 1), so values >= 1 disable
        spikes (as in the original model, threshold 1.0). ``"auto"`` gives
        each neuron its own threshold: the median of its spike-free state over
        up to 1024 sequences spread evenly over the data of the first fit
        (``spike_thresholds_``); it needs ``spike_reset="none"``.
    spike_reset : {"subtract", "zero", "none"}, default="none"
        What a spike does to the state: subtract the threshold (the original
        model), reset it to 0 (as a leaky integrate-and-fire neuron), or
        nothing (``"none"``: spikes are threshold crossings that are only
        read out, the "proportion of positive values" pooling of ROCKET).
    n_steps : int, default=1
        Time steps per row of a 2-D ``X``: its ``n_features`` are split into
        ``n_steps`` equal consecutive steps (28 reads a flattened 28x28 image
        row by row; 1 feeds the whole row as one step). A 3-D ``X`` of shape
        ``(n_samples, n_steps, n_inputs)``, or a list of sequences, brings its
        own steps.
    input_scaling : float or "auto", default="auto"
        Spread of the input weights; ``"auto"`` is ``1 / sqrt(n_inputs_)``, so
        that a standardised input of any width drives each neuron with unit
        variance. With ``input_weights="gaussian"`` each
        input weight has standard deviation ``input_scaling``; with
        ``"receptive_field"`` the ``w = receptive_field`` weights inside a
        neuron's window have standard deviation
        ``input_scaling * sqrt(n_inputs_ / w)`` and the rest are 0, so every
        row has the expected squared norm of a Gaussian row. A number is not
        normalised by the inputs per step: the input part of a pre-activation
        has standard deviation ``input_scaling * ||x_t||``, so wide steps
        saturate (one step of 784 MNIST pixels: 55% of ``|tanh|`` above 0.99 at
        0.5, 0% at ``1 / sqrt(784)``; the original model used 0.1).
    bias_scaling : float, default=0.1
        Standard deviation of the Gaussian bias; 0 gives no bias.
    density : float, default=1.0
        Fraction of non-zero recurrent weights; below 1 the recurrent product
        uses a sparse kernel.
    input_weights : {"gaussian", "receptive_field"}, default="gaussian"
        ``"receptive_field"`` connects each neuron to one random window of
        ``receptive_field`` consecutive inputs of each step.
    receptive_field : int or None, default=None
        Window width, 1 to the inputs per step, for
        ``input_weights="receptive_field"``; ``None`` means
        ``max(1, n_inputs_ // 4)``. A wider window, or any value with
        ``input_weights="gaussian"``, raises ValueError.
    growth_criterion : {"mean_abs_state", "spike_rate"}, default="mean_abs_state"
        Batch statistic that drives growth: the mean absolute state (the
        original rule) or the fraction of neuron-steps with a spike.
    growth_threshold : float, default=0.15
        Grow after a batch whose growth statistic exceeds this value.
    growth_step : int, default=10
        Neurons activated per growth event.
    batch_size : int, default=1000
        Sequences per growth decision while fitting.
    summaries : tuple of str, default=("window_mean", "window_spike_rate")
        Trajectory summaries to output, in this order: ``"final"`` (the last
        state), ``"mean"`` (the mean state), ``"spike_rate"`` (spikes per
        step), each ``max_reservoir_dim`` wide, and the time-resolved
        ``"window_mean"`` and ``"window_spike_rate"``, the same over each of
        ``n_windows`` consecutive parts of the sequence, ``n_windows *
        max_reservoir_dim`` wide. The means and rates are normalised by the
        sequence's own length (or its window's), so sequences of different
        lengths are comparable.
    n_windows : int, default=4
        Parts of equal length for the window summaries: step ``t`` of a
        sequence of ``T`` steps is in window ``floor(n_windows * t / T)``; a
        sequence shorter than ``n_windows`` repeats its last window's values in
        the windows it cannot fill (each empty window repeats the one before
        it: a 2-step sequence in 4 windows gives windows 0, 0, 1, 1).
    standardize_input : bool, default=True
        Standardise each input channel with the mean and standard deviation of
        every step seen in the first fit (``input_mean_``, ``input_scale_``),
        so that ``input_scaling`` means the same for any data. Turn it off for
        inputs with a meaning of their own, such as pixel intensities.
    n_jobs : int or None, default=None
        Threads over chunks of sequences (``None`` means 1, ``-1`` all cores;
        0 is invalid). Results do not depend on it. BLAS runs on one thread
        inside every collection (its rounding depends on its thread count), so
        ``n_jobs`` is how a call uses more cores. Any input is cut into an even
        number of equal chunks (up to 512-2048 sequences each, chosen by dtype
        and size; 1024 of one step) of at least 32 sequences, so that
        ``n_jobs=2`` helps small inputs too; 32 sequences or fewer run as one
        chunk.
    verbose : int, default=0
        Print progress of long fits and transforms to stderr.
    random_state : int, RandomState instance or None, default=None
        Seeds every weight draw; the same value gives the same output.

    Attributes
    ----------
    n_features_in_ : int
        Features per row seen in fit (``n_steps_ * n_inputs_``); for a list of
        sequences, ``n_inputs_``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.
    n_steps_ : int or None
        Time steps per sequence; None when fitted on a list of sequences,
        which may have any lengths (then ``transform`` takes lists and 3-D
        arrays of any length).
    n_inputs_ : int
        Inputs per time step.
    max_reservoir_dim_ : int
        Resolved ``max_reservoir_dim``.
    reservoir_size_ : int
        Active neurons after fitting (growth included).
    growth_history_ : ndarray of shape (n_growth_events, 2)
        For each growth event, the sequences seen so far and the new size.
    spike_rate_ : float
        Fraction of neuron-steps that spiked, over the sequences that the final
        reservoir ran in the last ``fit`` / ``partial_fit`` call (those after
        its last growth event): the rate of the fitted reservoir.
    mean_abs_state_ : float
        Mean absolute state over the same sequences.
    n_samples_seen_ : int
        Sequences seen by ``fit`` / ``partial_fit``.
    input_weights_ : ndarray of shape (``max_reservoir_dim_``, ``n_inputs_``)
    bias_ : ndarray of shape (``max_reservoir_dim_``,)
    recurrent_weights_ : ndarray or CSR matrix of shape (``max_reservoir_dim_``,) * 2
        Unscaled recurrent draw; see :meth:`active_recurrent_weights`.
    leak_rates_ : ndarray of shape (``max_reservoir_dim_``,)
        Leak rate of each neuron (``leak_rate[j % G]``).
    spike_thresholds_ : ndarray of shape (``max_reservoir_dim_``,)
        Spike threshold of each neuron (``spike_threshold``, or the fitted
        medians for ``"auto"``).
    input_mean_, input_scale_ : ndarray of shape (``n_inputs_``,) or None
        The standardisation of the inputs (``standardize_input``), else None.
    recurrent_scale_ : float
        Factor that gives the active block ``spectral_radius``; NaN when
        ``n_steps_ == 1``, since one step never uses ``W`` and its eigen-solve
        is skipped (:meth:`active_recurrent_weights` still scales it).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from reservoir import SNLNNTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> snlnn = SNLNNTransformer(reservoir_dim=50, n_steps=8, random_state=0)
    >>> features = snlnn.fit_transform(X / 16)
    >>> features.shape  # 50 neurons x 4 windows x (mean state, crossing rate)
    (1797, 400)
    >>> snlnn.reservoir_size_ >= 50
    True
    """

    _parameter_constraints: dict = {
        "reservoir_dim": [Interval(Integral, 1, None, closed="left")],
        "max_reservoir_dim": [Interval(Integral, 1, None, closed="left"), None],
        "spectral_radius": [Interval(Real, 0, None, closed="neither")],
        "leak_rate": [Interval(Real, 0, 1, closed="right"), tuple, list],
        "spike_threshold": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "standardize_input": ["boolean"],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "input_scaling": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "bias_scaling": [Interval(Real, 0, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="right")],
        "input_weights": [StrOptions(set(INPUT_WEIGHTS))],
        "receptive_field": [Interval(Integral, 1, None, closed="left"), None],
        "growth_criterion": [StrOptions(set(GROWTH_CRITERIA))],
        "growth_threshold": [Interval(Real, 0, None, closed="left")],
        "growth_step": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "summaries": [tuple, list],
        "n_windows": [Interval(Integral, 1, None, closed="left")],
        "spike_reset": [StrOptions(set(SPIKE_RESETS))],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        reservoir_dim=400,
        *,
        max_reservoir_dim=None,
        spectral_radius=0.9,
        leak_rate=(1.0, 0.3, 0.1, 0.03),
        spike_threshold="auto",
        n_steps=1,
        input_scaling="auto",
        bias_scaling=0.1,
        density=1.0,
        input_weights="gaussian",
        receptive_field=None,
        growth_criterion="mean_abs_state",
        growth_threshold=0.15,
        growth_step=10,
        batch_size=1000,
        summaries=("window_mean", "window_spike_rate"),
        n_windows=4,
        spike_reset="none",
        standardize_input=True,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        self.reservoir_dim = reservoir_dim
        self.max_reservoir_dim = max_reservoir_dim
        self.spectral_radius = spectral_radius
        self.leak_rate = leak_rate
        self.spike_threshold = spike_threshold
        self.n_steps = n_steps
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.density = density
        self.input_weights = input_weights
        self.receptive_field = receptive_field
        self.growth_criterion = growth_criterion
        self.growth_threshold = growth_threshold
        self.growth_step = growth_step
        self.batch_size = batch_size
        self.summaries = summaries
        self.n_windows = n_windows
        self.spike_reset = spike_reset
        self.standardize_input = standardize_input
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the reservoir and let it grow on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_steps, n_inputs), \
                or list of n_samples arrays of shape (n_steps_i, n_inputs)
            Sequences, one per row, channels last; a list may hold sequences of
            different lengths, each run for exactly its own steps.
        y : None
            Ignored.

        Returns
        -------
        self : SNLNNTransformer
        """
        self._fit_from_scratch(X, keep_features=False)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on ``X`` and return its features, without a second full pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_steps, n_inputs), \
                or list of n_samples arrays of shape (n_steps_i, n_inputs)
            Sequences, one per row, channels last; a list may hold sequences of
            different lengths, each run for exactly its own steps.
        y : None
            Ignored.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            Equal to ``fit(X).transform(X)`` (to the rounding stated under
            *Batching*): sequences seen before the last growth event are
            recomputed with the final reservoir, the others are not.
        """
        return self._fit_from_scratch(X, keep_features=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Continue fitting (and growing) on another part of the data.

        The first call draws the reservoir as :meth:`fit` does; later calls
        keep the weights and the active size and may grow it further, with one
        growth decision per ``batch_size`` sequences counted across calls. The
        parameters that define the model are fixed by the first call: changing
        one of them with ``set_params`` before another call raises ValueError
        (call :meth:`fit` to start again); ``n_jobs`` and ``verbose`` may change.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_steps, n_inputs), \
                or list of n_samples arrays of shape (n_steps_i, n_inputs)
            Sequences, one per row, channels last; a list may hold sequences of
            different lengths, each run for exactly its own steps.
        y : None
            Ignored.

        Returns
        -------
        self : SNLNNTransformer
        """
        if _dask.is_dask_collection(X):
            # The blocks in order, each on the client in turn: as many calls.
            X = _dask.row_blocks(X)
            for k in range(X.numblocks[0]):
                self.partial_fit(X.blocks[k].compute())
            return self
        first_call = not hasattr(self, "recurrent_weights_")
        if not first_call:
            self._check_model_params_unchanged()
        if first_call:
            self._fit_from_scratch(X, keep_features=False)
        else:
            sequences, lengths = self._validate_sequences(X, reset=False)
            self._fit_pass(
                self._scaled(sequences, own=lengths is not None), lengths,
                keep_features=False,
            )
        return self

    def transform(self, X):
        """Run every sequence through the fitted reservoir and summarise it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_steps, n_inputs), \
                or list of n_samples arrays of shape (n_steps_i, n_inputs)
            Sequences, one per row, channels last; float32 input gives float32
            output.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
            Computed with the parameters of the last ``fit``: changing one with
            ``set_params`` takes effect at the next ``fit``, as for every
            scikit-learn estimator.
        """
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            X = _dask.row_blocks(X)
            sequences, _ = self._validate_sequences(_dask.meta(X), reset=False)
            model = self._model
            width = summary_width(
                model["summaries"], self.max_reservoir_dim_, model["n_windows"]
            )
            return _dask.map_rows(self, "transform", X, width, sequences.dtype)
        sequences, lengths = self._validate_sequences(X, reset=False)
        sequences = self._scaled(sequences, own=lengths is not None)
        features, _, _ = self._collect(
            sequences, lengths, label="transform", activity=False
        )
        return features

    def get_feature_names_out(self, input_features=None):
        """Names ``{summary}{neuron}`` (``final0``, ``mean0``, ``spike_rate0``) and
        ``{summary}{window}_{neuron}`` (``window_mean0_0``, ``window_spike_rate3_7``).

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
        units = range(self.max_reservoir_dim_)
        names = []
        for summary in self._model["summaries"]:
            if summary in WINDOW_SUMMARIES:
                windows = range(self._model["n_windows"])
                names += [f"{summary}{k}_{i}" for k in windows for i in units]
            else:
                names += [f"{summary}{i}" for i in units]
        return np.asarray(names, dtype=object)

    def active_recurrent_weights(self):
        """The scaled recurrent matrix among the active neurons.

        Returns
        -------
        weights : ndarray or CSR matrix of shape (``reservoir_size_``, ``reservoir_size_``)
            Its spectral radius is ``spectral_radius``, except for a nilpotent
            block (a sparse draw with no directed cycle, see
            :func:`reservoir._weights.recurrent_scale`), whose radius is 0
            whatever the scale: fitting it warns and names ``density``.
        """
        check_is_fitted(self)
        block = active_block(self.recurrent_weights_, self.reservoir_size_)
        scale = self.recurrent_scale_
        return block * (self._recurrent_scale() if np.isnan(scale) else scale)

    # Parameters that change results only through fit; the others do not
    # change results at all.
    _RUNTIME_PARAMS = ("n_jobs", "verbose")

    def _check_model_params_unchanged(self):
        current = self.get_params(deep=False)
        current["summaries"] = tuple(current["summaries"])
        if isinstance(current["leak_rate"], list):
            current["leak_rate"] = tuple(current["leak_rate"])
        changed = changed_params(self._model, current)
        if changed:
            listed = ", ".join(f"{k} {self._model[k]!r} -> {current[k]!r}" for k in changed)
            raise ValueError(
                f"partial_fit continues the model drawn by the first call, but its "
                f"parameters changed since: {listed}. Call fit to start again with "
                "the new values."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------- helpers

    # Fitted state that is not a public ``*_`` attribute.
    _PRIVATE_STATE = ("_model", "_seed", "_batch", "_grow_next")

    def _fit_from_scratch(self, X, keep_features):
        """Validate, draw and run one fit pass; a failure leaves no fitted state.

        Without that, an error raised half-way (a parameter checked against the
        data) would leave the attributes of the new data beside the weights of
        the old fit, and ``transform`` would compute garbage.
        """
        try:
            if _dask.is_dask_collection(X):
                _dask.fit_reservoir_alone(self, X)
                return self.transform(X) if keep_features else None
            sequences, lengths = self._validate_sequences(X, reset=True)
            self._initialise(sequences.shape[2])
            self._fit_input_scaling(sequences, lengths)
            sequences = self._scaled(sequences, own=lengths is not None)
            self._fit_spike_thresholds(sequences, lengths)
            return self._fit_pass(sequences, lengths, keep_features)
        except BaseException:
            for name in list(vars(self)):
                if name.endswith("_") or name in self._PRIVATE_STATE:
                    delattr(self, name)
            raise

    def _validate_sequences(self, X, reset):
        """Validated ``X`` as a (n_samples, n_steps, n_inputs) view."""
        dtype = [np.float64, np.float32]
        if _is_sequence_list(X):
            return self._validate_sequence_list(X, reset)
        if getattr(X, "ndim", None) == 3 and not sp.issparse(X):
            X = check_array(X, allow_nd=True, dtype=dtype, input_name="X")
            n_samples, n_steps, n_inputs = X.shape
            if n_steps == 0 or n_inputs == 0:
                raise ValueError(
                    f"X has shape {X.shape}: sequences need at least one step of "
                    "at least one input."
                )
            if reset and self.n_steps not in (1, n_steps):
                raise ValueError(
                    f"X is 3-D with {n_steps} time steps, but n_steps={self.n_steps}; "
                    "a 3-D X brings its own steps (leave n_steps=1)."
                )
            if not reset and self.n_steps_ is None and n_inputs == self.n_inputs_:
                # Fitted on sequences of any length: a 3-D X is one more such set.
                X = check_array(X, allow_nd=True, dtype=dtype, input_name="X")
                return X, None
            if not reset and self.n_steps_ is None:
                raise ValueError(
                    f"X has {n_inputs} inputs per step, but {type(self).__name__} was "
                    f"fitted on {self.n_inputs_}."
                )
            if not reset and (n_steps, n_inputs) != (self.n_steps_, self.n_inputs_):
                raise ValueError(
                    f"X has {n_steps} steps of {n_inputs} inputs, but "
                    f"{type(self).__name__} was fitted on {self.n_steps_} steps of "
                    f"{self.n_inputs_} inputs."
                )
            flat = validate_data(self, X.reshape(n_samples, -1), reset=reset, dtype=dtype)
            if reset:
                self.n_steps_ = n_steps
            return flat.reshape(X.shape), None
        if not reset and self.n_steps_ is None:
            raise ValueError(
                f"{type(self).__name__} was fitted on sequences of different lengths; "
                "pass a list of 2-D arrays (n_steps_i, n_inputs) or a 3-D array, "
                "not a 2-D X."
            )
        X = validate_data(self, X, reset=reset, dtype=dtype)
        if reset:
            if X.shape[1] % self.n_steps:
                raise ValueError(
                    f"X has {X.shape[1]} features, which cannot be split into "
                    f"n_steps={self.n_steps} equal time steps."
                )
            self.n_steps_ = self.n_steps
        return X.reshape(X.shape[0], self.n_steps_, -1), None

    def _validate_sequence_list(self, X, reset):
        """A list of 2-D sequences of any lengths as (padded 3-D array, lengths)."""
        if len(X) == 0:
            raise ValueError("X is an empty list: at least one sequence is needed.")
        parts = []
        for i, part in enumerate(X):
            _dask.reject(part, f"A list of sequences given to {type(self).__name__}",
                         name=f"X[{i}]")
            if getattr(part, "ndim", None) is None and not isinstance(part, (list, tuple)):
                raise ValueError(
                    f"X[{i}] is a {type(part).__name__}; each sequence must be a 2-D "
                    "array of shape (n_steps_i, n_inputs)."
                )
            if np.ndim(part) != 2:
                raise ValueError(
                    f"X[{i}] has {np.ndim(part)} dimensions; each sequence in a list "
                    "must be 2-D, (n_steps_i, n_inputs) (channels last)."
                )
            # Light checks per sequence (check_array costs 0.2 ms each); the
            # finiteness of all of them is checked at once below.
            try:
                array = np.asarray(part)
                if array.dtype.kind not in "fiub":
                    raise ValueError(f"dtype {array.dtype} is not a real number type")
                if array.dtype not in (np.float32, np.float64):
                    array = array.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"X[{i}] could not be read as numbers: {exc}") from exc
            if array.shape[0] == 0 or array.shape[1] == 0:
                raise ValueError(
                    f"X[{i}] has shape {array.shape}: each sequence needs at least one "
                    "step of at least one input."
                )
            if not np.isfinite(array).all():
                kind = "NaN" if np.isnan(array).any() else "infinity"
                raise ValueError(f"X[{i}] contains {kind}; sequences must be finite.")
            parts.append(array)
        widths = {p.shape[1] for p in parts}
        if len(widths) > 1:
            raise ValueError(
                f"the sequences of X have different numbers of inputs per step: "
                f"{sorted(widths)}; all must have the same."
            )
        n_inputs = widths.pop()
        if not reset and n_inputs != self.n_inputs_:
            raise ValueError(
                f"X has {n_inputs} inputs per step, but {type(self).__name__} was "
                f"fitted on {self.n_inputs_}."
            )
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        dtype = np.result_type(*(p.dtype for p in parts))
        padded = np.zeros((len(parts), lengths.max(), n_inputs), dtype=dtype)
        for row, part in zip(padded, parts):
            row[: len(part)] = part
        if reset:
            if self.n_steps != 1:
                raise ValueError(
                    f"X is a list of sequences, which bring their own steps, but "
                    f"n_steps={self.n_steps}; leave n_steps=1."
                )
            self.n_steps_ = None
            self.n_features_in_ = n_inputs
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return padded, lengths

    def _initialise(self, n_inputs):
        """Check parameters against each other and draw all random weights."""
        max_dim = (
            self.reservoir_dim
            if self.max_reservoir_dim is None
            else self.max_reservoir_dim
        )
        if max_dim < self.reservoir_dim:
            raise ValueError(
                f"max_reservoir_dim={self.max_reservoir_dim} must be >= "
                f"reservoir_dim={self.reservoir_dim}."
            )
        summaries = self.summaries
        unknown = [s for s in summaries if s not in SUMMARIES]
        if not summaries or unknown or len(set(summaries)) != len(summaries):
            raise ValueError(
                f"summaries must be a non-empty tuple of distinct names from "
                f"{SUMMARIES}; got {summaries!r}."
            )
        self._model = {
            name: value
            for name, value in self.get_params(deep=False).items()
            if name not in self._RUNTIME_PARAMS
        }
        self._model["summaries"] = tuple(summaries)
        if self.spike_threshold == "auto" and self.spike_reset != "none":
            raise ValueError(
                f'spike_threshold="auto" puts each threshold at the neuron\'s median '
                f"state, which can be negative, so a reset would push the state out "
                f'of (-1, 1); it needs spike_reset="none" (got {self.spike_reset!r}).'
            )
        try:
            leaks = np.atleast_1d(np.asarray(self.leak_rate, dtype=float))
        except (TypeError, ValueError):
            leaks = np.array([np.nan])
        if leaks.ndim > 1 or leaks.size == 0 or not np.all((leaks > 0) & (leaks <= 1)):
            raise ValueError(
                f"leak_rate must be a float in (0, 1] or a non-empty tuple of them; "
                f"got {self.leak_rate!r}."
            )
        if isinstance(self.leak_rate, (tuple, list)):
            self._model["leak_rate"] = tuple(self.leak_rate)
        self.n_inputs_ = n_inputs
        self.max_reservoir_dim_ = max_dim
        self._seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        self.input_weights_, self.bias_, self.recurrent_weights_ = draw_weights(
            self._seed,
            n_inputs,
            max_dim,
            input_scaling=(
                1.0 / np.sqrt(n_inputs)
                if self.input_scaling == "auto"
                else self.input_scaling
            ),
            bias_scaling=self.bias_scaling,
            density=self.density,
            input_weights=self.input_weights,
            receptive_field=self.receptive_field,
        )
        # Timescales: neuron j leaks at leaks[j % G] and is connected only to
        # neurons of its own timescale, so that G timescales are G independent
        # reservoirs interleaved in one pool (sizes within one of each other).
        groups = len(leaks)
        self.leak_rates_ = leaks[np.arange(max_dim) % groups]
        if groups > 1:
            self.recurrent_weights_ = within_groups(self.recurrent_weights_, groups)
        self.spike_thresholds_ = np.full(
            max_dim, np.nan if self.spike_threshold == "auto" else self.spike_threshold
        )
        self.growth_history_ = np.empty((0, 2), dtype=np.int64)
        self.n_samples_seen_ = 0
        # The batch being filled for the next growth decision: sequences in it,
        # sum of their mean |s|, spikes, neuron-steps; and a decision made at
        # the end of a full batch, applied before the next sequence runs.
        self._batch = [0, 0.0, 0.0, 0.0]
        self._grow_next = False
        self._activate(self.reservoir_dim)

    def _activate(self, n_active):
        """Make the first ``n_active`` neurons active, rescaling ``W``."""
        self.reservoir_size_ = n_active
        # One step never uses W: its eigen-solve (seconds at thousands of
        # neurons) waits until active_recurrent_weights() asks for it.
        self.recurrent_scale_ = self._recurrent_scale() if self.n_steps_ != 1 else np.nan

    def _recurrent_scale(self, n_active=None):
        n_active = self.reservoir_size_ if n_active is None else n_active
        block = active_block(self.recurrent_weights_, n_active)
        key = (self._seed, self.max_reservoir_dim_, self._model["density"], n_active,
               len(np.ravel(self._model["leak_rate"])))
        return recurrent_scale(self._model["spectral_radius"], block, key)

    def _fit_input_scaling(self, sequences, lengths):
        """Per-input mean and standard deviation over every step seen in fit."""
        if not self._model["standardize_input"]:
            self.input_mean_ = self.input_scale_ = None
            return
        steps = (
            sequences.reshape(-1, sequences.shape[2])
            if lengths is None
            else sequences[np.arange(sequences.shape[1])[None, :] < lengths[:, None]]
        )
        self._set_input_scaling(
            steps.mean(axis=0, dtype=np.float64), steps.std(axis=0, dtype=np.float64)
        )

    def _set_input_scaling(self, mean, scale):
        """Store the per-input statistics (float64), however they were computed."""
        self.input_mean_ = mean
        # A constant input stays constant (0): its float64 std is rounding
        # noise, not exactly 0, and dividing by it would blow up later inputs.
        constant = scale < 10 * np.finfo(np.float64).eps * np.maximum(
            np.abs(self.input_mean_), 1.0
        )
        scale[constant] = 1.0
        self.input_scale_ = scale

    def _scaled(self, sequences, own=False):
        """``sequences`` standardised with the fitted statistics: a new array, or
        in place when ``own`` (the padded copy made from a list)."""
        if getattr(self, "input_mean_", None) is None:
            return sequences
        dtype = sequences.dtype
        out = sequences if own else None
        out = np.subtract(sequences, self.input_mean_.astype(dtype), out=out)
        out /= self.input_scale_.astype(dtype)
        return out

    def _fit_spike_thresholds(self, sequences, lengths, n_sample=1024, n_states=20000):
        """``spike_threshold="auto"``: each neuron's median state in spike-free
        runs of ``n_sample`` sequences spread evenly over ``X``, over about
        ``n_states`` steps sampled evenly, with the whole pool active (so that
        neurons activated by growth later have theirs too)."""
        if self._model["spike_threshold"] != "auto":
            return
        rows = threshold_sample_rows(len(sequences), n_sample)
        if lengths is None:
            self._fit_spike_thresholds_on(sequences[rows], None, n_states)
        else:  # one copy, longest first, no padding beyond the longest
            rows = rows[np.argsort(-lengths[rows], kind="stable")]
            self._fit_spike_thresholds_on(
                sequences[rows, : lengths[rows[0]]], lengths[rows], n_states
            )

    def _fit_spike_thresholds_on(self, chosen, lengths, n_states=20000):
        """The thresholds from ``chosen`` (scaled sequences, the rows picked by
        :func:`threshold_sample_rows`), run for their own longest one only."""
        n = self.max_reservoir_dim_
        part_lengths = (
            np.full(len(chosen), chosen.shape[1]) if lengths is None else lengths
        )
        order = np.argsort(-part_lengths, kind="stable")
        if np.any(order != np.arange(len(order))):
            chosen, part_lengths = chosen[order], part_lengths[order]
        part = chosen[:, : part_lengths[0]]
        dtype = part.dtype
        # One step never reaches W (the state starts at 0): skip its eigen-solve.
        scale = self._recurrent_scale(n) if part.shape[1] > 1 else 1.0
        operator = ReservoirOperator(
            self.input_weights_, self.bias_, self.recurrent_weights_, dtype, scale,
            groups=len(np.ravel(self._model["leak_rate"])),
        )
        every = max(1, int(part_lengths.sum()) // n_states)
        samples = []

        def sample(t, state):
            if t % every == 0:
                samples.append(state.T.copy())

        leak = self.leak_rates_.astype(dtype)
        with single_threaded_blas():
            operator.run_chunk(
                part, dtype.type(1) - leak, leak, np.full(n, np.inf, dtype),
                SPIKE_RESETS["none"], part_lengths, None, on_step=sample,
                track_sum=False, track_spikes=False, activity=False,
            )
        self.spike_thresholds_ = np.median(np.concatenate(samples), axis=0)

    def _operator(self, dtype, n_steps):
        n = self.reservoir_size_
        if n_steps == 1:  # one-step sequences never use W: skip its copy
            return ReservoirOperator(
                self.input_weights_[:n], self.bias_[:n], None, dtype
            )
        scale = self.recurrent_scale_
        if np.isnan(scale):  # fitted on one step, now given longer sequences
            scale = self._recurrent_scale()
        return ReservoirOperator(
            self.input_weights_[:n], self.bias_[:n],
            active_block(self.recurrent_weights_, n), dtype, scale,
            groups=len(np.ravel(self._model["leak_rate"])),
        )

    def _collect(self, sequences, lengths, label, out=None, summaries=None,
                 progress=None, activity=True):
        if progress is None:
            progress = self._progress(len(sequences), label)
        model = self._model
        return collect_states(
            self._operator(sequences.dtype, sequences.shape[1]),
            sequences,
            leak_rate=self.leak_rates_[: self.reservoir_size_],
            spike_threshold=self.spike_thresholds_[: self.reservoir_size_],
            summaries=model["summaries"] if summaries is None else summaries,
            n_units_out=self.max_reservoir_dim_,
            lengths=lengths,
            spike_reset=model["spike_reset"],
            n_windows=model["n_windows"],
            n_jobs=effective_n_jobs(self.n_jobs),
            out=out,
            progress=progress,
            activity=activity,
        )

    def _progress(self, total, label):
        return Progress(
            total,
            f"{type(self).__name__}({self.reservoir_size_} units) {label}",
            enabled=bool(self.verbose),
        )

    def _fit_pass(self, sequences, lengths, keep_features, stats=None):
        """One pass over ``sequences``: measure, decide growth, maybe keep features.

        Without ``keep_features`` nothing but statistics is written (no output
        array at all), so ``fit`` costs the state collection and chunk buffers.
        ``stats`` carries the activity statistics over several passes (the
        blocks of a dask array), reset in place at each growth event.
        """
        n_samples, n_steps = sequences.shape[:2]
        model = self._model
        width = summary_width(model["summaries"], self.max_reservoir_dim_, model["n_windows"])
        features = (
            np.zeros((n_samples, width), dtype=sequences.dtype) if keep_features else None
        )
        # Rows before `stale` were computed by a reservoir that has since grown;
        # `stats` covers the rows after it, run by the final reservoir.
        stale = 0
        if stats is None:
            stats = np.zeros(3)  # see _activity
        progress = self._progress(n_samples, "fit")
        start = 0
        while start < n_samples:
            if self._grow_next:
                self._grow_next = False
                self._activate(
                    grown_size(
                        self.reservoir_size_, model["growth_step"], self.max_reservoir_dim_
                    )
                )
                event = [[self.n_samples_seen_, self.reservoir_size_]]
                self.growth_history_ = np.vstack([self.growth_history_, event])
                stale = start
                stats[:] = 0.0
            can_grow = self.reservoir_size_ < self.max_reservoir_dim_
            # Up to the end of the batch being filled; once growth is impossible
            # the rest is one call (better threading, no decisions to make).
            stop = (
                min(start + model["batch_size"] - self._batch[0], n_samples)
                if can_grow
                else n_samples
            )
            part = sequences[start:stop]
            part_lengths = None if lengths is None else lengths[start:stop]
            if features is None:
                _, mean_abs, spikes = self._collect(
                    part, part_lengths, "fit", summaries=(), progress=progress
                )
            else:
                _, mean_abs, spikes = self._collect(
                    part, part_lengths, "fit", out=features[start:stop],
                    progress=progress,
                )
            count = stop - start
            activity = self._activity(mean_abs, spikes, n_steps, part_lengths)
            stats += activity
            self.n_samples_seen_ += count
            if can_grow:
                batch = self._batch
                batch[0] += count
                batch[1] += float(mean_abs.sum(dtype=np.float64))
                batch[2] += spikes
                batch[3] += activity[2]
                if batch[0] == model["batch_size"]:
                    signal = growth_signal(
                        model["growth_criterion"],
                        mean_abs_state=batch[1] / batch[0],
                        spike_rate=batch[2] / batch[3],
                    )
                    self._grow_next = signal > model["growth_threshold"]
                    self._batch = [0, 0.0, 0.0, 0.0]
            start = stop
        self._set_activity(stats)
        if features is not None and stale:
            features[:stale] = 0.0
            self._collect(
                sequences[:stale], None if lengths is None else lengths[:stale],
                "fit (after growth)", out=features[:stale], activity=False,
            )
        return features

    def _activity(self, mean_abs, spikes, n_steps, lengths):
        """(sum of mean |s| over neuron-steps, spikes, neuron-steps) of one run."""
        steps = np.full(len(mean_abs), n_steps) if lengths is None else lengths
        n = float(self.reservoir_size_)
        return np.array([
            n * float(np.dot(mean_abs.astype(np.float64), steps)),
            float(spikes),
            n * float(steps.sum()),
        ])

    def _set_activity(self, stats):
        self.mean_abs_state_ = stats[0] / stats[2]
        self.spike_rate_ = stats[1] / stats[2]

    def _can_grow(self):
        return self._grow_next or self.reservoir_size_ < self.max_reservoir_dim_

    def _run_block(self, X, features=True):
        """Features (or None) and activity of one block of data, validated as
        ``transform`` validates: the task that a dask worker runs."""
        sequences, lengths = self._validate_sequences(X, reset=False)
        sequences = self._scaled(sequences, own=lengths is not None)
        out, mean_abs, spikes = self._collect(
            sequences, lengths, "block", summaries=None if features else ()
        )
        return (out if features else None), self._activity(
            mean_abs, spikes, sequences.shape[1], lengths
        )
