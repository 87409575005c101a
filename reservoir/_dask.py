"""Dask arrays through the reservoir: blockwise features, tree-reduced ridge.

A reservoir feature map is independent per sequence, and the ridge readout
needs only sums of per-block statistics, so a dask array chunked along its
rows is run block by block where the blocks live:

- ``transform`` and ``predict`` map the fitted estimator over the row blocks,
  lazily. The estimator is one key of the graph, so each worker receives the
  weights once and every task on it reuses them.
- the ridge readouts' ``fit`` computes each block's centred statistics
  ``(n, mean, C = sum (x - mean)(x - mean)^T, X^T y likewise)`` in the task that
  computes its features, and merges them pairwise up a tree (Chan's update);
  only the ``(n_features, n_features)`` system is solved on the client. The
  features are never gathered anywhere: communication is one
  ``(n_features + 1)^2`` matrix per block.
- the transformer's ``fit`` streams the leading blocks, in order, through the
  growth rule on the client (each decision depends on the reservoir the
  previous batch left); once the reservoir can no longer grow, the remaining
  blocks only measure activity, in parallel. Without growth
  (``max_reservoir_dim=reservoir_dim``) no block is streamed.

Nothing here imports dask until a dask array arrives (:func:`is_dask_collection`
needs no import), so without dask installed nothing changes.
"""

import copy
import uuid

import numpy as np
from sklearn.utils.validation import check_array


def add_outer(a, x, y, alpha):
    from ._readout import _add_outer  # not at import: sklearn.linear_model is slow

    _add_outer(a, x, y, alpha)


def is_dask_collection(X):
    """Whether ``X`` is a dask collection (array, dataframe, bag, delayed)."""
    return callable(getattr(type(X), "__dask_graph__", None))


def reject(X, where, name="X"):
    """Raise for a dask collection given to an estimator without a dask path,
    instead of letting ``np.asarray`` compute it silently on the client."""
    if is_dask_collection(X):
        raise TypeError(
            f"{where} does not take dask collections ({name} is a "
            f"{type(X).__module__}.{type(X).__name__}); pass an in-memory array "
            f"(call {name}.compute() if it fits in memory)."
        )


def row_blocks(X, name="X"):
    """``X`` as a dask array chunked along its rows only, chunk sizes known."""
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} is a {type(X).__module__}.{type(X).__name__}; of the dask "
            "collections only dask arrays are supported (a dask dataframe "
            "converts with .to_dask_array(lengths=True))."
        )
    if X.ndim not in (1, 2, 3) or (X.ndim == 1 and name == "X"):
        raise ValueError(
            f"Expected a 2-D or 3-D dask array for {name}, got a {X.ndim}-D one of "
            f"shape {X.shape}."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes along its rows; call "
            f"{name}.compute_chunk_sizes() first."
        )
    if any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    return X


def dask_pair(X, y):
    """Whether ``(X, y)`` take the dask path: X is a dask collection."""
    if is_dask_collection(y) and not is_dask_collection(X):
        raise TypeError(
            f"y is a dask collection but X is a {type(X).__name__}; pass X as a "
            "dask array too, or both in memory."
        )
    return is_dask_collection(X)


def aligned_targets(y, X):
    """``y`` as a dask array with the row blocks of ``X`` (in-memory y is
    wrapped, never copied block by block to the client)."""
    import dask.array as da

    if not is_dask_collection(y):
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have different numbers of samples: {X.shape[0]} and "
                f"{y.shape[0] if y.ndim else 'a scalar y'}."
            )
        y = da.from_array(y, chunks=(X.chunks[0],) + y.shape[1:])
    y = row_blocks(y, name="y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and y have different numbers of samples: {X.shape[0]} and {y.shape[0]}."
        )
    if y.chunks[0] != X.chunks[0]:
        y = y.rechunk({0: X.chunks[0]})
    return y


def unique_labels(y):
    """The sorted distinct labels of a dask array (a pass over y only)."""
    import dask.array as da

    return np.unique(da.unique(y).compute())


def meta(X):
    """A one-row in-memory stand-in for ``X``: validating it raises exactly the
    error that in-memory input of the same shape and dtype would raise."""
    return np.zeros((min(1, X.shape[0]),) + X.shape[1:], dtype=X.dtype)


def worker_copy(estimator):
    """A copy for the tasks, every ``n_jobs`` in it set to 1: dask runs the
    tasks in parallel, one per worker thread."""
    shipped = copy.deepcopy(estimator)
    _single_threaded(shipped)
    return shipped


def _single_threaded(estimator):
    # One thread per task, and no progress bars printed by every task.
    quiet = {"n_jobs": 1, "verbose": 0}
    threads = {
        key: quiet[key.rsplit("__", 1)[-1]] for key in estimator.get_params(deep=True)
        if key.rsplit("__", 1)[-1] in quiet
    }
    if threads:
        estimator.set_params(**threads)
    if hasattr(estimator, "reservoir_"):  # fitted part of a meta-estimator
        _single_threaded(estimator.reservoir_)


def _ship(estimator):
    """The estimator as a single key of the graph, sent once to each worker."""
    import dask

    name = f"snlnn-{type(estimator).__name__}-{uuid.uuid4().hex}"
    return dask.delayed(worker_copy(estimator), name=name, traverse=False)


def _call(block, estimator, method):
    return getattr(estimator, method)(block)


def map_rows(estimator, method, X, width, dtype):
    """Lazy ``estimator.method(block)`` on every row block of ``X``; the output
    has ``width`` columns, or is 1-D for ``width=None``."""
    X = row_blocks(X)
    if width is None:
        drop, chunks = list(range(1, X.ndim)), (X.chunks[0],)
    else:
        drop, chunks = list(range(2, X.ndim)), (X.chunks[0], (width,))
    return X.map_blocks(
        _call, _ship(estimator), method, drop_axis=drop, chunks=chunks, dtype=dtype,
        meta=np.empty((0,) * len(chunks), dtype=dtype),
    )


def map_method(estimator, method, X):
    """Lazy ``estimator.method`` over the row blocks of ``X``; one row of zeros
    run first validates X as in-memory input would be and gives the output's
    width and dtype."""
    X = row_blocks(X)
    probe = getattr(estimator, method)(meta(X))
    width = None if probe.ndim == 1 else probe.shape[1]
    return map_rows(estimator, method, X, width, probe.dtype)


def blockwise(estimator, X, method="transform"):
    """Run a fitted estimator lazily on each row block of a dask array.

    The estimators of this package take dask arrays themselves; this is for
    compositions that do not, such as a :class:`~sklearn.pipeline.Pipeline` or
    :class:`~sklearn.pipeline.FeatureUnion` of reservoirs. The estimator is
    copied (with every ``n_jobs`` set to 1: dask supplies the parallelism)
    into a single key of the graph, so each worker receives it once.

    Parameters
    ----------
    estimator : fitted estimator
        Anything whose ``method`` maps rows to rows.
    X : dask array of shape (n_samples, ...)
        Chunked along its rows; other axes are merged into single chunks.
    method : str, default="transform"
        The method to call on each block, e.g. ``"predict"``.

    Returns
    -------
    result : dask array of shape (n_samples,) or (n_samples, n_outputs)
        Lazy, with the row chunks of ``X``; its width and dtype come from
        running ``method`` on one row of zeros first, which also validates
        ``X`` as the in-memory call would.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklearn.pipeline import make_union
    >>> from reservoir import SNLNNTransformer, blockwise
    >>> X = np.random.RandomState(0).rand(100, 12)
    >>> union = make_union(SNLNNTransformer(10, n_steps=3, random_state=0),
    ...                    SNLNNTransformer(10, n_steps=4, random_state=1)).fit(X)
    >>> features = blockwise(union, da.from_array(X, chunks=40))
    >>> features.shape, features.chunks[0]
    ((100, 160), (40, 40, 20))
    >>> np.allclose(features.compute(), union.transform(X))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    return map_method(estimator, method, X)


def lazy_method(estimator, method, X):
    """The dask path of a fitted estimator's prediction method: the lazy
    blockwise result for a dask ``X``, None for in-memory ``X``."""
    if not is_dask_collection(X):
        return None
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    return map_method(estimator, method, X)


def _tree_reduce(parts, combine):
    """Combine delayed ``parts`` pairwise up a binary tree (depth log2 n)."""
    import dask

    combine = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [
            combine(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


def _blocks(X):
    return list(X.to_delayed().ravel())


# ------------------------------------------------------------------ reservoir


def fit_reservoir(reservoir, X):
    """Fit ``reservoir`` (an SNLNNTransformer) on the dask array ``X`` as
    ``fit(X.compute())`` would, up to the rounding of the summed statistics.

    Returns ``(X3, first_parallel, activity)``: ``X`` as (n, n_steps, n_inputs)
    blocks in the fitted dtype, the index of the first block that was not
    streamed through the growth rule, and the activity summed so far. The
    caller measures the remaining blocks (alone, or fused with its readout).
    """
    import dask

    X = row_blocks(X)
    sequences, _ = reservoir._validate_sequences(meta(X), reset=True)
    n_samples = X.shape[0]
    n_steps, n_inputs = sequences.shape[1:]
    X3 = X.reshape(n_samples, n_steps, n_inputs).astype(sequences.dtype)
    reservoir._initialise(n_inputs)

    def checked(block):  # what the in-memory fit checks before it starts
        return reservoir._validate_sequences(block, reset=False)[0]

    if reservoir._model["standardize_input"]:
        steps = X3.reshape(-1, n_inputs)
        mean, std = dask.compute(
            steps.mean(axis=0, dtype=np.float64), steps.std(axis=0, dtype=np.float64)
        )
        reservoir._set_input_scaling(mean, std)
    else:
        reservoir._fit_input_scaling(None, None)
    if reservoir._model["spike_threshold"] == "auto":
        from ._transformer import threshold_sample_rows

        chosen = checked(X3[threshold_sample_rows(n_samples)].compute())
        reservoir._fit_spike_thresholds_on(reservoir._scaled(chosen), None)
    # Growth decides batch by batch on the reservoir the last batch left: the
    # leading blocks stream through it in order, one block on the client at a time.
    activity = np.zeros(3)
    streamed = 0
    while streamed < X3.numblocks[0] and reservoir._can_grow():
        block = reservoir._scaled(checked(X3.blocks[streamed].compute()))
        reservoir._fit_pass(block, None, keep_features=False, stats=activity)
        streamed += 1
    return X3, streamed, activity


def _block_activity(block, reservoir):
    return reservoir._run_block(block, features=False)[1]


def finish_reservoir(reservoir, X3, streamed, activity, measured):
    """Add the activity ``measured`` on the blocks after ``streamed``."""
    activity = activity + measured
    reservoir.n_samples_seen_ += int(sum(X3.chunks[0][streamed:]))
    reservoir._set_activity(activity)


def fit_reservoir_alone(reservoir, X):
    """``SNLNNTransformer.fit`` on a dask array."""
    import dask

    X3, streamed, activity = fit_reservoir(reservoir, X)
    rest = _blocks(X3)[streamed:]
    if rest:
        shipped = _ship(reservoir)
        parts = [dask.delayed(_block_activity)(block, shipped) for block in rest]
        (measured,) = dask.compute(_tree_reduce(parts, np.add))
        finish_reservoir(reservoir, X3, streamed, activity, measured)
    return reservoir


# -------------------------------------------------------------------- readout


def block_statistics(template, features, targets, n_targets, shift):
    """Centred statistics ``(n, x_mean, C, y_mean, Cxy)`` of one block, float64.

    ``targets`` are what ``template._target_chunk`` takes (indices into
    ``classes_`` for the classifier). Accumulated about ``shift``, the one the
    in-memory fit takes from the first chunk of the whole data: with blocks
    that are whole multiples of ``chunk_size`` rows, every chunk's product is
    then the in-memory one, bit for bit, and only the float64 sums differ.
    """
    acc = copy.copy(template)
    acc._reset()
    acc._start_statistics(*shift)
    acc._accumulate(features, targets, n_targets)
    n = acc.n_samples_seen_
    x_offset, y_offset = acc._x_sum / n, acc._y_sum / n
    gram, cross = acc._xtx, acc._xty
    add_outer(gram, acc._x_sum, x_offset, -1.0)
    cross -= np.outer(x_offset, acc._y_sum)
    return (n, acc._x_shift + x_offset, gram, acc._y_shift + y_offset, cross)


def merge_statistics(a, b):
    """Statistics of the union of two blocks (Chan et al.'s pairwise update)."""
    n_a, x_a, gram_a, y_a, cross_a = a
    n_b, x_b, gram_b, y_b, cross_b = b
    n = n_a + n_b
    dx, dy = x_b - x_a, y_b - y_a
    weight = n_a * n_b / n
    gram = gram_a + gram_b
    add_outer(gram, dx, dx, weight)
    cross = cross_a + cross_b + weight * np.outer(dx, dy)
    return (n, x_a + dx * (n_b / n), gram, y_a + dy * (n_b / n), cross)


def load_statistics(readout, stats):
    """Make merged statistics ``readout``'s accumulated state (about the mean),
    from which its own ``_solve`` and later ``partial_fit`` calls go on."""
    n, x_mean, gram, y_mean, cross = stats
    readout._x_shift, readout._y_shift = x_mean, y_mean
    readout._x_sum, readout._y_sum = np.zeros_like(x_mean), np.zeros_like(y_mean)
    readout._xtx, readout._xty = gram, cross
    readout.n_samples_seen_ = n


def current_statistics(readout):
    """``readout``'s accumulated state as centred statistics (a copy)."""
    n = readout.n_samples_seen_
    x_offset, y_offset = readout._x_sum / n, readout._y_sum / n
    gram = readout._xtx.copy()
    add_outer(gram, readout._x_sum, x_offset, -1.0)
    cross = readout._xty - np.outer(x_offset, readout._y_sum)
    return (n, readout._x_shift + x_offset, gram, readout._y_shift + y_offset, cross)


def _clean(readout):
    """A copy of ``readout`` without its accumulated statistics (not shipped)."""
    template = copy.copy(readout)
    template._reset()
    return template


def _targets(template, y_block):
    """One block of y, checked as the in-memory fit checks it."""
    if hasattr(template, "classes_"):
        return template._encode(np.asarray(y_block))
    return check_array(
        y_block, ensure_2d=False, dtype=np.float64, input_name="y"
    )


def _shift_task(block, y_block, template, reservoir, n_targets):
    if reservoir is None:
        features = template._validate_features(block)
    else:
        features = reservoir._run_block(block, features=True)[0]
    return template._shift_of(features, _targets(template, y_block), n_targets)


def _ridge_task(block, y_block, template, n_targets, shift):
    features = template._validate_features(block)
    targets = _targets(template, y_block)
    return block_statistics(template, features, targets, n_targets, shift)


def _pipeline_task(block, y_block, reservoir, template, n_targets, measure, shift):
    features, activity = reservoir._run_block(block, features=True)
    targets = _targets(template, y_block)
    stats = block_statistics(template, features, targets, n_targets, shift)
    return (activity if measure else np.zeros(3)), stats


def _merge_pair(a, b):
    return a[0] + b[0], merge_statistics(a[1], b[1])


def _first_chunk_shift(X, y, chunk_size, template, reservoir, n_targets):
    """The in-memory fit's shift: the means of the first ``chunk_size`` rows
    (their features computed once more, on a worker)."""
    import dask

    step = min(chunk_size, X.shape[0])
    task = dask.delayed(_shift_task)(X[:step], y[:step], template, reservoir, n_targets)
    (shift,) = dask.compute(task)
    return shift


def ridge_statistics(template, X, y, n_targets, shift=None):
    """Merged statistics of the ridge readout ``template`` over dask (X, y),
    about ``shift`` (default: the first chunk's, as a first in-memory fit)."""
    import dask

    shipped = _ship(_clean(template))
    if shift is None:
        shift = _first_chunk_shift(X, y, template.chunk_size, shipped, None, n_targets)
    parts = [
        dask.delayed(_ridge_task)(xb, yb, shipped, n_targets, shift)
        for xb, yb in zip(_blocks(X), _blocks(y))
    ]
    (stats,) = dask.compute(_tree_reduce(parts, merge_statistics))
    return stats


def pipeline_statistics(reservoir, template, X3, y, streamed, n_targets):
    """One pass over the blocks: features, activity after ``streamed`` and the
    readout's statistics, fused in one task per block."""
    import dask

    shipped_reservoir, shipped_template = _ship(reservoir), _ship(_clean(template))
    shift = _first_chunk_shift(X3, y, template.chunk_size, shipped_template,
                               shipped_reservoir, n_targets)
    parts = [
        dask.delayed(_pipeline_task)(
            xb, yb, shipped_reservoir, shipped_template, n_targets, k >= streamed, shift
        )
        for k, (xb, yb) in enumerate(zip(_blocks(X3), _blocks(y)))
    ]
    (result,) = dask.compute(_tree_reduce(parts, _merge_pair))
    return result


def standardized(stats):
    """The statistics of the standardised features, and the scaler's
    (mean, var, scale): StandardScaler's moments are in the statistics."""
    from sklearn.preprocessing._data import _handle_zeros_in_scale, _is_constant_feature

    n, x_mean, gram, y_mean, cross = stats
    var = np.diag(gram) / n
    constant = _is_constant_feature(var, x_mean, n)
    scale = _handle_zeros_in_scale(np.sqrt(var), copy=True, constant_mask=constant)
    gram = gram / np.outer(scale, scale)
    cross = cross / scale[:, None]
    return (n, np.zeros_like(x_mean), gram, y_mean, cross), (x_mean, var, scale)
