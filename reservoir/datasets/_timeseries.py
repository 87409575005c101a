"""Benchmark time series generated locally: Mackey-Glass, NARMA, Lorenz.

Every generator returns series channels-last, shape ``(n_timesteps,
n_channels)`` (rows are time steps), takes ``random_state`` for the only
random part (the initial condition, or NARMA's input) and can drop an initial
transient with ``discard``. Nothing is downloaded.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["lorenz", "mackey_glass", "narma"]

_COMMON = {
    "n_timesteps": [Interval(Integral, 1, None, closed="left")],
    "discard": [Interval(Integral, 0, None, closed="left")],
    "random_state": ["random_state"],
}


def _finite(x, name, hint):
    """``x`` as float, or a ValueError if the integration left the reals."""
    x = np.asarray(x)
    bad = ~np.isfinite(x)
    if np.iscomplexobj(x):
        bad |= x.imag != 0
    if bad.any():
        row = int(np.argmax(bad.reshape(len(x), -1).any(axis=1)))
        raise ValueError(
            f"{name} is not a finite real series with these parameters: time step {row} "
            f"of the integration is {x.reshape(len(x), -1)[row]} ({hint})."
        )
    return x.real.astype(float) if np.iscomplexobj(x) else x


@validate_params(
    {
        **_COMMON,
        "tau": [Interval(Real, 0, None, closed="neither")],
        "beta": [Real],
        "gamma": [Real],
        "n": [Real],
        "step": [Interval(Real, 0, None, closed="neither")],
        "n_substeps": [Interval(Integral, 1, None, closed="left")],
        "x0": [Real],
    },
    prefer_skip_nested_validation=True,
)
def mackey_glass(
    n_timesteps=10000,
    *,
    tau=17,
    beta=0.2,
    gamma=0.1,
    n=10,
    step=1.0,
    n_substeps=10,
    x0=1.2,
    discard=0,
    random_state=None,
):
    r"""Mackey-Glass delay differential equation, sampled every ``step``.

    .. math::

        \frac{dx}{dt} = \beta \frac{x(t - \tau)}{1 + x(t - \tau)^n} - \gamma x(t)

    Integrated by the classical 4th-order Runge-Kutta method with the fine
    step ``h = step / n_substeps`` (0.1 by default); the delayed term at the
    half step is the linear interpolation (mean) of the two neighbouring
    history points, which is exact on the grid because ``tau / h`` must be an
    integer. With ``tau = 17`` the series is chaotic, quasi-periodic with a
    period of about 50 time units, and stays on an attractor in about
    [0.2, 1.4].

    Parameters
    ----------
    n_timesteps : int, default=10000
        Samples returned.
    tau : float, default=17
        Delay; ``tau / (step / n_substeps)`` must be a whole number.
    beta, gamma, n : float, default=0.2, 0.1, 10
        Parameters of the equation.
    step : float, default=1.0
        Time between returned samples.
    n_substeps : int, default=10
        Runge-Kutta steps per sample.
    x0 : float, default=1.2
        Level of the initial history on ``[-tau, 0]``.
    discard : int, default=0
        Samples integrated first and dropped (the transient).
    random_state : int, RandomState instance or None, default=None
        The initial history is ``x0`` plus uniform noise in [-0.1, 0.1] at
        every fine step, as in ReservoirPy; pass an int for a reproducible
        series.

    Returns
    -------
    x : ndarray of shape (n_timesteps, 1)

    Examples
    --------
    >>> from reservoir.datasets import mackey_glass
    >>> x = mackey_glass(2000, discard=500, random_state=0)
    >>> x.shape
    (2000, 1)
    >>> bool(0.2 < x.min() < x.max() < 1.4)
    True
    """
    h = step / n_substeps
    delay = tau / h
    if abs(delay - round(delay)) > 1e-9 * max(1.0, delay):
        raise ValueError(
            f"tau={tau} must be a whole number of fine steps step / n_substeps = {h:g}."
        )
    delay = int(round(delay))
    rng = check_random_state(random_state)
    n_fine = (n_timesteps + discard - 1) * n_substeps
    x = np.empty(delay + 1 + n_fine)
    x[: delay + 1] = x0 + rng.uniform(-0.1, 0.1, delay + 1)
    # Python floats: the loop is scalar, and numpy scalars are 5x slower here.
    values = x.tolist()
    half, sixth = 0.5 * h, h / 6.0

    def f(now, delayed):
        return beta * delayed / (1.0 + delayed**n) - gamma * now

    try:
        for i in range(delay, delay + n_fine):
            now, d0, d1 = values[i], values[i - delay], values[i - delay + 1]
            mid = 0.5 * (d0 + d1)
            k1 = f(now, d0)
            k2 = f(now + half * k1, mid)
            k3 = f(now + half * k2, mid)
            k4 = f(now + h * k3, d1)
            values[i + 1] = now + sixth * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    except OverflowError:
        values[i + 1 :] = [float("inf")] * (len(values) - i - 1)
    # A negative x(t - tau) with a non-integer n makes Python's power complex.
    hint = "a non-integer n needs x >= 0; the solution may also diverge"
    x = _finite(values[delay::n_substeps], "mackey_glass", hint)
    return x[discard : discard + n_timesteps, None]


@validate_params(
    {**_COMMON, "order": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def narma(n_timesteps=10000, *, order=10, discard=0, random_state=None):
    r"""NARMA input and output series (NARMA-10 by default).

    With inputs :math:`u(t) \sim U[0, 0.5]` drawn independently and
    :math:`y(t) = 0` for :math:`t < \text{order}`:

    .. math::

        y(t+1) = 0.3\, y(t) + 0.05\, y(t) \sum_{i=0}^{\text{order}-1} y(t-i)
                 + 1.5\, u(t - \text{order} + 1)\, u(t) + 0.1

    (``order=10`` is the standard NARMA-10: the sum runs over ``y(t-9..t)``
    and the product is ``u(t-9) u(t)``). The output is aligned so that row
    ``t`` of the target is the first value that depends on input row ``t``:
    ``y[t] = y(t+1)``; predicting ``y[t]`` from ``X[:t+1]`` is the usual
    one-step task.

    Parameters
    ----------
    n_timesteps : int, default=10000
        Time steps returned.
    order : int, default=10
        Memory of the system.
    discard : int, default=0
        Initial steps generated and dropped (the transient from y = 0).
    random_state : int, RandomState instance or None, default=None
        Draws the input.

    Returns
    -------
    X : ndarray of shape (n_timesteps, 1)
        The input ``u``.
    y : ndarray of shape (n_timesteps, 1)
        The output, ``y[t] = y(t+1)``.

    Examples
    --------
    >>> from reservoir.datasets import narma
    >>> X, y = narma(1000, random_state=0)
    >>> X.shape, y.shape
    ((1000, 1), (1000, 1))
    >>> bool(0 <= X.min() and X.max() <= 0.5 and 0 < y.max() < 1)
    True
    """
    total = n_timesteps + discard
    u = check_random_state(random_state).uniform(0.0, 0.5, total)
    y = np.zeros(total + 1)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
        for t in range(order - 1, total):
            y[t + 1] = (
                0.3 * y[t]
                + 0.05 * y[t] * y[t - order + 1 : t + 1].sum()
                + 1.5 * u[t - order + 1] * u[t]
                + 0.1
            )
    y = _finite(y, "narma", "NARMA of high order diverges for some inputs")
    return u[discard:, None], y[discard + 1 :, None]


@validate_params(
    {
        **_COMMON,
        "step": [Interval(Real, 0, None, closed="neither")],
        "sigma": [Real],
        "rho": [Real],
        "beta": [Real],
        "n_substeps": [Interval(Integral, 1, None, closed="left")],
        "x0": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def lorenz(
    n_timesteps=10000,
    *,
    step=0.01,
    sigma=10.0,
    rho=28.0,
    beta=8.0 / 3.0,
    n_substeps=4,
    x0=(1.0, 1.0, 1.0),
    discard=0,
    random_state=None,
):
    r"""The Lorenz system, sampled every ``step`` time units.

    .. math::

        \dot x = \sigma (y - x), \quad \dot y = x (\rho - z) - y, \quad
        \dot z = x y - \beta z

    Integrated by the classical 4th-order Runge-Kutta method with the fine
    step ``step / n_substeps`` (0.0025 by default: within 3e-6, on values of
    order 10, of an adaptive solver at tolerance 1e-12 over two time units;
    the error falls 16-fold per halving of the step).

    Parameters
    ----------
    n_timesteps : int, default=10000
        Samples returned; row 0 is the initial state.
    step : float, default=0.01
        Time between samples.
    sigma, rho, beta : float, default=10, 28, 8/3
        Parameters of the system (the chaotic classic).
    n_substeps : int, default=4
        Runge-Kutta steps per sample.
    x0 : array-like of shape (3,), default=(1.0, 1.0, 1.0)
        Centre of the initial state.
    discard : int, default=0
        Samples integrated first and dropped (the transient).
    random_state : int, RandomState instance or None, default=None
        The initial state is ``x0`` plus uniform noise in [-0.5, 0.5] on each
        coordinate; pass an int for a reproducible series.

    Returns
    -------
    xyz : ndarray of shape (n_timesteps, 3)
        Columns x, y, z.

    Examples
    --------
    >>> from reservoir.datasets import lorenz
    >>> xyz = lorenz(3000, discard=1000, random_state=0)
    >>> xyz.shape
    (3000, 3)
    >>> bool(abs(xyz[:, 0]).max() < 25 and 0 < xyz[:, 2].min())
    True
    """
    start = np.asarray(x0, dtype=float).reshape(-1)
    if start.shape != (3,):
        raise ValueError(f"x0 must have 3 coordinates, got shape {np.shape(x0)}.")
    x, y, z = start + check_random_state(random_state).uniform(-0.5, 0.5, 3)
    h = step / n_substeps
    half, sixth = 0.5 * h, h / 6.0

    def f(x, y, z):
        return sigma * (y - x), x * (rho - z) - y, x * y - beta * z

    total = n_timesteps + discard
    out = np.empty((total, 3))
    out[0] = x, y, z
    for k in range(1, total):
        for _ in range(n_substeps):
            a1, b1, c1 = f(x, y, z)
            a2, b2, c2 = f(x + half * a1, y + half * b1, z + half * c1)
            a3, b3, c3 = f(x + half * a2, y + half * b2, z + half * c2)
            a4, b4, c4 = f(x + h * a3, y + h * b3, z + h * c3)
            x += sixth * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
            y += sixth * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
            z += sixth * (c1 + 2.0 * c2 + 2.0 * c3 + c4)
        out[k] = x, y, z
    return _finite(out, "lorenz", "check x0 and the parameters")[discard:]
