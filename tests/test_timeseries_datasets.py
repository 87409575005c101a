"""The time-series generators against independent properties of each system."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from reservoir.datasets import lorenz, mackey_glass, narma


def test_mackey_glass_quasi_period_and_attractor():
    x = mackey_glass(6000, discard=500, random_state=0)[:, 0]
    assert x.shape == (6000,)
    # The tau=17 attractor: chaotic, about [0.2, 1.4], quasi-period ~50.
    assert 0.2 < x.min() < 0.55 and 1.2 < x.max() < 1.4
    v = x - x.mean()
    spectrum = np.abs(np.fft.rfft(v)) ** 2
    freqs = np.fft.rfftfreq(len(v), d=1.0)
    period = 1.0 / freqs[1 + np.argmax(spectrum[1:])]
    assert 45 < period < 55, period
    acf = np.correlate(v, v, "full")[len(v) - 1 :] / (v @ v)
    first_peak = 20 + np.argmax(acf[20:80])
    assert 45 <= first_peak <= 55 and acf[first_peak] > 0.5
    # Chaotic, not periodic: the autocorrelation decays over many periods.
    assert acf[2000:3000].max() < 0.6


def test_mackey_glass_step_and_reproducibility():
    a = mackey_glass(300, random_state=1)
    np.testing.assert_array_equal(a, mackey_glass(300, random_state=1))
    assert not np.array_equal(a, mackey_glass(300, random_state=2))
    # Sampling every 2 time units picks every other sample of the same solution.
    coarse = mackey_glass(150, step=2.0, n_substeps=20, random_state=1)
    np.testing.assert_allclose(coarse[:, 0], a[::2, 0], rtol=0, atol=1e-12)
    # discard drops leading samples of the same solution.
    np.testing.assert_array_equal(mackey_glass(200, discard=100, random_state=1), a[100:])


def test_mackey_glass_rejects_a_delay_off_the_grid():
    with pytest.raises(ValueError, match="whole number of fine steps"):
        mackey_glass(100, tau=17.05)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_narma_bounded(seed):
    X, y = narma(10000, random_state=seed)
    assert X.shape == y.shape == (10000, 1)
    assert 0 <= X.min() and X.max() <= 0.5
    assert np.isfinite(y).all() and 0 <= y.min() and y.max() < 1.0


@pytest.mark.parametrize("discard", [0, 200])
def test_narma_recurrence_step_by_step(discard):
    X, y = narma(500, discard=discard, random_state=5)
    u, out = X[:, 0], y[:, 0]
    # y[t] is y(t+1): y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i<10} y(t-i)
    #                          + 1.5 u(t-9) u(t) + 0.1
    for t in range(10, 500):
        previous = out[t - 1]
        expected = (
            0.3 * previous
            + 0.05 * previous * out[t - 10 : t].sum()
            + 1.5 * u[t - 9] * u[t]
            + 0.1
        )
        assert out[t] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    if discard == 0:
        # From y = 0 the first non-zero output has only the constant and the
        # product of the inputs 9 steps apart.
        assert out[9] == pytest.approx(1.5 * u[0] * u[9] + 0.1)
        assert np.all(out[:9] == 0)


def test_lorenz_matches_an_adaptive_solver():
    step, n = 0.01, 201  # two time units: chaos amplifies errors only ~6x

    def rhs(t, v):
        x, y, z = v
        return [10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z]

    times = step * np.arange(n)
    errors = []
    for n_substeps in (4, 8, 16):
        xyz = lorenz(n, step=step, n_substeps=n_substeps, random_state=3)
        solution = solve_ivp(
            rhs, (0, times[-1]), xyz[0], method="DOP853", t_eval=times, rtol=1e-13,
            atol=1e-12,
        )
        errors.append(np.abs(xyz - solution.y.T).max())
    assert errors[0] < 1e-5 and errors[2] < 3e-8
    # Fourth order: halving the step divides the error by about 16.
    for coarse, fine in zip(errors, errors[1:]):
        assert 12 < coarse / fine < 20, errors
    # The defaults are the 4-substep run; same seed, same series.
    np.testing.assert_array_equal(lorenz(n, random_state=3), xyz_default(n))
    # Still the butterfly: x changes sign, z stays positive, bounded.
    long = lorenz(5000, discard=500, random_state=3)
    assert long[:, 0].min() < -10 and long[:, 0].max() > 10
    assert 0 < long[:, 2].min() and long[:, 2].max() < 50


def xyz_default(n):
    return lorenz(n, step=0.01, n_substeps=4, random_state=3)


def test_generators_validate_their_parameters():
    with pytest.raises(ValueError, match="n_timesteps"):
        narma(0)
    with pytest.raises(ValueError, match="x0 must have 3 coordinates"):
        lorenz(10, x0=(1.0, 2.0))


@pytest.mark.parametrize(
    "generate",
    [
        lambda: mackey_glass(300, beta=5.0, gamma=-1.0, random_state=0),  # overflows
        lambda: mackey_glass(30, n=9.5, x0=-0.5, random_state=0),  # complex powers
        lambda: mackey_glass(30, beta=np.nan, random_state=0),
        lambda: narma(2000, order=30, random_state=0),  # NARMA-30 diverges
        lambda: lorenz(30, x0=(np.nan, 1.0, 1.0), random_state=0),
    ],
)
def test_generators_refuse_to_return_a_diverged_series(generate):
    with pytest.raises(ValueError, match="not a finite real series"):
        generate()
