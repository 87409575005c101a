"""Quickstart: a spiking reservoir and a ridge readout classify handwritten digits
===============================================================================

scikit-learn's 8 x 8 digits are read top to bottom, one image row per time
step (``n_steps=8``: each 64-pixel row of ``X`` is split into 8 steps of 8
pixels). ``SNLNNTransformer`` runs every image through the spiking,
growing reservoir and summarises the trajectory (final state, mean state,
spike rate of every neuron); a ``RidgeClassifier`` is the only trained part.
It prints the test accuracy and writes the test confusion matrix to
``quickstart.png``. Runs in a few seconds.

    python examples/quickstart.py [--out DIR]
"""

import time

import _plotting
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from reservoir import SNLNNTransformer


def main(argv=None):
    args = _plotting.argument_parser(__doc__).parse_args(argv)
    start = time.perf_counter()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.25, stratify=y, random_state=0
    )
    model = make_pipeline(
        SNLNNTransformer(reservoir_dim=200, n_steps=8, random_state=0),
        RidgeClassifier(alpha=1.0),
    )
    model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)

    reservoir = model[0]
    print(
        f"reservoir: {reservoir.reservoir_size_} active neurons "
        f"(started with {reservoir.reservoir_dim}), "
        f"{reservoir.spike_rate_:.1%} of neuron-steps spiked"
    )
    print(f"test accuracy: {accuracy:.3f}")
    print(f"time: {time.perf_counter() - start:.1f} s")

    plt = _plotting.pyplot()
    if plt is None:
        return
    matrix = confusion_matrix(y_test, model.predict(X_test))
    fig, ax = plt.subplots(figsize=(4.6, 4))
    image = ax.imshow(matrix, cmap="Blues")
    for (true, pred), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if count > matrix.max() / 2 else "black"
            ax.text(
                pred, true, count, ha="center", va="center", fontsize=7, color=colour
            )
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted digit",
        ylabel="true digit",
        title=f"SNLNN + ridge on digits: test accuracy {accuracy:.3f}",
    )
    ax.title.set_fontsize(9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    _plotting.save(fig, args.out, "quickstart.png")


if __name__ == "__main__":
    main()
