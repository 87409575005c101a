"""Task-driven growth: reservoirs that size themselves on a held-out score.

:class:`AutoSizeClassifier` and :class:`AutoSizeRegressor` grow a reservoir in
blocks, each block an independent sub-reservoir (a clone of a template
:class:`~reservoir.SNLNNTransformer` with a seed of its own), while a held-out
score of a ridge readout improves, and stop at a plateau. Because a new block
neither feeds back into the old ones nor rescales them, every feature already
computed stays valid: the readout's sufficient statistics (``X^T X``,
``X^T y``) extend by a block, and so does the Cholesky factor of the
regularised Gram, so a growth step costs the new block's states, its cross
products with the old features and an ``O(d^2 b)`` factor update, never a
recomputation. A block-diagonal recurrent matrix whose blocks each have
spectral radius ``rho`` has spectral radius exactly ``rho``: the guarantee of
the active reservoir holds at every size.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._block_ridge import (
    _Columns,
    _cross,
    _feature_scale,
    _IncrementalRidge,
    _new_gram_columns,
    _ridge_from_statistics,
    _Statistics,
)
from . import _dask
from ._labels import check_classes, check_targets, class_indices
from ._transformer import SNLNNTransformer, changed_params, inherit_input_tags

__all__ = ["AutoSizeClassifier", "AutoSizeRegressor"]

_MAX_SEED = np.iinfo(np.int32).max
STOP_REASONS = ("plateau", "max_blocks")


def block_seed(base_seed, index):
    """Seed of block ``index``: a function of the two alone, so that the blocks
    of a model do not depend on how many were drawn before or in which call."""
    state = np.random.SeedSequence([int(base_seed), int(index)]).generate_state(1)
    return int(state[0] % _MAX_SEED)


class _AutoSizeBase(BaseEstimator):
    """Growth in blocks on a held-out score, shared by the two estimators."""

    _parameter_constraints: dict = {
        "reservoir": [SNLNNTransformer, None],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "initial_blocks": [Interval(Integral, 1, None, closed="left")],
        "growth_rate": [Interval(Real, 0, None, closed="left")],
        "max_blocks": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "drift_tol": [Interval(Real, 0, None, closed="left")],
        "drift_window": [Interval(Integral, 1, None, closed="left")],
        "drift_blocks": [Interval(Integral, 1, None, closed="left")],
        "memory_size": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        reservoir=None,
        *,
        block_size=100,
        initial_blocks=1,
        growth_rate=0.25,
        max_blocks=10,
        validation_fraction=0.1,
        n_iter_no_change=2,
        tol=1e-3,
        alpha=1.0,
        drift_tol=0.05,
        drift_window=3,
        drift_blocks=1,
        memory_size=1000,
        random_state=None,
    ):
        self.reservoir = reservoir
        self.block_size = block_size
        self.initial_blocks = initial_blocks
        self.growth_rate = growth_rate
        self.max_blocks = max_blocks
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.alpha = alpha
        self.drift_tol = drift_tol
        self.drift_window = drift_window
        self.drift_blocks = drift_blocks
        self.memory_size = memory_size
        self.random_state = random_state

    # ------------------------------------------------------------ helpers

    # Fitted state that is not a public ``*_`` attribute: the readout's
    # statistics, kept so that partial_fit can continue a model.
    _PRIVATE_STATE = (
        "_stats", "_x_shift", "_y_shift", "_base_seed", "_recent", "_block_widths",
        "_memory", "_memory_targets", "_memory_is_list", "_model",
    )
    # What the fitted blocks were drawn from: partial_fit refuses a change of
    # these. The others steer growth and the solve, and act from the next call.
    _MODEL_PARAMS = ("reservoir", "block_size", "random_state")

    # The template's parameters that every block overrides, or that never
    # change results (the transformer's runtime parameters).
    _TEMPLATE_IGNORED = (
        "reservoir_dim", "max_reservoir_dim", "random_state", *SNLNNTransformer._RUNTIME_PARAMS
    )

    def _model_params(self):
        """The values partial_fit must find unchanged, the template's one by one
        (``reservoir__<name>``, lists as tuples, arrays copied)."""
        model = {name: getattr(self, name) for name in self._MODEL_PARAMS if name != "reservoir"}
        model["reservoir"] = self.reservoir is None
        if self.reservoir is not None:
            for name, value in self.reservoir.get_params(deep=False).items():
                if name not in self._TEMPLATE_IGNORED:
                    value = tuple(value) if isinstance(value, list) else value
                    value = value.copy() if isinstance(value, np.ndarray) else value
                    model[f"reservoir__{name}"] = value
        return model

    def _check_model_params_unchanged(self):
        current = self._model_params()
        if current.keys() != self._model.keys():  # a template given or taken away
            changed = ["reservoir"]
        else:
            changed = changed_params(self._model, current)
        if changed:
            raise ValueError(
                f"partial_fit continues the blocks drawn by the first call (or by "
                f"fit), but {', '.join(changed)} changed since. Call fit to start "
                "again with the new values."
            )

    def _check_params(self):
        if self.initial_blocks > self.max_blocks:
            raise ValueError(
                f"initial_blocks={self.initial_blocks} must be <= "
                f"max_blocks={self.max_blocks}."
            )

    def _make_block(self, index):
        template = SNLNNTransformer() if self.reservoir is None else self.reservoir
        return clone(template).set_params(
            reservoir_dim=self.block_size,
            max_reservoir_dim=self.block_size,
            random_state=block_seed(self._base_seed, index),
        )

    def _mirror_input(self, block):
        self.n_features_in_ = block.n_features_in_
        if hasattr(block, "feature_names_in_"):
            self.feature_names_in_ = block.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _reset(self):
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)
        for name in self._PRIVATE_STATE:
            if hasattr(self, name):
                delattr(self, name)

    def _split(self, n_samples, labels, rng):
        """Training and validation rows: shuffled, stratified by class for a
        classifier, each part non-empty."""
        order = rng.permutation(n_samples)
        if labels is None:
            n_val = min(max(1, round(self.validation_fraction * n_samples)), n_samples - 1)
            val = order[:n_val]
        else:
            val = []
            for label in np.unique(labels):
                rows = order[labels[order] == label]
                if len(rows) > 1:
                    val.append(rows[: max(1, round(self.validation_fraction * len(rows)))])
            val = np.concatenate(val) if val else order[:1]
            if len(val) == n_samples:
                val = val[:-1]
        mask = np.zeros(n_samples, dtype=bool)
        mask[val] = True
        return np.flatnonzero(~mask), np.flatnonzero(mask)

    def _block_columns(self):
        widths = np.cumsum([0] + [b for b in self._block_widths])
        return [slice(a, b) for a, b in zip(widths[:-1], widths[1:])]

    def _raw_output(self, X, blocks=None, coef=None, intercept=None):
        """Linear output of the readout, block by block (no hstack of features)."""
        blocks = self.reservoirs_ if blocks is None else blocks
        coef = self.coef_ if coef is None else coef
        intercept = self.intercept_ if intercept is None else intercept
        out = None
        start = 0
        for block in blocks:
            features = block.transform(X)
            stop = start + features.shape[1]
            part = features @ coef[:, start:stop].T.astype(features.dtype)
            out = part if out is None else out + part
            start = stop
        return out + intercept.astype(out.dtype)

    def _indexable(self, X):
        """``X`` in a form whose rows can be taken (the blocks validate it)."""
        # Growth is sequential on in-memory splits: a dask array would be gathered.
        _dask.reject(X, type(self).__name__)
        if sp.issparse(X):
            raise TypeError(
                f"Sparse data was passed for X, but dense data is required by "
                f"{type(self).__name__}: pass a dense array of sequences."
            )
        if isinstance(X, (list, tuple, np.ndarray)) or hasattr(X, "iloc"):
            return X
        return np.asarray(X)

    def _check_y(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        _dask.reject(y, type(self).__name__, name="y")
        check_consistent_length(X, y)
        if _num_samples(X) == 0:
            raise ValueError(
                f"Found array with 0 sample(s) while a minimum of 1 is required by "
                f"{type(self).__name__}."
            )
        return self._targets(y, reset)

    # ---------------------------------------------------------------- fit

    def _fit(self, X, y):
        self._reset()
        self._check_params()
        self._model = self._model_params()
        X = self._indexable(X)
        targets, labels = self._check_y(X, y, reset=True)
        n_samples = _num_samples(X)
        if n_samples < 2:
            raise ValueError(
                f"{type(self).__name__} holds out a validation split, so it needs at "
                f"least 2 samples; got n_samples = {n_samples} (1 sample)."
            )
        rng = check_random_state(self.random_state)
        self._base_seed = int(rng.randint(_MAX_SEED))
        train, val = self._split(n_samples, labels, rng)
        X_train, X_val = _safe_indexing(X, train), _safe_indexing(X, val)
        y_train, y_val = targets[train], targets[val]

        blocks, shifts, widths = [], [], []
        # The shifted features of all blocks, training and validation rows, in
        # two arrays that gain columns; the training Gram as its column blocks
        # of one step each (upper part): a step adds one and copies nothing.
        train_columns = val_columns = None
        gram_columns, x_sum, xy = [], np.zeros(0), None
        history, scores, counts = [], [], []
        best_score, best_step, since_best = -np.inf, 0, 0
        reason = "max_blocks"
        n_train = len(y_train)
        while len(blocks) < self.max_blocks:
            n_new = (
                self.initial_blocks if not blocks
                else min(max(1, round(self.growth_rate * len(blocks))),
                         self.max_blocks - len(blocks))
            )
            d_old, new_sums = len(x_sum), []
            for _ in range(n_new):
                block = self._make_block(len(blocks))
                features = block.fit_transform(X_train)
                if not blocks:
                    self._mirror_input(block)
                    dtype = features.dtype
                    y_shift = y_train.mean(axis=0).astype(dtype).astype(np.float64)
                    y_train_shifted = (y_train - y_shift).astype(dtype)
                    y_val_shifted = (y_val - y_shift).astype(dtype)
                    y_sum = y_train_shifted.sum(axis=0, dtype=np.float64)
                    xy = np.zeros((0, y_train.shape[1]))
                    capacity = self.max_blocks * features.shape[1]
                    train_columns = _Columns(n_train, dtype, capacity)
                    val_columns = _Columns(len(val), dtype, capacity)
                    ridge = _IncrementalRidge(self.alpha, capacity)
                shift = features.mean(axis=0, dtype=np.float64).astype(dtype)
                features -= shift
                new_sums.append(features.sum(axis=0, dtype=np.float64))
                train_columns.append(features)
                val_features = block.transform(X_val)
                val_features -= shift
                val_columns.append(val_features)
                blocks.append(block)
                shifts.append(shift.astype(np.float64))
                widths.append(features.shape[1])
            kept = train_columns.columns
            new = kept[:, d_old:]
            column = _new_gram_columns(kept, d_old)
            new_sum = np.concatenate(new_sums)
            x_sum = np.r_[x_sum, new_sum]
            xy = np.vstack([xy, _cross(new, y_train_shifted)])
            gram_columns.append(column)
            centred = column - np.outer(x_sum, new_sum / n_train)
            ridge.extend_columns(
                centred,
                _feature_scale(np.diag(centred[d_old:]).copy(), n_train,
                               np.concatenate(shifts)[d_old:] + new_sum / n_train),
            )
            x_mean = x_sum / n_train
            weights = ridge.solve_centred(xy - np.outer(x_mean, y_sum))
            output = y_sum / n_train - x_mean @ weights + y_shift
            output = output + val_columns.columns @ weights.astype(dtype)
            score = self._score_output(output, y_val, val)
            history.append(sum(widths))
            counts.append(len(blocks))
            scores.append(score)
            if score > best_score + self.tol:
                best_score, best_step, since_best = score, len(scores) - 1, 0
            else:
                since_best += 1
                if since_best >= self.n_iter_no_change:
                    reason = "plateau"
                    break
        # Keep the best size; the blocks after it were the plateau.
        n_kept = counts[best_step]
        d = sum(widths[:n_kept])
        self._block_widths = widths[:n_kept]
        self.reservoirs_ = blocks[:n_kept]
        self.block_seeds_ = np.array([b.random_state for b in self.reservoirs_])
        self.n_units_history_ = self.block_size * np.array(counts, dtype=np.int64)
        self.n_features_history_ = np.array(history, dtype=np.int64)
        self.validation_scores_ = np.array(scores)
        self.best_index_ = best_step
        self.stop_reason_ = reason
        self.n_blocks_ = n_kept
        self.n_units_ = n_kept * self.block_size
        self._x_shift = np.concatenate(shifts[:n_kept])
        self._y_shift = y_shift
        # The final readout uses every labelled row: the validation rows'
        # statistics (one product, at the kept width) are about the same
        # shifts, so they add to the training ones.
        stats = _Statistics(y_train.shape[1])
        stats.add_columns(d)
        start = 0
        for column in gram_columns[: best_step + 1]:
            stop = start + column.shape[1]
            stats.xx[:stop, start:stop] = column
            stats.xx[start:stop, :start] = column[:start].T
            start = stop
        stats.n, stats.x_sum, stats.xy, stats.y_sum = n_train, x_sum[:d], xy[:d], y_sum
        del gram_columns, train_columns, ridge
        stats.add_rows(val_columns.columns[:, :d], y_val_shifted)
        self._stats = stats
        self._solve()
        # partial_fit may continue: keep its memory of past rows from these.
        self.n_samples_seen_ = 0
        self._remember(X, targets)
        self.n_samples_seen_ = n_samples
        self._recent = []
        return self

    def _solve(self):
        coef, intercept = _ridge_from_statistics(
            self._stats, self._x_shift, self._y_shift, self.alpha
        )
        self.coef_, self.intercept_ = coef, intercept

    # --------------------------------------------------------- streaming

    def _partial_fit(self, X, y, score, classes=None):
        first_call = not hasattr(self, "reservoirs_")
        if first_call:
            self._reset()
            self._check_params()
            self._model = self._model_params()
            self._targets_first_partial(classes)
        else:
            self._check_model_params_unchanged()
            if classes is not None:
                self._check_classes(classes)
        targets, _ = self._check_y(X, y, reset=False)
        if first_call:
            rng = check_random_state(self.random_state)
            self._base_seed = int(rng.randint(_MAX_SEED))
            self.reservoirs_, features, shifts = [], [], []
            for _ in range(self.initial_blocks):
                block = self._make_block(len(self.reservoirs_))
                part = block.fit_transform(X)
                if not self.reservoirs_:
                    self._mirror_input(block)
                self.reservoirs_.append(block)
                features.append(part)
                shifts.append(part.mean(axis=0, dtype=np.float64).astype(part.dtype))
            dtype = features[0].dtype
            self._x_shift = np.concatenate(shifts).astype(np.float64)
            self._y_shift = targets.mean(axis=0).astype(dtype).astype(np.float64)
            self._stats = _Statistics(targets.shape[1])
            self._stats.add_columns(len(self._x_shift))
            self._block_widths = [f.shape[1] for f in features]
            self._recent = []
            self.n_samples_seen_ = 0
            self.n_units_history_ = np.empty(0, dtype=np.int64)
            self.n_features_history_ = np.empty(0, dtype=np.int64)
            self.validation_scores_ = np.empty(0)
            self.stop_reason_ = None
            self.best_index_ = None
            batch_score = np.nan
        else:
            features = [block.transform(X) for block in self.reservoirs_]
            output = self.intercept_ + sum(
                f @ self.coef_[:, c].T.astype(f.dtype)
                for f, c in zip(features, self._block_columns())
            )
            batch_score = self._score_output(output, targets, None) if score is None else score
            window = self._recent[-self.drift_window :]
            drifted = (
                len(window) == self.drift_window
                and batch_score < np.mean(window) - self.drift_tol
            )
            if drifted and len(self.reservoirs_) < self.max_blocks:
                # New blocks are fitted on the data that showed the drop; the
                # rows seen before them read their affine prediction from the
                # old blocks (see Notes).
                n_new = min(self.drift_blocks, self.max_blocks - len(self.reservoirs_))
                parts, new_shifts = [], []
                for _ in range(n_new):
                    block = self._make_block(len(self.reservoirs_))
                    part = block.fit_transform(X)
                    parts.append(part)
                    new_shifts.append(part.mean(axis=0, dtype=np.float64).astype(part.dtype))
                    self.reservoirs_.append(block)
                    self._block_widths.append(part.shape[1])
                shift = np.concatenate(new_shifts)
                self._add_past_columns(features, parts, shift, new_blocks=n_new)
                features.extend(parts)
                self._recent = []
            else:
                self._recent = (self._recent + [batch_score])[-self.drift_window :]
        dtype = features[0].dtype
        batch = np.hstack(features)
        batch -= self._x_shift.astype(dtype)
        self._stats.add_rows(batch, (targets - self._y_shift).astype(dtype))
        self._remember(X, targets)
        self.n_samples_seen_ += batch.shape[0]
        self.n_blocks_ = len(self.reservoirs_)
        self.n_units_ = self.n_blocks_ * self.block_size
        self.block_seeds_ = np.array([b.random_state for b in self.reservoirs_])
        self.n_units_history_ = np.r_[self.n_units_history_, self.n_units_]
        self.n_features_history_ = np.r_[self.n_features_history_, batch.shape[1]]
        self.validation_scores_ = np.r_[self.validation_scores_, batch_score]
        self._solve()
        return self

    def _add_past_columns(self, batch_old, batch_new, new_shift, new_blocks):
        """Statistics of the rows learnt so far in the columns of new blocks.

        Those rows read the new blocks' affine prediction from the old blocks,
        fitted on the memory of past rows (on the current batch when there is
        none); then the memory rows are replayed with their real features, so
        that the readout's weights of the new blocks also answer to data of
        the past, not only to the data after the change.
        """
        memory = self._memory_rows()
        old_blocks = self.reservoirs_[:-new_blocks]
        new_block_list = self.reservoirs_[-new_blocks:]
        if memory is None:
            fit_old, fit_new = batch_old, np.hstack(batch_new)
        else:
            fit_old = [b.transform(memory) for b in old_blocks]
            fit_new = np.hstack([b.transform(memory) for b in new_block_list])
        dtype = fit_new.dtype
        projection, offset = self._imputation(fit_old, fit_new - new_shift)
        self._stats.add_imputed_columns(projection, offset)
        self._x_shift = np.r_[self._x_shift, new_shift.astype(np.float64)]
        if memory is not None:
            replay = np.hstack(fit_old + [fit_new])
            replay -= self._x_shift.astype(dtype)
            targets = (self._memory_targets - self._y_shift).astype(dtype)
            self._stats.add_rows(replay, targets)

    def _memory_rows(self):
        rows = getattr(self, "_memory", None)
        if not rows:
            return None
        return rows if self._memory_is_list else np.stack(rows)

    def _remember(self, X, targets):
        """Keep a uniform sample of ``memory_size`` past rows (reservoir
        sampling, seeded by the base seed and the rows seen: deterministic)."""
        if self.memory_size == 0:
            return
        if not hasattr(self, "_memory"):
            self._memory, self._memory_targets = [], np.zeros((0, targets.shape[1]))
            self._memory_is_list = isinstance(X, (list, tuple))
        rows = X if self._memory_is_list else np.asarray(X)
        rng = np.random.default_rng([self._base_seed, self.n_samples_seen_])
        seen = self.n_samples_seen_
        memory_targets = list(self._memory_targets)
        for i in range(len(targets)):
            if len(self._memory) < self.memory_size:
                self._memory.append(np.array(rows[i]))
                memory_targets.append(targets[i])
            else:
                j = int(rng.integers(0, seen + i + 1))
                if j < self.memory_size:
                    self._memory[j] = np.array(rows[i])
                    memory_targets[j] = targets[i]
        self._memory_targets = np.array(memory_targets)

    def _imputation(self, old_features, new_shifted):
        """Affine map from the old blocks' (shifted) features to the new
        block's, fitted by ridge (standardised, penalty ``alpha``) on the batch
        that made the model grow."""
        old = np.hstack(old_features).astype(np.float64) - self._x_shift
        new = new_shifted.astype(np.float64)
        old_mean, new_mean = old.mean(axis=0), new.mean(axis=0)
        old_c = old - old_mean
        gram = old_c.T @ old_c
        scale = _feature_scale(np.diag(gram).copy(), len(old), old_mean + self._x_shift)
        gram /= np.outer(scale, scale)
        gram.flat[:: gram.shape[0] + 1] += self.alpha
        rhs = (old_c / scale).T @ (new - new_mean)
        projection = linalg.solve(gram, rhs, assume_a="pos", check_finite=False)
        projection /= scale[:, None]
        return projection, new_mean - old_mean @ projection

    def __sklearn_tags__(self):
        return inherit_input_tags(super().__sklearn_tags__(), self.reservoir)


_PARAMETERS_DOC = """
    Parameters
    ----------
    reservoir : SNLNNTransformer, default=None
        Template of every block; ``None`` means ``SNLNNTransformer()``. Each
        block is a clone with ``reservoir_dim = max_reservoir_dim =
        block_size`` (no activity-driven growth inside a block) and a
        ``random_state`` of its own drawn from ``random_state`` (the template's
        is ignored). Its other parameters (leak rates, summaries, spikes, input
        weights, ``n_jobs``) apply to every block.
    block_size : int, default=100
        Neurons per growth step (one independent sub-reservoir).
    initial_blocks : int, default=1
        Blocks before the first score: the smallest size considered.
    growth_rate : float, default=0.25
        Each step of :meth:`fit` adds ``max(1, round(growth_rate * n_blocks))``
        blocks: the reservoir grows by about a quarter per step, so that
        ``tol`` means the same at every size (a fixed step of one block gains
        less and less as the reservoir grows, and a plateau of single blocks
        is reached long before the score stops rising: on 20,000 MNIST
        images, one block of 100 per step stopped at 500 units, 1.2 points
        below 3200). 0 adds one block per step.
    max_blocks : int, default=10
        Most blocks; growth stops there (``stop_reason_ = "max_blocks"``).
    validation_fraction : float, default=0.1
        Fraction of the rows of :meth:`fit` held out to score each size
        (stratified by class for the classifier). The final readout is then
        solved on all rows.
    n_iter_no_change : int, default=2
        Patience: growth stops after this many steps without an improvement
        of the validation score by more than ``tol``
        (``stop_reason_ = "plateau"``), and the blocks added since the best
        score are dropped.
    tol : float, default=1e-3
        Smallest improvement of the validation score that counts
        ({score_name}).
    alpha : float, default=1.0
        Ridge penalty on the standardised features; must be > 0.
    drift_tol : float, default=0.05
        :meth:`partial_fit` only: a batch whose score (the prequential score
        of the current readout on the batch, before learning it, or the
        ``score`` passed) falls more than this below the mean of the last
        ``drift_window`` scores adds ``drift_blocks`` blocks.
    drift_window : int, default=3
        :meth:`partial_fit` only: scores that make the reference level; after
        a growth step the window refills before the next one can happen.
    drift_blocks : int, default=1
        :meth:`partial_fit` only: blocks added at each detected drop (capped
        by ``max_blocks``).
    memory_size : int, default=1000
        :meth:`partial_fit` only: past rows kept (a uniform sample of the
        stream) to fit the new blocks' imputation and to be replayed into the
        statistics when blocks are added (see Notes); 0 keeps none.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and every block (block ``k`` gets
        :func:`block_seed` ``(base, k)``): the same value gives the same model.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    reservoirs_ : list of SNLNNTransformer
        The fitted blocks kept, in order.
    block_seeds_ : ndarray of shape (``n_blocks_``,)
        Their ``random_state``.
    n_blocks_ : int
        Blocks kept.
    n_units_ : int
        Neurons kept, ``n_blocks_ * block_size``.
    n_units_history_ : ndarray of shape (n_steps,)
        Neurons after each growth step (:meth:`fit`) or after each
        :meth:`partial_fit` call.
    n_features_history_ : ndarray of shape (n_steps,)
        Readout features at the same points.
    validation_scores_ : ndarray of shape (n_steps,)
        Score at the same points: on the validation split ({score_name}) for
        :meth:`fit`; for :meth:`partial_fit`, the score of each batch before it
        was learnt (NaN for the first call) or the ``score`` passed.
    best_index_ : int or None
        Index in ``n_units_history_`` of the size kept by :meth:`fit`.
    stop_reason_ : {{"plateau", "max_blocks"}} or None
        Why :meth:`fit` stopped growing; None after :meth:`partial_fit` alone.
    coef_ : ndarray of shape (n_targets, n_features)
        Readout weights on the concatenated block features (raw, not
        standardised).
    intercept_ : ndarray of shape (n_targets,)
    n_samples_seen_ : int
        Rows learnt by :meth:`fit` and :meth:`partial_fit`.
    n_features_in_ : int
        Features per row of ``X``, as the first block saw them.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Defined when ``X`` has string column names.
"""

_NOTES_DOC = """
    Notes
    -----
    **One growth step.** The training rows' features of the old blocks are
    kept (``n_train x d``, in ``X``'s dtype); the new block's features ``B``
    are computed, shifted by their training mean, and the statistics gain the
    blocks ``A^T B``, ``B^T B`` and ``B^T y``. Columns are standardised through
    the statistics (the centred Gram holds every column's variance), which
    leaves the old part of the regularised Gram and of its Cholesky factor
    unchanged, so the factor is extended, not recomputed. The score of each
    size comes from the validation rows' features, also kept. The final
    readout adds the validation statistics to the training ones and solves
    once. Fitting ``k`` blocks costs the states of ``k`` blocks, one Gram of
    the final width and ``O(d^2 b)`` per step for the factor; the blocks are
    not rerun.

    **Streaming.** :meth:`partial_fit` learns each batch into the statistics;
    from the second call on it first scores the batch with the current
    readout (prequential evaluation). When that score falls more than
    ``drift_tol`` below the mean of the previous ``drift_window`` scores,
    ``drift_blocks`` blocks are added, fitted on that batch. The rows learnt
    before never ran through the new blocks and are not kept; in the
    statistics they read the new blocks' best affine prediction from the old
    blocks (a ridge fit on that batch), whose cross products follow from the
    old statistics alone. The Gram stays that of a real data matrix (positive
    semi-definite), nothing is recomputed and nothing is forgotten: old data
    keep their say through the old blocks without tying the new ones to a
    constant (imputing the new blocks' mean instead lets the readout use them
    as a "which period" flag: on a digits stream of 0-4 then 5-9, accuracy on
    all ten digits afterwards was 0.57 with the mean and above 0.85 with the
    affine prediction). Sizes and scores of a stream are recorded per call.
    change. :meth:`partial_fit` after :meth:`fit` continues the fitted model.
    The features of each block, and the feature equality with independently
    fitted blocks, are those of :class:`~reservoir.SNLNNTransformer`: block
    ``k`` of ``model`` equals ``SNLNNTransformer(...,
    random_state=model.block_seeds_[k])`` fitted on the same rows.
"""


class AutoSizeClassifier(ClassifierMixin, _AutoSizeBase):
    __doc__ = (
        """Reservoir classifier that sizes itself: grow blocks while a
    held-out accuracy improves.

    Starts with ``initial_blocks`` independent sub-reservoirs of
    ``block_size`` neurons (clones of ``reservoir``), fits a ridge classifier
    (one-vs-all targets in {-1, +1}, as :class:`RidgeReadoutClassifier`) on
    their standardised features, and adds one block at a time while the
    accuracy on a validation split improves by more than ``tol``; after
    ``n_iter_no_change`` steps without improvement it keeps the best size.
    Each block's features never change once computed, so a step costs only
    the new block. :meth:`partial_fit` grows on a stream instead when the
    score of incoming batches drops (a distribution shift).
"""
        + _PARAMETERS_DOC.format(score_name="accuracy")
        + _ATTRIBUTES_DOC.format(score_name="accuracy")
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    AutoSizeRegressor : The regression counterpart.
    SNLNNClassifier : A reservoir of a fixed size with a readout.
"""
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from reservoir import AutoSizeClassifier, SNLNNTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> template = SNLNNTransformer(n_steps=8, leak_rate=0.3,
    ...                             summaries=("final", "mean"))
    >>> clf = AutoSizeClassifier(template, block_size=50, max_blocks=8,
    ...                          random_state=0).fit(X_train, y_train)
    >>> clf.stop_reason_ in ("plateau", "max_blocks")
    True
    >>> len(clf.n_units_history_) == len(clf.validation_scores_)
    True
    >>> clf.score(X_test, y_test) > 0.9
    True
"""
    )

    def _targets(self, y, reset):
        y = column_or_1d(y, warn=True)
        if reset:
            check_targets(self, y)
            self.classes_ = np.unique(y)
            check_classes(self, self.classes_)
        else:
            check_classification_targets(y)
        indices = class_indices(self.classes_, y)
        n_classes = len(self.classes_)
        if n_classes == 2:
            targets = np.where(indices == 1, 1.0, -1.0)[:, None]
        else:
            targets = np.full((len(y), n_classes), -1.0)
            targets[np.arange(len(y)), indices] = 1.0
        return targets, indices

    def _targets_first_partial(self, classes):
        if classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: all the "
                "classes that can appear in any batch."
            )
        self.classes_ = np.unique(np.asarray(classes))
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes, got "
                f"classes={self.classes_!r}."
            )

    def _check_classes(self, classes):
        if not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(
                f"classes={classes!r} differ from the classes of the first call, "
                f"{self.classes_!r}."
            )

    def _decide(self, output):
        if output.shape[1] == 1:
            return (output[:, 0] > 0).astype(np.int64)
        return output.argmax(axis=1)

    def _score_output(self, output, targets, rows):
        # `targets` are the one-vs-all columns: the class is their argmax.
        truth = (targets[:, 0] > 0).astype(np.int64) if targets.shape[1] == 1 else (
            targets.argmax(axis=1)
        )
        return float(np.mean(self._decide(output) == truth))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Grow blocks on ``X`` while the validation accuracy improves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences
            Sequences, one per row, channels last (as for
            :class:`SNLNNTransformer`).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : AutoSizeClassifier
        """
        return self._fit(X, y)

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None, score=None):
        """Learn a batch of a stream; grow a block when its score drops.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences
            One batch of sequences.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream; required on the first call unless
            :meth:`fit` was called.
        score : float or None, default=None
            A held-out score of the current model measured by the caller
            (higher is better), used in place of the batch's prequential
            accuracy for the growth decision.

        Returns
        -------
        self : AutoSizeClassifier

        Notes
        -----
        A call after the first (or after :meth:`fit`) refuses a changed
        ``reservoir``, ``block_size`` or ``random_state`` (ValueError, naming
        them; for the template, each ``reservoir__<name>`` that shapes the
        blocks, not its size, seed, ``n_jobs`` or ``verbose``); the other
        parameters act from that call on. Blocks already grown are kept:
        lowering ``max_blocks`` stops further growth but removes none.
        """
        return self._partial_fit(X, y, score, classes)

    def decision_function(self, X):
        """Readout scores of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            1-D for two classes (positive means ``classes_[1]``).
        """
        check_is_fitted(self)
        output = self._raw_output(X)
        return output[:, 0] if output.shape[1] == 1 else output

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[self._decide(self._raw_output(X))]


class AutoSizeRegressor(MultiOutputMixin, RegressorMixin, _AutoSizeBase):
    __doc__ = (
        """Reservoir regressor that sizes itself: grow blocks while a
    held-out R^2 improves.

    As :class:`AutoSizeClassifier`, with a ridge regression readout and the
    coefficient of determination as the score.
"""
        + _PARAMETERS_DOC.format(score_name="R^2")
        + _ATTRIBUTES_DOC.format(score_name="R^2")
        + """
    See Also
    --------
    AutoSizeClassifier : The classification counterpart.
    SNLNNRegressor : A reservoir of a fixed size with a readout.
"""
        + _NOTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from reservoir import AutoSizeRegressor, SNLNNTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(400, 2))
    >>> y = np.sin(3 * X[:, 0]) * X[:, 1]
    >>> reg = AutoSizeRegressor(SNLNNTransformer(leak_rate=1.0, summaries=("final",)),
    ...                         block_size=20, alpha=1e-3, random_state=0)
    >>> reg = reg.fit(X[:300], y[:300])
    >>> reg.n_units_ % 20 == 0 and reg.score(X[300:], y[300:]) > 0.8
    True
"""
    )

    def _targets(self, y, reset):
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if reset:
            self._y_ndim = y.ndim
        elif hasattr(self, "coef_") and (
            y.ndim != self._y_ndim or (y.ndim == 2 and y.shape[1] != self.coef_.shape[0])
        ):
            raise ValueError(
                f"y has shape {y.shape}, but {type(self).__name__} was fitted on "
                f"{'1-D' if self._y_ndim == 1 else f'{self.coef_.shape[0]} targets'}."
            )
        return y.reshape(len(y), -1), None

    def _targets_first_partial(self, classes):
        pass

    def _score_output(self, output, targets, rows):
        residual = ((targets - output) ** 2).sum(axis=0)
        total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
        safe = np.where(total > 0, total, 1.0)
        r2 = np.where(total > 0, 1 - residual / safe, np.where(residual == 0, 1.0, 0.0))
        return float(np.mean(r2))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Grow blocks on ``X`` while the validation R^2 improves.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences
            Sequences, one per row, channels last.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        self : AutoSizeRegressor
        """
        self._reset()
        if hasattr(self, "_y_ndim"):
            del self._y_ndim
        return self._fit(X, y)

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, score=None):
        """Learn a batch of a stream; grow a block when its score drops.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences
            One batch of sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        score : float or None, default=None
            A held-out score measured by the caller (higher is better), used
            in place of the batch's prequential R^2 for the growth decision.

        Returns
        -------
        self : AutoSizeRegressor

        Notes
        -----
        A call after the first (or after :meth:`fit`) refuses a changed
        ``reservoir``, ``block_size`` or ``random_state`` (ValueError, naming
        them; for the template, each ``reservoir__<name>`` that shapes the
        blocks, not its size, seed, ``n_jobs`` or ``verbose``); the other
        parameters act from that call on. Blocks already grown are kept:
        lowering ``max_blocks`` stops further growth but removes none.
        """
        if not hasattr(self, "reservoirs_"):
            y_arr = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
            self._reset()
            self._y_ndim = y_arr.ndim
        return self._partial_fit(X, y, score)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or \
                (n_samples, n_steps, n_inputs), or list of 2-D sequences

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        check_is_fitted(self)
        output = self._raw_output(X)
        return output[:, 0] if self._y_ndim == 1 else output
