r"""Spikes: what the reservoir's neurons do while they read a digit
===============================================================

``SNLNNTransformer`` only returns summaries of each trajectory (final state,
mean state, spike rate). To see the trajectories themselves, this example
re-runs the update equations step by step in plain numpy on the fitted
weights (``input_weights_``, ``bias_``, ``active_recurrent_weights()``,
``leak_rate``, ``spike_threshold``) for a few test digits, read top to
bottom as 8 steps of 8 pixels:

    p_t = W_in x_t + W s_{t-1} + b
    v_t = (1 - a) s_{t-1} + a tanh(p_t)
    z_t = [v_t > threshold],   s_t = v_t - threshold * z_t

and asserts that the spike rates (and final and mean states) it finds match
the blocks of ``transform``'s output. It prints the spike statistics and
writes ``spikes.png``: for each digit a spike raster of every active neuron
and the state traces of a few neurons (the drop at a spike is the
subtractive reset), then the mean spike rate of every neuron over the test
set. A few seconds.

    python examples/spikes.py [--out DIR]
"""

import time

import _plotting
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from reservoir import SNLNNTransformer

DIGITS_SHOWN = (0, 3, 7)
N_TRACES = 4


def trajectories(reservoir, sequences):
    """Per-step states of the active neurons, by the update equations.

    Returns ``before_reset`` (v), ``state`` (s) and ``spikes`` (z), each of
    shape (n_sequences, n_steps, reservoir_size_).
    """
    n = reservoir.reservoir_size_
    w_in = reservoir.input_weights_[:n]
    bias = reservoir.bias_[:n]
    w_rec = reservoir.active_recurrent_weights()
    if hasattr(w_rec, "toarray"):  # sparse when density < 1
        w_rec = w_rec.toarray()
    a, threshold = reservoir.leak_rate, reservoir.spike_threshold
    n_seq, n_steps, _ = sequences.shape
    before_reset = np.zeros((n_seq, n_steps, n))
    state = np.zeros((n_seq, n_steps, n))
    spikes = np.zeros((n_seq, n_steps, n))
    for i, sequence in enumerate(sequences):
        s = np.zeros(n)  # every sequence starts from rest
        for t, x in enumerate(sequence):
            v = (1 - a) * s + a * np.tanh(w_in @ x + w_rec @ s + bias)
            z = v > threshold
            s = v - threshold * z
            before_reset[i, t], state[i, t], spikes[i, t] = v, s, z
    return before_reset, state, spikes


def summary_block(reservoir, features, name):
    """The ``name`` summary of the active neurons from ``transform``'s output."""
    k = list(reservoir.summaries).index(name)
    width = reservoir.max_reservoir_dim_
    return features[:, k * width : k * width + reservoir.reservoir_size_]


def main(argv=None):
    args = _plotting.argument_parser(__doc__).parse_args(argv)
    start = time.perf_counter()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, _, y_test = train_test_split(
        X / 16, y, test_size=0.25, stratify=y, random_state=0
    )
    # The original model's spikes: one leak rate, a fixed threshold, the
    # subtractive reset (the defaults read threshold crossings with no reset).
    reservoir = SNLNNTransformer(
        reservoir_dim=100, max_reservoir_dim=200, n_steps=8, leak_rate=0.3,
        spike_threshold=0.3, spike_reset="subtract", input_scaling=0.5,
        standardize_input=False, summaries=("final", "mean", "spike_rate"),
        random_state=0,
    )
    reservoir.fit(X_train)
    n_steps = reservoir.n_steps_

    # The first test image of each digit shown.
    picks = [int(np.flatnonzero(y_test == digit)[0]) for digit in DIGITS_SHOWN]
    sequences = X_test[picks].reshape(len(picks), n_steps, -1)
    before_reset, state, spikes = trajectories(reservoir, sequences)

    features = reservoir.transform(X_test)
    shown = features[picks]
    np.testing.assert_allclose(
        spikes.mean(axis=1), summary_block(reservoir, shown, "spike_rate"), atol=1e-12
    )
    np.testing.assert_allclose(
        state[:, -1], summary_block(reservoir, shown, "final"), atol=1e-9
    )
    np.testing.assert_allclose(
        state.mean(axis=1), summary_block(reservoir, shown, "mean"), atol=1e-9
    )
    print(
        f"step-by-step numpy trajectories of {len(picks)} digits match transform's "
        "spike_rate, final and mean blocks"
    )

    rates = summary_block(reservoir, features, "spike_rate")
    per_neuron = rates.mean(axis=0)
    print(
        f"reservoir: {reservoir.reservoir_size_} active neurons "
        f"(grown from {reservoir.reservoir_dim}), spike_threshold="
        f"{reservoir.spike_threshold}, leak_rate={reservoir.leak_rate}"
    )
    for digit, count in zip(DIGITS_SHOWN, spikes.sum(axis=(1, 2)), strict=True):
        print(f"  digit {digit}: {int(count)} spikes in {n_steps} steps")
    print(
        f"test-set spike rate: {per_neuron.mean():.3f} per neuron-step; "
        f"{np.mean(per_neuron == 0):.0%} of neurons never spike, "
        f"busiest neuron {per_neuron.max():.2f}"
    )
    print(f"time: {time.perf_counter() - start:.1f} s")

    plt = _plotting.pyplot()
    if plt is None:
        return
    # Neurons whose spike counts differ most between the digits shown.
    traced = np.argsort(spikes.sum(axis=1).std(axis=0))[::-1][:N_TRACES]

    n_cols = len(picks)
    fig = plt.figure(figsize=(3.2 * n_cols, 9.2))
    grid = fig.add_gridspec(4, n_cols, height_ratios=[0.9, 2.2, 1.6, 1.3], hspace=0.55)
    steps = np.arange(n_steps)
    for col, (digit, pick) in enumerate(zip(DIGITS_SHOWN, picks, strict=True)):
        ax_img = fig.add_subplot(grid[0, col])
        ax_img.imshow(sequences[col], cmap="gray_r", vmin=0, vmax=1)
        ax_img.set_title(f"digit {digit} (test #{pick}): row t = step t", fontsize=8)
        ax_img.set(xticks=[], yticks=range(0, n_steps, 2), ylabel="step")

        ax_raster = fig.add_subplot(grid[1, col])
        t_idx, neuron = np.nonzero(spikes[col])
        ax_raster.scatter(t_idx, neuron, marker="|", s=28, color="black", linewidths=1)
        for k, j in enumerate(traced):
            ax_raster.axhline(j, color=f"C{k}", linewidth=0.8, alpha=0.6)
        ax_raster.set(
            xlim=(-0.5, n_steps - 0.5),
            ylim=(-1, reservoir.reservoir_size_),
            xticks=steps,
            xlabel="step",
        )
        ax_raster.set_title(f"{int(spikes[col].sum())} spikes", fontsize=8)
        if col == 0:
            ax_raster.set_ylabel("neuron")

        ax_trace = fig.add_subplot(grid[2, col])
        for k, j in enumerate(traced):
            colour = f"C{k}"
            ax_trace.plot(
                steps,
                state[col, :, j],
                ".-",
                color=colour,
                linewidth=1,
                label=f"neuron {j}",
            )
            fired = np.flatnonzero(spikes[col, :, j])
            ax_trace.vlines(
                fired,
                state[col, fired, j],
                before_reset[col, fired, j],
                color=colour,
                linewidth=1,
                linestyle=":",
            )
            ax_trace.plot(
                fired, before_reset[col, fired, j], "^", color=colour, markersize=5
            )
        ax_trace.axhline(
            reservoir.spike_threshold, color="grey", linestyle="--", linewidth=1
        )
        low = min(state[:, :, traced].min(), 0.0) - 0.1
        ax_trace.set(
            xticks=steps,
            xlabel="step",
            ylim=(low, before_reset[:, :, traced].max() + 0.1),
        )
        if col == 0:
            ax_trace.set_ylabel("state s (▲ before reset)")
            ax_trace.text(
                0,
                reservoir.spike_threshold,
                "threshold",
                fontsize=7,
                color="grey",
                va="bottom",
            )
        if col == n_cols - 1:
            ax_trace.legend(fontsize=6, loc="lower right", ncol=2)

    ax_rate = fig.add_subplot(grid[3, :])
    neurons = np.arange(reservoir.reservoir_size_)
    ax_rate.bar(neurons, per_neuron, width=1.0, color="C0")
    ax_rate.axvline(
        reservoir.reservoir_dim - 0.5, color="C3", linestyle="--", linewidth=1
    )
    ax_rate.text(
        reservoir.reservoir_dim,
        per_neuron.max(),
        " grown neurons →",
        color="C3",
        fontsize=8,
        va="top",
    )
    ax_rate.set(
        xlim=(-0.5, reservoir.reservoir_size_ - 0.5),
        xlabel="neuron",
        ylabel="spike rate",
    )
    ax_rate.set_title(
        f"Mean spike rate per neuron over the {len(X_test)} test digits "
        "(transform's spike_rate block)",
        fontsize=9,
    )
    _plotting.save(fig, args.out, "spikes.png")


if __name__ == "__main__":
    main()
