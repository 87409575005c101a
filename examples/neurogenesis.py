"""Neurogenesis: watch the reservoir grow while it streams through the data
========================================================================

An ``SNLNNTransformer`` starts with ``reservoir_dim=50`` active neurons (of
``max_reservoir_dim=400`` pre-allocated) and is fed the training set in 12
batches with ``partial_fit``. After each batch the growth rule compares the
batch's mean absolute state with ``growth_threshold``; above it,
``growth_step=15`` more neurons become active and the recurrent matrix is
rescaled to the spectral radius. ``growth_history_`` records every event as
(sequences seen, new size). The grown reservoir then feeds a ridge readout,
compared with a reservoir drawn at the same final size with growth disabled
(``max_reservoir_dim=reservoir_dim``), over a few seeds: growth changes how
the reservoir is built, and this checks that it costs no accuracy. (The
final size stays below the cap on purpose: a grown reservoir that fills all
of ``max_reservoir_dim`` has exactly the weights of the fixed one.)

**Task-driven growth.** The activity rule above grows while the reservoir
is saturated, whatever the task. ``AutoSizeClassifier`` instead grows while
the task gains: it adds independent 25-neuron sub-reservoirs (clones of the
same template, each with its own seed) while the accuracy of a ridge readout
on a held-out tenth of the training set improves by more than ``tol``, and
keeps the best size once ``n_iter_no_change`` steps brought nothing. Old
features stay valid when a block is added, so each step costs only the new
block. Its validation curve and final size are the third panel.

It prints the test accuracies of all three and writes the size against
sequences seen, the growth signal per batch, the accuracies and the
auto-sizing curve to ``neurogenesis.png``. Uses scikit-learn's digits (8 rows as 8 steps, a few
seconds); ``--dataset mnist`` uses a subset of MNIST read as 28 rows of 28
pixels instead (needs the MNIST files, see ``reservoir.datasets.load_mnist``).

    python examples/neurogenesis.py [--dataset digits|mnist] [--subset N]
                                    [--seeds K] [--out DIR]
"""

import time

import _plotting
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from reservoir import AutoSizeClassifier, SNLNNTransformer
from reservoir.datasets import load_mnist

N_BATCHES = 12


def load(dataset, subset):
    """Train/test sequences as flat rows, and the number of steps per row."""
    if dataset == "mnist":
        X_train, y_train, X_test, y_test = load_mnist(return_X_y=True)
        n_test = max(subset // 5, 1)
        return X_train[:subset], X_test[:n_test], y_train[:subset], y_test[:n_test], 28
    X, y = load_digits(return_X_y=True)
    return (*train_test_split(X / 16, y, test_size=0.25, stratify=y, random_state=0), 8)


def grow(reservoir, X):
    """Stream ``X`` through ``reservoir.partial_fit`` in ``N_BATCHES`` batches.

    Returns the sequences seen and the growth signal after each batch: with
    ``batch_size`` at least the batch length, each call is one growth
    decision and ``mean_abs_state_`` is that batch's statistic.
    """
    seen, signal = [], []
    for batch in np.array_split(np.arange(len(X)), N_BATCHES):
        reservoir.partial_fit(X[batch])
        seen.append(reservoir.n_samples_seen_)
        signal.append(reservoir.mean_abs_state_)
    return seen, signal


def main(argv=None):
    parser = _plotting.argument_parser(__doc__)
    parser.add_argument("--dataset", choices=("digits", "mnist"), default="digits")
    parser.add_argument(
        "--subset", type=int, default=5000, help="MNIST training images (mnist only)"
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="random reservoirs compared per kind"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    X_train, X_test, y_train, y_test, n_steps = load(args.dataset, args.subset)

    template = SNLNNTransformer(
        reservoir_dim=50,
        max_reservoir_dim=400,
        growth_step=15,
        growth_threshold=0.15,
        batch_size=-(-len(X_train) // N_BATCHES),
        n_steps=n_steps,
    )
    readout = RidgeClassifier(alpha=1.0)
    grown_scores, fixed_scores = [], []
    for seed in range(args.seeds):
        growing = clone(template).set_params(random_state=seed)
        seen, signal = grow(growing, X_train)
        size = growing.reservoir_size_
        # The grown reservoir is fitted already: only its readout is trained.
        grown_readout = clone(readout).fit(growing.transform(X_train), y_train)
        grown_scores.append(grown_readout.score(growing.transform(X_test), y_test))
        fixed = make_pipeline(
            clone(template).set_params(
                reservoir_dim=size, max_reservoir_dim=size, random_state=seed
            ),
            clone(readout),
        ).fit(X_train, y_train)
        fixed_scores.append(fixed.score(X_test, y_test))
        if seed == 0:
            shown, shown_seen, shown_signal = growing, seen, signal

    # Task-driven growth: the same template, sized by a held-out score.
    auto_scores, auto_sizes = [], []
    for seed in range(args.seeds):
        auto = AutoSizeClassifier(
            clone(template).set_params(max_reservoir_dim=None),
            block_size=25, max_blocks=16, n_iter_no_change=2, tol=1e-3,
            random_state=seed,
        ).fit(X_train, y_train)
        auto_scores.append(auto.score(X_test, y_test))
        auto_sizes.append(auto.n_units_)
        if seed == 0:
            shown_auto = auto

    history = shown.growth_history_
    final_size = shown.reservoir_size_
    print(
        f"seed 0 grew from {shown.reservoir_dim} to {final_size} neurons in "
        f"{len(history)} events over {shown.n_samples_seen_} sequences:"
    )
    print("  " + ", ".join(f"{n} after {k}" for k, n in history))
    for name, scores in (("grown", grown_scores), ("fixed", fixed_scores)):
        print(
            f"{name} reservoir ({final_size} neurons) test accuracy: "
            f"{np.mean(scores):.3f} +/- {np.std(scores):.3f} over {args.seeds} seeds "
            f"(" + ", ".join(f"{score:.3f}" for score in scores) + ")"
        )
    print(
        f"auto-sized reservoir (seed 0: {shown_auto.n_units_} neurons, stopped: "
        f"{shown_auto.stop_reason_}; sizes over seeds {auto_sizes}) test accuracy: "
        f"{np.mean(auto_scores):.3f} +/- {np.std(auto_scores):.3f} over {args.seeds} seeds"
    )
    print(
        "  validation accuracy per size (seed 0): "
        + ", ".join(
            f"{n}: {score:.3f}"
            for n, score in zip(shown_auto.n_units_history_, shown_auto.validation_scores_)
        )
    )
    print(f"time: {time.perf_counter() - start:.1f} s")

    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, (ax, ax_acc, ax_auto) = plt.subplots(
        1, 3, figsize=(12.5, 3.6), gridspec_kw={"width_ratios": [2.4, 1.2, 1.6]}
    )
    sizes_x = np.r_[0, history[:, 0], shown.n_samples_seen_]
    sizes_y = np.r_[shown.reservoir_dim, history[:, 1], final_size]
    ax.step(
        sizes_x,
        sizes_y,
        where="post",
        color="C0",
        linewidth=2,
        label="reservoir_size_ (seed 0)",
    )
    ax.plot(
        history[:, 0],
        history[:, 1],
        "o",
        color="C0",
        markersize=4,
        label="growth_history_",
    )
    ax.axhline(shown.max_reservoir_dim, color="grey", linestyle=":", linewidth=1)
    ax.text(
        0,
        shown.max_reservoir_dim,
        " max_reservoir_dim",
        va="bottom",
        fontsize=8,
        color="grey",
    )
    ax.set(
        xlabel="sequences seen",
        ylabel="active neurons",
        ylim=(0, shown.max_reservoir_dim * 1.12),
    )
    ax.set_title(
        f"Growth on {args.dataset}: partial_fit over {N_BATCHES} batches", fontsize=9
    )
    signal_ax = ax.twinx()
    signal_ax.plot(
        shown_seen,
        shown_signal,
        ".-",
        color="C1",
        linewidth=1,
        markersize=5,
        label="growth signal: batch mean |state|",
    )
    signal_ax.axhline(
        shown.growth_threshold,
        color="C1",
        linestyle="--",
        linewidth=1,
        label="growth_threshold",
    )
    signal_ax.set_ylabel("mean |state|", color="C1")
    signal_ax.set_ylim(0, max(max(shown_signal), shown.growth_threshold) * 1.6)
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = signal_ax.get_legend_handles_labels()
    ax.legend(
        handles + more_handles,
        labels + more_labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        ncol=2,
        fontsize=8,
        frameon=False,
    )

    names = [
        f"grown\n{shown.reservoir_dim}→{final_size}",
        f"fixed\n{final_size}",
        f"auto-sized\n~{int(np.median(auto_sizes))}",
    ]
    all_scores = (grown_scores, fixed_scores, auto_scores)
    bars = ax_acc.bar(
        names,
        [np.mean(s) for s in all_scores],
        yerr=[np.std(s) for s in all_scores],
        color=["C0", "C7", "C2"],
        width=0.6,
        capsize=4,
    )
    ax_acc.bar_label(bars, fmt="%.3f", fontsize=8, label_type="center", color="white")
    for k, scores in enumerate(all_scores):
        ax_acc.plot(np.full(len(scores), k), scores, "k.", markersize=4)
    low = min(grown_scores + fixed_scores + auto_scores)
    ax_acc.set(ylabel="test accuracy", ylim=(max(0.0, low - 0.05), 1.0))
    ax_acc.set_title(f"Ridge readout, {args.seeds} seeds", fontsize=9)
    ax_auto.plot(
        shown_auto.n_units_history_, shown_auto.validation_scores_, "o-", color="C2",
        markersize=4, label="validation accuracy",
    )
    kept = shown_auto.best_index_
    ax_auto.plot(
        shown_auto.n_units_history_[kept], shown_auto.validation_scores_[kept], "*",
        color="k", markersize=11, label=f"kept: {shown_auto.n_units_} neurons",
    )
    ax_auto.set(xlabel="neurons (blocks of 25)", ylabel="validation accuracy")
    ax_auto.set_title(
        f"AutoSizeClassifier (seed 0): stopped on {shown_auto.stop_reason_}", fontsize=9
    )
    ax_auto.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    _plotting.save(fig, args.out, "neurogenesis.png")


if __name__ == "__main__":
    main()
