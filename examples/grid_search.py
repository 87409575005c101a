"""Grid search: tune the reservoir's spectral radius and leak rate with GridSearchCV
=================================================================================

``SNLNNTransformer`` is an ordinary scikit-learn estimator, so its
parameters are searched like any other pipeline step's:
``snlnntransformer__spectral_radius`` (how strongly the reservoir echoes its
own past) x ``snlnntransformer__leak_rate`` (how fast a neuron forgets), and
the ridge penalty ``ridgeclassifier__alpha`` of the readout, with 3-fold
cross-validation on scikit-learn's digits read as 8 rows of 8 pixels. Growth
is disabled (``max_reservoir_dim=reservoir_dim``) so that every cell of the
grid compares reservoirs of the same size: the growth rule depends on the
state statistics, which themselves depend on the parameters searched.

It prints the best parameters, their cross-validated accuracy and the test
accuracy of the refitted best model, and writes a heatmap of the
cross-validated accuracy over spectral radius x leak rate (best penalty per
cell) to ``grid_search.png``. About 10 s on 2 idle cores (216 fits).

    python examples/grid_search.py [--n-jobs 2] [--out DIR]
"""

import time

import _plotting
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from reservoir import SNLNNTransformer

SPECTRAL_RADII = [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
LEAK_RATES = [0.1, 0.3, 0.6, 1.0]
ALPHAS = [0.01, 0.1, 1.0]


def main(argv=None):
    parser = _plotting.argument_parser(__doc__)
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="parallel fits (GridSearchCV n_jobs)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, test_size=0.25, stratify=y, random_state=0
    )
    model = make_pipeline(
        SNLNNTransformer(
            reservoir_dim=100, max_reservoir_dim=100, n_steps=8, random_state=0
        ),
        RidgeClassifier(),
    )
    grid = {
        "snlnntransformer__spectral_radius": SPECTRAL_RADII,
        "snlnntransformer__leak_rate": LEAK_RATES,
        "ridgeclassifier__alpha": ALPHAS,
    }
    search = GridSearchCV(model, grid, cv=3, n_jobs=args.n_jobs)
    search.fit(X_train, y_train)

    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    print(f"{n_fits} fits in {time.perf_counter() - start:.1f} s")
    print("best parameters:")
    for name, value in sorted(search.best_params_.items()):
        print(f"  {name} = {value}")
    print(f"best cross-validated accuracy: {search.best_score_:.3f}")
    print(f"test accuracy of the best model: {search.score(X_test, y_test):.3f}")

    plt = _plotting.pyplot()
    if plt is None:
        return
    # Best penalty per (radius, leak) cell: the question is which dynamics
    # suit the task once the readout is tuned.
    results = search.cv_results_
    scores = np.full((len(SPECTRAL_RADII), len(LEAK_RATES)), -np.inf)
    for params, score in zip(
        results["params"], results["mean_test_score"], strict=True
    ):
        i = SPECTRAL_RADII.index(params["snlnntransformer__spectral_radius"])
        j = LEAK_RATES.index(params["snlnntransformer__leak_rate"])
        scores[i, j] = max(scores[i, j], score)

    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    image = ax.imshow(scores, cmap="viridis", origin="lower", aspect="auto")
    best = np.unravel_index(np.argmax(scores), scores.shape)
    for (i, j), score in np.ndenumerate(scores):
        weight = "bold" if (i, j) == best else "normal"
        colour = "black" if score > scores.min() + 0.6 * np.ptp(scores) else "white"
        ax.text(
            j,
            i,
            f"{score:.3f}",
            ha="center",
            va="center",
            fontsize=8,
            color=colour,
            fontweight=weight,
        )
    ax.add_patch(
        plt.Rectangle(
            (best[1] - 0.5, best[0] - 0.5),
            1,
            1,
            fill=False,
            edgecolor="red",
            linewidth=2,
        )
    )
    ax.set(
        xticks=range(len(LEAK_RATES)),
        xticklabels=LEAK_RATES,
        yticks=range(len(SPECTRAL_RADII)),
        yticklabels=SPECTRAL_RADII,
        xlabel="leak_rate",
        ylabel="spectral_radius",
    )
    ax.set_title("3-fold CV accuracy on digits (best ridge alpha per cell)", fontsize=9)
    fig.colorbar(image, ax=ax, label="mean CV accuracy")
    _plotting.save(fig, args.out, "grid_search.png")


if __name__ == "__main__":
    main()
