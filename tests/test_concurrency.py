"""Concurrent callers: bit-identical results and BLAS's thread count restored."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import reservoir._collect
import reservoir._weights
from reservoir import SNLNNTransformer
from reservoir._blas import single_threaded_blas


def blas_threads():
    return [(i["filepath"], i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]


def numpy_blas_threads():
    """Thread counts of the BLAS that numpy's matmul (the collection) calls."""
    threads = blas_threads()
    return [n for path, n in threads if "numpy" in path] or [n for _, n in threads]


@pytest.fixture
def two_blas_threads():
    # The defect only shows when BLAS may use more than one thread outside.
    with threadpool_limits(limits=2, user_api="blas"):
        yield blas_threads()


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((3000, 64), dtype=np.float32)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_concurrent_transforms_equal_a_serial_call(X, n_jobs, two_blas_threads):
    # 640 units: large enough that OpenBLAS splits the product over 2 threads
    # and rounds differently (a flipped spike then moves a state by 0.3).
    snlnn = SNLNNTransformer(
        640, max_reservoir_dim=640, n_steps=8, n_jobs=n_jobs, random_state=0
    ).fit(X[:100])
    serial = snlnn.transform(X)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: snlnn.transform(X), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, serial)
    assert blas_threads() == two_blas_threads


def test_fit_of_a_clone_beside_transforms(X, two_blas_threads):
    X = X[:2000]
    params = dict(reservoir_dim=620, max_reservoir_dim=660, n_steps=8,
                  growth_threshold=0.0, random_state=0)
    fitted = SNLNNTransformer(**params).fit(X[:1000])
    serial_transform = fitted.transform(X)
    serial_fit = SNLNNTransformer(**params).fit_transform(X)
    with ThreadPoolExecutor(3) as pool:
        fits = [pool.submit(SNLNNTransformer(**params).fit_transform, X)
                for _ in range(2)]
        transforms = [pool.submit(fitted.transform, X) for _ in range(3)]
        for future in fits:
            np.testing.assert_array_equal(future.result(), serial_fit)
        for future in transforms:
            np.testing.assert_array_equal(future.result(), serial_transform)
    assert blas_threads() == two_blas_threads


def test_overlapping_calls_restore_blas_threads(X, two_blas_threads):
    """A short call that ends first must not lift the limit under a long one,
    and the last one out must restore the original count."""
    snlnn = SNLNNTransformer(50, n_steps=8, random_state=0).fit(X[:50])
    inside = []
    original = reservoir._collect.ReservoirOperator.run_chunk

    def spy(self, *args, **kwargs):
        inside.append(numpy_blas_threads())
        return original(self, *args, **kwargs)

    reservoir._collect.ReservoirOperator.run_chunk = spy
    try:
        with ThreadPoolExecutor(2) as pool:
            long_call = pool.submit(snlnn.transform, np.tile(X, (4, 1)))
            short_call = pool.submit(snlnn.transform, X[:300])
            short_call.result(), long_call.result()
    finally:
        reservoir._collect.ReservoirOperator.run_chunk = original
    assert inside and all(n == 1 for threads in inside for n in threads)
    assert blas_threads() == two_blas_threads


def test_blas_restored_when_a_concurrent_call_raises(X, two_blas_threads):
    errors = []

    def fail_inside():
        try:
            with single_threaded_blas():
                raise RuntimeError("boom")
        except RuntimeError as exc:
            errors.append(exc)

    with single_threaded_blas():
        worker = threading.Thread(target=fail_inside)
        worker.start()
        worker.join()
        # The failed caller left; this one still holds BLAS at one thread.
        assert all(n == 1 for n in numpy_blas_threads())
    assert len(errors) == 1
    assert blas_threads() == two_blas_threads


def test_radius_memo_is_safe_under_threads():
    matrix = np.random.default_rng(0).standard_normal((20, 20))
    reservoir._weights._RADIUS_CACHE.clear()
    expected = np.abs(np.linalg.eigvals(matrix)).max()

    def lookup(i):
        return reservoir._weights.cached_spectral_radius(("t", i % 3), matrix)

    with ThreadPoolExecutor(4) as pool:
        radii = list(pool.map(lookup, range(400)))
    np.testing.assert_allclose(radii, expected, rtol=1e-12)


def test_small_inputs_are_split_so_two_threads_can_work(X, monkeypatch):
    """Fewer than two chunks of sequences still give two chunks, whatever n_jobs."""
    chunks = []
    original = reservoir._collect.ReservoirOperator.run_chunk

    def spy(self, x, *args, **kwargs):
        chunks.append(len(x))
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(reservoir._collect.ReservoirOperator, "run_chunk", spy)
    snlnn = SNLNNTransformer(20, n_steps=8, random_state=0).fit(X[:10])
    chunks.clear()
    one = snlnn.set_params(n_jobs=1).transform(X[:100])
    assert chunks == [50, 50]
    np.testing.assert_array_equal(snlnn.set_params(n_jobs=2).transform(X[:100]), one)


def test_other_code_changing_blas_threads_meanwhile(X, two_blas_threads):
    """Another thread's threadpool_limits ends while we compute: the next chunk
    holds one thread again, and the end restores the count the others left."""
    snlnn = SNLNNTransformer(20, n_steps=4, random_state=0).fit(X[:100, :32])
    entered, release = threading.Event(), threading.Event()
    inside = []
    original = reservoir._collect.ReservoirOperator.run_chunk

    def spy(self, *args, **kwargs):
        entered.set()
        release.wait(10)
        inside.append(numpy_blas_threads())
        return original(self, *args, **kwargs)

    others = threadpool_limits(limits=1, user_api="blas")  # e.g. sklearn's KMeans
    reservoir._collect.ReservoirOperator.run_chunk = spy
    try:
        worker = threading.Thread(target=snlnn.transform, args=(X[:100, :32],))
        worker.start()
        entered.wait(10)
        others.restore_original_limits()
        release.set()
        worker.join()
    finally:
        reservoir._collect.ReservoirOperator.run_chunk = original
    assert len(inside) == 2 and inside[1] == [1]
    assert blas_threads() == two_blas_threads
