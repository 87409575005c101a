"""Forecasting: a reservoir learns Mackey-Glass and then runs it on its own
========================================================================

``SNLNNForecaster`` with its default reservoir is fitted on 2,000 steps of
the chaotic Mackey-Glass series (rows are time steps: the reservoir state
carries from row to row). It predicts 10 steps ahead under teacher forcing,
going on from the final training state, and, fitted one step ahead,
generates 300 steps closed loop, each prediction fed back as the next input.
It prints both errors (NRMSE, RMSE over the std of the series) and writes the
generation against the truth to ``forecasting.png``. Runs in a second.

    python examples/forecasting.py [--out DIR]
"""

import time

import _plotting
import numpy as np

from reservoir import SNLNNForecaster, SNLNNSeriesTransformer
from reservoir.datasets import mackey_glass


def nrmse(pred, truth, scale):
    return float(np.sqrt(np.mean((pred - truth) ** 2)) / scale)


def main(argv=None):
    args = _plotting.argument_parser(__doc__).parse_args(argv)
    start = time.perf_counter()

    x = mackey_glass(3000, discard=200, random_state=0)
    x = 2 * (x - x.min()) / (x.max() - x.min()) - 1  # to [-1, 1]
    scale = x.std()
    n_train, n_generate = 2000, 300
    # The defaults (300 units), chosen across the benchmark tasks.
    reservoir = SNLNNSeriesTransformer(random_state=0)

    # 10 steps ahead under teacher forcing, continuing from the training state.
    ahead = SNLNNForecaster(reservoir).fit(x[: n_train - 10], x[10:n_train])
    pred = ahead.predict(x[n_train - 10 : -10], initial_state=ahead.final_state_)
    error = nrmse(pred, x[n_train:], scale)
    print(f"10 steps ahead, teacher forcing: NRMSE {error:.5f}")

    # One step ahead, then closed loop from the end of the training series.
    model = SNLNNForecaster(reservoir).fit(x[:n_train], x[1 : n_train + 1])
    future = model.generate(n_generate)  # future[0] predicts x[n_train]
    truth = x[n_train : n_train + n_generate]
    for horizon in (84, n_generate):
        error = nrmse(future[:horizon], truth[:horizon], scale)
        print(f"closed loop, first {horizon} generated steps: NRMSE {error:.4f}")
    print(f"time: {time.perf_counter() - start:.1f} s")

    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(8, 3))
    t = np.arange(-200, n_generate)
    ax.plot(t, x[n_train - 200 : n_train + n_generate, 0], color="0.6", lw=2.5,
            label="truth")
    ax.plot(np.arange(n_generate), future[:, 0], color="C3", lw=1.2,
            label="generated (closed loop)")
    ax.axvline(0, color="k", lw=0.8, ls=":")
    ax.set(xlabel="time step (0 = end of training)", ylabel="x (rescaled)",
           title="SNLNNForecaster on Mackey-Glass (tau = 17), 300 units")
    ax.title.set_fontsize(9)
    ax.legend(loc="lower left", fontsize=8)
    _plotting.save(fig, args.out, "forecasting.png")


if __name__ == "__main__":
    main()
