"""Dask arrays through the estimators, checked against the in-memory path.

The local (threaded) scheduler serves the checks of results and laziness; a
``distributed.LocalCluster`` with two single-thread worker processes serves the
checks that need processes (shipping, a worker killed mid-computation, joblib's
dask backend).
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask.callbacks import Callback  # noqa: E402

from reservoir import (  # noqa: E402
    RidgeReadout,
    RidgeReadoutClassifier,
    SNLNNClassifier,
    SNLNNForecaster,
    SNLNNRegressor,
    SNLNNTransformer,
)


class CountComputes(Callback):
    """Counts graph executions, and the widest 2-D array any task returned."""

    def __init__(self):
        super().__init__()
        self.runs = 0
        self.widest = 0

    def _start(self, dsk):
        self.runs += 1

    def _posttask(self, key, result, dsk, state, worker_id):
        if isinstance(result, np.ndarray) and result.ndim == 2:
            self.widest = max(self.widest, result.shape[1])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0), y


def _reservoir(**params):
    defaults = dict(reservoir_dim=60, n_steps=8, random_state=0)
    return SNLNNTransformer(**{**defaults, **params})


# ----------------------------------------------------------------- transform


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_is_lazy_and_bit_identical_on_collector_chunks(digits, dtype):
    X = digits[0][:1536].astype(dtype)
    snlnn = _reservoir().fit(X)
    expected = snlnn.transform(X)
    counter = CountComputes()
    with counter:
        # Blocks of 512 rows split into the collector's chunks of 256, as the
        # whole array does: the same products, so the same bits.
        lazy = snlnn.transform(da.from_array(X, chunks=512))
        assert counter.runs == 0
        assert isinstance(lazy, da.Array)
        assert lazy.chunks == ((512, 512, 512), (expected.shape[1],))
        assert lazy.dtype == expected.dtype
        features = lazy.compute()
    assert counter.runs == 1
    assert features.dtype == expected.dtype
    np.testing.assert_array_equal(features, expected)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_transform_any_chunks_within_rounding(digits, dtype, rtol):
    X = digits[0].astype(dtype)
    snlnn = _reservoir().fit(X)
    expected = snlnn.transform(X)
    # 3-D input, chunked along steps and inputs too: rechunked to whole rows.
    X3 = da.from_array(X.reshape(len(X), 8, 8), chunks=(300, 3, 5))
    features = snlnn.transform(X3).compute()
    np.testing.assert_allclose(features, expected, rtol=rtol, atol=rtol)


def test_transform_does_not_mutate_and_ships_the_model_once(digits):
    X = digits[0]
    snlnn = _reservoir().fit(X)
    X_before = X.copy()
    lazy = snlnn.transform(da.from_array(X, chunks=200))
    graph = dict(lazy.__dask_graph__())
    models = [key for key in graph if str(key).startswith("snlnn-")]
    # One key holds the weights; every block's task reads it (sent once per worker).
    assert len(models) == 1
    lazy.compute()
    np.testing.assert_array_equal(X, X_before)


# ----------------------------------------------------------------------- fit


@pytest.mark.parametrize(
    "params",
    [
        {},
        # Grows on every batch from 20 to 80 units: the growth phase streams.
        dict(reservoir_dim=20, max_reservoir_dim=80, growth_threshold=0.0,
             growth_step=20, batch_size=250, spike_threshold=0.3,
             spike_reset="subtract"),
    ],
    ids=["fixed", "growing"],
)
def test_fit_equals_in_memory_fit(digits, params):
    X = digits[0]
    memory = _reservoir(**params).fit(X)
    lazy = _reservoir(**params).fit(da.from_array(X, chunks=400))
    assert lazy.reservoir_size_ == memory.reservoir_size_
    np.testing.assert_array_equal(lazy.growth_history_, memory.growth_history_)
    assert lazy.n_samples_seen_ == memory.n_samples_seen_ == len(X)
    np.testing.assert_allclose(lazy.input_mean_, memory.input_mean_, rtol=1e-12)
    np.testing.assert_allclose(lazy.input_scale_, memory.input_scale_, rtol=1e-12)
    np.testing.assert_allclose(lazy.spike_thresholds_, memory.spike_thresholds_,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lazy.mean_abs_state_, memory.mean_abs_state_, rtol=1e-9)
    np.testing.assert_allclose(lazy.spike_rate_, memory.spike_rate_, rtol=1e-9)
    np.testing.assert_allclose(lazy.transform(X), memory.transform(X), rtol=1e-9,
                               atol=1e-12)


def test_fit_transform_and_partial_fit(digits):
    X = digits[0]
    Xd = da.from_array(X, chunks=500)
    features = _reservoir().fit_transform(Xd)
    assert isinstance(features, da.Array)
    np.testing.assert_allclose(features.compute(), _reservoir().fit_transform(X),
                               rtol=1e-9, atol=1e-12)
    params = dict(reservoir_dim=20, max_reservoir_dim=80, growth_threshold=0.0,
                  growth_step=20, batch_size=300)
    streamed = _reservoir(**params).partial_fit(Xd)
    memory = _reservoir(**params)
    for start in range(0, len(X), 500):
        memory.partial_fit(X[start : start + 500])
    np.testing.assert_array_equal(streamed.growth_history_, memory.growth_history_)
    np.testing.assert_array_equal(streamed.transform(X), memory.transform(X))


# ------------------------------------------------------------------- readouts


def test_ridge_readout_statistics_match_in_memory():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 40)) * 0.2 + 5.0  # a mean far from 0
    Y = X @ rng.standard_normal((40, 3)) + rng.standard_normal((3000, 3))
    Xd, Yd = da.from_array(X, chunks=350), da.from_array(Y, chunks=(350, 3))
    for fit_intercept in (True, False):
        memory = RidgeReadout(alpha=0.1, fit_intercept=fit_intercept).fit(X, Y)
        lazy = RidgeReadout(alpha=0.1, fit_intercept=fit_intercept).fit(Xd, Yd)
        np.testing.assert_allclose(lazy.coef_, memory.coef_, rtol=1e-6)
        np.testing.assert_allclose(lazy.intercept_, memory.intercept_, rtol=1e-6)
        counter = CountComputes()
        with counter:
            prediction = lazy.predict(Xd)
            assert counter.runs == 0
        np.testing.assert_allclose(prediction.compute(), memory.predict(X), rtol=1e-6)
    # partial_fit: dask then in memory, and in memory then dask.
    memory = RidgeReadout(alpha=0.1).fit(X, Y)
    mixed = RidgeReadout(alpha=0.1).partial_fit(Xd[:1000], Yd[:1000])
    mixed.partial_fit(X[1000:], Y[1000:])
    np.testing.assert_allclose(mixed.coef_, memory.coef_, rtol=1e-6)
    mixed = RidgeReadout(alpha=0.1).partial_fit(X[:1000], Y[:1000])
    mixed.partial_fit(Xd[1000:], Yd[1000:])
    np.testing.assert_allclose(mixed.coef_, memory.coef_, rtol=1e-6)
    assert mixed.n_samples_seen_ == 3000


def test_ridge_classifier_matches_in_memory(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six",
                       "seven", "eight", "nine"], dtype=object)[y]
    Xd = da.from_array(X, chunks=400)
    memory = RidgeReadoutClassifier(alpha=1.0).fit(X, labels)
    lazy = RidgeReadoutClassifier(alpha=1.0).fit(Xd, da.from_array(labels, chunks=400))
    np.testing.assert_array_equal(lazy.classes_, memory.classes_)
    np.testing.assert_allclose(lazy.coef_, memory.coef_, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(lazy.predict(Xd).compute(), memory.predict(X))
    np.testing.assert_allclose(lazy.decision_function(Xd).compute(),
                               memory.decision_function(X), rtol=1e-6, atol=1e-9)
    binary = RidgeReadoutClassifier().fit(Xd, y % 2)  # in-memory y is wrapped
    assert binary.decision_function(Xd).shape == (len(X),)
    streamed = RidgeReadoutClassifier().partial_fit(Xd[:900], y[:900], classes=range(10))
    streamed.partial_fit(Xd[900:], y[900:])
    np.testing.assert_allclose(streamed.coef_, RidgeReadoutClassifier().fit(X, y).coef_,
                               rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("growing", [False, True])
def test_classifier_pipeline_matches_in_memory(digits, standardize, growing):
    X, y = digits
    params = dict(reservoir_dim=30, max_reservoir_dim=90, growth_threshold=0.0,
                  growth_step=30, batch_size=400) if growing else {}
    model = SNLNNClassifier(_reservoir(**params), alpha=1.0, standardize=standardize)
    memory = clone(model).fit(X, y)
    counter = CountComputes()
    with counter:
        lazy = model.fit(da.from_array(X, chunks=400), da.from_array(y, chunks=400))
    width = memory.readout_.coef_.shape[1]
    # Features live only inside the tasks: none ever came back.
    assert counter.widest < width
    assert lazy.reservoir_.reservoir_size_ == memory.reservoir_.reservoir_size_
    np.testing.assert_allclose(lazy.readout_.coef_, memory.readout_.coef_, rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(lazy.readout_.intercept_, memory.readout_.intercept_,
                               rtol=1e-6, atol=1e-9)
    if standardize:
        np.testing.assert_allclose(lazy.scaler_.scale_, memory.scaler_.scale_, rtol=1e-9)
    Xd = da.from_array(X, chunks=300)
    with counter:
        before = counter.runs
        predicted = lazy.predict(Xd)
        assert counter.runs == before
    np.testing.assert_array_equal(predicted.compute(), memory.predict(X))
    assert lazy.score(Xd, y) == memory.score(X, y)


def test_regressor_pipeline_matches_in_memory(digits):
    X = digits[0]
    Y = X[:, :2] * 2.0 - X[:, 10:12]
    memory = SNLNNRegressor(_reservoir(), alpha=1e-2).fit(X, Y)
    lazy = SNLNNRegressor(_reservoir(), alpha=1e-2).fit(
        da.from_array(X, chunks=500), da.from_array(Y, chunks=(500, 2))
    )
    np.testing.assert_allclose(lazy.readout_.coef_, memory.readout_.coef_, rtol=1e-6,
                               atol=1e-9)
    prediction = lazy.predict(da.from_array(X, chunks=500))
    assert prediction.shape == Y.shape
    np.testing.assert_allclose(prediction.compute(), memory.predict(X), rtol=1e-6,
                               atol=1e-9)


def test_in_memory_model_predicts_dask_lazily(digits):
    X, y = digits
    memory = SNLNNClassifier(_reservoir(), readout="logistic", alpha=1.0).fit(X, y)
    proba = memory.predict_proba(da.from_array(X, chunks=600))
    assert isinstance(proba, da.Array) and proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.compute(), memory.predict_proba(X), rtol=1e-9)


# --------------------------------------------------------------------- errors


def test_dask_errors_are_the_numpy_errors(digits):
    X, y = digits
    snlnn = _reservoir().fit(X)
    with pytest.raises(ValueError) as numpy_error:
        snlnn.transform(X[:, :40])
    with pytest.raises(ValueError) as dask_error:
        snlnn.transform(da.from_array(X[:, :40], chunks=500))
    assert str(dask_error.value) == str(numpy_error.value)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        snlnn.transform(da.from_array(X[:, 0], chunks=500))


def test_a_block_that_differs_from_its_declared_shape_raises(digits):
    X = digits[0]
    snlnn = _reservoir().fit(X)
    good = da.from_array(X[:1000], chunks=500)
    # A block that claims 64 columns but holds 40: caught when it is computed.
    liar = da.from_delayed(dask.delayed(np.asarray)(X[1000:1500, :40]),
                           shape=(500, 64), dtype=X.dtype)
    lazy = snlnn.transform(da.concatenate([good, liar]))
    with pytest.raises(ValueError, match="40 features"):
        lazy.compute()


def test_unsupported_dask_input_is_refused_not_computed(digits):
    X, y = digits
    Xd, yd = da.from_array(X, chunks=500), da.from_array(y, chunks=500)
    with pytest.raises(TypeError, match="ridge readout"):
        SNLNNClassifier(_reservoir(), readout="logistic").fit(Xd, yd)
    with pytest.raises(TypeError, match="dask collection but X"):
        RidgeReadoutClassifier().fit(X, yd)
    with pytest.raises(TypeError, match="does not take dask"):
        SNLNNForecaster().fit(da.from_array(X[:, :2], chunks=500), X[:, 2])
    with pytest.raises(TypeError, match=r"X\[0\]"):
        SNLNNTransformer(10).fit([Xd[:20].reshape(20, 64)])
    unknown = Xd[Xd[:, 20] > 0.5]  # unknown chunk sizes
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        _reservoir().fit(X).transform(unknown)


def test_without_dask_nothing_imports_it():
    code = (
        "import sys, numpy as np\n"
        "from reservoir import SNLNNClassifier, SNLNNTransformer, SNLNNForecaster\n"
        "X = np.random.RandomState(0).rand(60, 16)\n"
        "y = np.arange(60) % 3\n"
        "SNLNNClassifier(SNLNNTransformer(10, n_steps=4)).fit(X, y).predict(X)\n"
        "SNLNNForecaster(washout=2).fit(X[:, :1], X[:, 1])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def test_cluster_results_equal_in_memory(client, digits):
    X, y = digits
    X = X[:1536]
    y = y[:1536]
    memory = SNLNNClassifier(_reservoir(), alpha=1.0).fit(X, y)
    lazy = SNLNNClassifier(_reservoir(), alpha=1.0).fit(
        da.from_array(X, chunks=512), da.from_array(y, chunks=512)
    )
    np.testing.assert_allclose(lazy.readout_.coef_, memory.readout_.coef_, rtol=1e-6,
                               atol=1e-9)
    features = memory.reservoir_.transform(da.from_array(X, chunks=512))
    np.testing.assert_array_equal(features.compute(), memory.reservoir_.transform(X))
    np.testing.assert_array_equal(lazy.predict(da.from_array(X, chunks=512)).compute(),
                                  memory.predict(X))


def test_a_killed_worker_is_recomputed_with_the_same_result(client):
    rng = np.random.RandomState(1)
    X = rng.standard_normal((48 * 256, 28, 4))
    snlnn = SNLNNTransformer(300, random_state=0, summaries=("mean",)).fit(X[:512])
    expected = snlnn.transform(X)
    future = client.compute(snlnn.transform(da.from_array(X, chunks=(256, 28, 4))))
    deadline = time.monotonic() + 60
    while not client.processing() or not any(client.processing().values()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    assert not future.done(), "finished before a worker could be killed: make it longer"
    os.kill(pids[victim], signal.SIGKILL)
    features = future.result(timeout=120)
    assert victim not in client.scheduler_info()["workers"]
    np.testing.assert_array_equal(features, expected)


def test_grid_search_under_the_joblib_dask_backend(client, digits):
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y = digits
    grid = {"reservoir__spectral_radius": [0.5, 0.9], "reservoir__leak_rate": [0.3, 1.0]}
    search = GridSearchCV(SNLNNClassifier(_reservoir(reservoir_dim=40)), grid, cv=3,
                          n_jobs=-1)
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    sequential = GridSearchCV(SNLNNClassifier(_reservoir(reservoir_dim=40)), grid, cv=3)
    sequential.fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  sequential.cv_results_["mean_test_score"])
    assert search.best_params_ == sequential.best_params_


@pytest.mark.parametrize("growing", [False, True])
def test_nan_in_any_block_raises_the_numpy_error(digits, growing):
    X = digits[0].copy()
    X[1500, 3] = np.nan  # in the last block: streamed only when growing
    params = dict(reservoir_dim=20, max_reservoir_dim=400, growth_threshold=0.0,
                  batch_size=100) if growing else {}
    with pytest.raises(ValueError, match="NaN"):
        _reservoir(**params).fit(da.from_array(X, chunks=400))
    with pytest.raises(ValueError, match="NaN"):
        SNLNNClassifier(_reservoir(**params)).fit(da.from_array(X, chunks=400),
                                                   digits[1])


def test_targets_must_match_the_rows(digits):
    X, y = digits
    Xd = da.from_array(X, chunks=400)
    with pytest.raises(ValueError, match="different numbers of samples"):
        RidgeReadoutClassifier().fit(Xd, y[:-1])
    with pytest.raises(ValueError, match="different numbers of samples"):
        SNLNNClassifier(_reservoir()).fit(Xd, da.from_array(y[:-1], chunks=400))
    with pytest.raises(ValueError, match="1-D class labels"):
        SNLNNClassifier(_reservoir()).fit(Xd, da.from_array(np.c_[y, y], chunks=400))


def test_float32_blocks_on_chunk_boundaries_match_in_memory(digits):
    # Blocks that are whole multiples of chunk_size (and of the collector's 256
    # rows): every float32 product is the in-memory one, only float64 sums differ.
    X = np.tile(digits[0], (3, 1))[:4096].astype(np.float32)
    y = np.tile(digits[1], 3)[:4096]
    model = SNLNNClassifier(_reservoir(), alpha=1e-3, standardize=False)
    model.set_params(readout=RidgeReadoutClassifier(alpha=1e-3, chunk_size=1024))
    memory = clone(model).fit(X, y)
    lazy = clone(model).fit(da.from_array(X, chunks=2048), da.from_array(y, chunks=2048))
    np.testing.assert_allclose(lazy.readout_.coef_, memory.readout_.coef_, rtol=1e-6,
                               atol=1e-7 * np.abs(memory.readout_.coef_).max())


def test_auto_sizing_refuses_dask_input(digits):
    from reservoir import AutoSizeClassifier

    X, y = digits
    with pytest.raises(TypeError, match="does not take dask"):
        AutoSizeClassifier().fit(da.from_array(X, chunks=500), y)
