"""Weight draws and spectral-radius scaling, checked against exact maths."""

import threading
import tracemalloc
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from reservoir import _weights

DRAW = dict(input_scaling=0.5, bias_scaling=0.1)


def _dag(n, n_edges, seed):
    """Sparse standard-normal W whose pattern is a relabelled acyclic graph.

    Edges go from lower to higher position in a random order, so W is a
    permuted strictly upper-triangular matrix: nilpotent, yet not visibly so.
    """
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, n, (2, n_edges))
    keep = rows < cols
    rows, cols = rows[keep], cols[keep]
    order = rng.permutation(n)
    values = rng.standard_normal(len(rows))
    return sp.csr_matrix((values, (order[rows], order[cols])), shape=(n, n))


def _is_nilpotent(matrix):
    """Exactly: W**n == 0 (products along paths that do not exist are exact zeros)."""
    dense = matrix.toarray() if sp.issparse(matrix) else matrix
    return not np.any(np.linalg.matrix_power(dense, dense.shape[0]))


def _nilpotent_draw(n, density):
    """The first seed whose sparse draw of ``n`` units is nilpotent."""
    for seed in range(50):
        w_rec = _weights.draw_weights(seed, 4, n, density=density, **DRAW)[2]
        if _is_nilpotent(w_rec):
            return w_rec
    raise AssertionError("no nilpotent draw found")


@pytest.fixture
def empty_memo(monkeypatch):
    monkeypatch.setattr(_weights, "_RADIUS_CACHE", OrderedDict())


# ------------------------------------------------------- spectral radius


@pytest.mark.parametrize("n", [200, 400])  # dense LAPACK path, ARPACK path
def test_nilpotent_matrix_has_radius_exactly_zero(n):
    w_rec = _dag(n, 2 * n, seed=n)
    assert _is_nilpotent(w_rec)
    assert _weights.spectral_radius(w_rec) == 0.0
    assert _weights.spectral_radius(w_rec.toarray()) == 0.0


@pytest.mark.parametrize("n", [200, 400])
def test_sparse_draw_without_cycles_has_radius_exactly_zero(n):
    # About 0.4 connections per neuron: most draws have no directed cycle.
    w_rec = _nilpotent_draw(n, density=0.4 / n)
    assert _weights.spectral_radius(w_rec) == 0.0


def test_empty_matrix_has_radius_zero():
    assert _weights.spectral_radius(sp.csr_matrix((500, 500))) == 0.0
    assert _weights.spectral_radius(np.zeros((0, 0))) == 0.0


@pytest.mark.parametrize("n", [200, 2000])
def test_radius_of_one_cycle_feeding_off_a_large_acyclic_part(n):
    # Positions n-3.. n-1 of the topological order form the only cycle and
    # feed nothing else, so the spectrum is that cycle's: |w1 w2 w3|**(1/3).
    k = 3
    rng = np.random.default_rng(1)
    upper = sp.triu(sp.random(n, n, density=4 / n, random_state=rng, format="csr"), 1)
    upper = upper.tolil()
    upper[n - k:, n - k:] = 0.0
    cycle = rng.standard_normal(k)
    for i in range(k):
        upper[n - k + i, n - k + (i + 1) % k] = cycle[i]
    order = rng.permutation(n)
    w_rec = upper.tocsr()[order][:, order]
    expected = np.abs(np.prod(cycle)) ** (1 / k)
    assert _weights.spectral_radius(w_rec) == pytest.approx(expected, rel=1e-12)


def test_self_connection_is_a_cycle():
    w_rec = _dag(400, 800, seed=3).tolil()
    w_rec[7, 7] = -0.25
    # Acyclic apart from the self-loop: triangular up to relabelling.
    assert _weights.spectral_radius(w_rec.tocsr()) == pytest.approx(0.25, rel=1e-12)


def test_near_zero_arpack_radius_is_recomputed_densely(monkeypatch):
    w_rec = np.random.default_rng(0).standard_normal((400, 400))
    monkeypatch.setattr(
        _weights, "eigs", lambda *args, **kwargs: np.array([1e-12 + 0j])
    )
    expected = np.abs(np.linalg.eigvals(w_rec)).max()
    assert _weights.spectral_radius(w_rec) == pytest.approx(expected, rel=1e-12)


def test_arpack_radius_matches_exact_eigenvalues():
    w_rec = _weights.draw_weights(0, 4, 600, density=0.05, **DRAW)[2]
    expected = np.abs(np.linalg.eigvals(w_rec.toarray())).max()
    assert _weights.spectral_radius(w_rec) == pytest.approx(expected, rel=1e-4)


# ------------------------------------------------------- recurrent scale


@pytest.mark.parametrize("n", [100, 400])
def test_scale_gives_the_target_radius(n, empty_memo):
    w_rec = _weights.draw_weights(0, 4, n, density=0.1, **DRAW)[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scale = _weights.recurrent_scale(0.7, w_rec, key=("test", n))
    radius = np.abs(np.linalg.eigvals(w_rec.toarray() * scale)).max()
    assert radius == pytest.approx(0.7, rel=1e-4)


@pytest.mark.parametrize("n", [200, 400])
def test_nilpotent_scale_warns_and_falls_back_to_the_circular_law(n, empty_memo):
    w_rec = _nilpotent_draw(n, density=0.4 / n)
    with pytest.warns(UserWarning, match=rf"{n} active neurons.*density.*1/{n}"):
        scale = _weights.recurrent_scale(0.9, w_rec, key=("nilpotent", n))
    frobenius = np.sqrt(np.sum(w_rec.toarray() ** 2))
    assert scale == pytest.approx(0.9 * np.sqrt(n) / frobenius, rel=1e-12)
    # Standard-normal entries: about target / sqrt(nnz / n), never 1/eps.
    assert scale == pytest.approx(0.9 / np.sqrt(w_rec.nnz / n), rel=0.5)
    assert np.abs(w_rec.toarray() * scale).max() < 10.0


def test_empty_block_scale_is_one_with_a_warning(empty_memo):
    with pytest.warns(UserWarning, match="density"):
        assert _weights.recurrent_scale(0.9, sp.csr_matrix((50, 50))) == 1.0


def test_scale_reuses_the_memoised_solve(monkeypatch, empty_memo):
    calls = []
    solve = _weights.spectral_radius
    monkeypatch.setattr(
        _weights, "spectral_radius", lambda m: calls.append(1) or solve(m)
    )
    w_rec = np.random.default_rng(0).standard_normal((50, 50))
    a = _weights.recurrent_scale(0.5, w_rec, key="draw")
    b = _weights.recurrent_scale(0.9, w_rec, key="draw")
    assert len(calls) == 1
    assert b / a == pytest.approx(0.9 / 0.5, rel=1e-15)


# ------------------------------------------------------- memo under threads


def test_memo_hit_is_atomic_against_another_threads_eviction(monkeypatch):
    """A hit's lookup and move_to_end must not let an eviction in between."""
    monkeypatch.setattr(_weights, "_RADIUS_CACHE_SIZE", 1)
    monkeypatch.setattr(_weights, "spectral_radius", lambda matrix: 2.0)
    evictor = threading.Thread(
        target=_weights.cached_spectral_radius, args=("other", None)
    )
    fired = []

    class RacingCache(OrderedDict):
        def move_to_end(self, key, last=True):
            # Let another thread insert (and so evict `key`) right here; with
            # the memo locked it waits instead, and the join times out.
            if not fired:
                fired.append(1)
                evictor.start()
                evictor.join(timeout=0.5)
            super().move_to_end(key, last)

    monkeypatch.setattr(_weights, "_RADIUS_CACHE", RacingCache([("mine", 1.0)]))
    assert _weights.cached_spectral_radius("mine", None) == 1.0
    evictor.join(timeout=10)
    assert not evictor.is_alive()
    assert list(_weights._RADIUS_CACHE.items()) == [("other", 2.0)]


def test_memo_hit_does_not_wait_for_another_threads_solve(monkeypatch):
    monkeypatch.setattr(_weights, "_RADIUS_CACHE", OrderedDict([("cached", 1.0)]))
    solving, hit_done, waited = threading.Event(), threading.Event(), []

    def slow_solve(matrix):
        solving.set()
        waited.append(hit_done.wait(timeout=5))
        return 3.0

    monkeypatch.setattr(_weights, "spectral_radius", slow_solve)
    solver = threading.Thread(
        target=_weights.cached_spectral_radius, args=("slow", None)
    )
    solver.start()
    assert solving.wait(timeout=10)
    assert _weights.cached_spectral_radius("cached", None) == 1.0
    hit_done.set()
    solver.join(timeout=10)
    assert waited == [True]
    assert _weights._RADIUS_CACHE["slow"] == 3.0


# ------------------------------------------------------- sparse recurrent draw


def _csr_bytes(matrix):
    return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes


def test_sparse_draw_memory_is_proportional_to_nnz():
    tracemalloc.start()
    try:
        w_rec = _weights.draw_weights(0, 1, 4000, density=0.01, **DRAW)[2]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sp.issparse(w_rec)
    # The CSR is about 1.9 MB; one dense 4000 x 4000 float64 array, 128 MB.
    assert peak < 10 * _csr_bytes(w_rec)
    assert peak < 4000 * 4000 * 8 / 20


@pytest.mark.parametrize("density", [0.001, 0.01, 0.2, 0.5, 0.9])
def test_sparse_draw_is_independent_bernoulli(density):
    n = 1000
    w_rec = _weights.draw_weights(1, 4, n, density=density, **DRAW)[2]
    se = np.sqrt(n * n * density * (1 - density))
    assert abs(w_rec.nnz - n * n * density) < 5 * se
    # Row and column counts are binomial(n, density): mean and variance.
    binomial_var = n * density * (1 - density)
    for counts in (np.diff(w_rec.indptr), np.bincount(w_rec.indices, minlength=n)):
        assert abs(counts.mean() - n * density) < 5 * se / n
        assert counts.var(ddof=1) == pytest.approx(binomial_var, rel=0.25)


def test_sparse_draw_rows_are_sorted_unique_and_values_standard_normal():
    n = 700
    w_rec = _weights.draw_weights(2, 4, n, density=0.05, **DRAW)[2]
    rows = np.repeat(np.arange(n), np.diff(w_rec.indptr))
    flat = rows * n + w_rec.indices
    assert np.all(np.diff(flat) > 0)  # sorted, no duplicate within a row
    assert w_rec.indices.min() >= 0 and w_rec.indices.max() < n
    assert np.all(w_rec.data != 0)
    assert stats.kstest(w_rec.data, "norm").pvalue > 1e-3


def test_sparse_draw_is_reproducible():
    a = _weights.draw_weights(3, 4, 500, density=0.02, **DRAW)
    b = _weights.draw_weights(3, 4, 500, density=0.02, **DRAW)
    c = _weights.draw_weights(4, 4, 500, density=0.02, **DRAW)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a[2], name), getattr(b[2], name))
    assert a[2].nnz != c[2].nnz or not np.array_equal(a[2].data, c[2].data)
    # The other families have their own streams: density does not move them.
    dense = _weights.draw_weights(3, 4, 500, density=1.0, **DRAW)
    np.testing.assert_array_equal(a[0], dense[0])
    np.testing.assert_array_equal(a[1], dense[1])


def test_dense_draw_is_the_recurrent_streams_standard_normal():
    w_rec = _weights.draw_weights(5, 4, 60, density=1.0, **DRAW)[2]
    stream = np.random.SeedSequence(5).spawn(4)[1]
    expected = np.random.default_rng(stream).standard_normal((60, 60))
    np.testing.assert_array_equal(w_rec, expected)


# ------------------------------------------------------- input weights


def test_receptive_field_wider_than_the_inputs_raises():
    with pytest.raises(ValueError, match=r"receptive_field=65.*64 inputs per step"):
        _weights.draw_weights(
            0, 64, 10, density=1.0, input_weights="receptive_field",
            receptive_field=65, **DRAW,
        )


def test_receptive_field_with_gaussian_input_weights_raises():
    match = r'receptive_field=8 only applies to input_weights="receptive_field"'
    with pytest.raises(ValueError, match=match):
        _weights.draw_weights(
            0, 64, 10, density=1.0, input_weights="gaussian", receptive_field=8, **DRAW
        )


def test_unknown_input_weights_raises():
    with pytest.raises(ValueError, match="input_weights"):
        _weights.draw_weights(0, 64, 10, density=1.0, input_weights="uniform", **DRAW)


@pytest.mark.parametrize("n_inputs, width", [(64, 16), (28, 7), (3, 1)])
def test_receptive_field_default_is_a_quarter_of_the_inputs(n_inputs, width):
    w_in = _weights.draw_weights(
        0, n_inputs, 200, density=1.0, input_weights="receptive_field", **DRAW
    )[0]
    nonzero = w_in != 0
    assert np.all(nonzero.sum(axis=1) == width)
    # One contiguous window per row.
    first = nonzero.argmax(axis=1)
    window = np.arange(n_inputs) - first[:, None]
    np.testing.assert_array_equal(nonzero, (window >= 0) & (window < width))


def test_full_width_receptive_field_is_the_gaussian_draw():
    gaussian = _weights.draw_weights(0, 20, 30, density=1.0, **DRAW)[0]
    full = _weights.draw_weights(
        0, 20, 30, density=1.0, input_weights="receptive_field",
        receptive_field=20, **DRAW,
    )[0]
    np.testing.assert_array_equal(full, gaussian)


def test_input_weight_standard_deviations_are_as_documented():
    n_inputs, width, scaling = 64, 16, 0.5
    gaussian = _weights.draw_weights(
        0, n_inputs, 4000, density=1.0, input_scaling=scaling, bias_scaling=0.1
    )[0]
    field = _weights.draw_weights(
        0, n_inputs, 4000, density=1.0, input_scaling=scaling, bias_scaling=0.1,
        input_weights="receptive_field", receptive_field=width,
    )[0]
    assert gaussian.std() == pytest.approx(scaling, rel=0.01)
    assert field[field != 0].std() == pytest.approx(
        scaling * np.sqrt(n_inputs / width), rel=0.01
    )
    # Same expected squared row norm, n_inputs * scaling**2.
    for w_in in (gaussian, field):
        assert np.mean(np.sum(w_in**2, axis=1)) == pytest.approx(
            n_inputs * scaling**2, rel=0.02
        )


@pytest.mark.parametrize("density", [1e-19, 1e-200])
def test_vanishing_density_draws_an_empty_matrix(density):
    # geometric() saturates at int64 max there: the gap sums once overflowed
    # (a negative indptr) or never reached the end (an endless loop).
    w_rec = _weights.draw_weights(0, 3, 50, input_scaling=1.0, bias_scaling=0.0,
                                  density=density)[2]
    assert sp.issparse(w_rec) and w_rec.nnz == 0 and w_rec.shape == (50, 50)
