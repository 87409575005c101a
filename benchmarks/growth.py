"""Task-driven growth (issue #13): auto-sizing against a grid of fixed sizes, and
growth under drift.

**Sizing.** On digits (8 rows as 8 steps) and MNIST (28 rows as 28 steps,
deskewed once before any timing, the first ``--mnist-train`` training images
and the 10,000 test images), for each seed:

- the grid: a fixed reservoir of N = 100, 200, ..., 3200 units (doubling),
  made of N / 100 independent 100-unit blocks (``leak_rate=(0.3,) * (N //
  100)``: the same model family as the growing one), each fitted with
  ``SNLNNClassifier`` (standardised features, ridge ``alpha``);
- auto-sizing: ``AutoSizeClassifier`` with the same template, 100-unit blocks,
  10% validation split, patience 2, ``tol=1e-3``, the same ``alpha``.

Reported per dataset, medians over seeds: test accuracy and fit time of every
grid size, the best grid size (by test accuracy, which favours the grid), and
the auto-sized model's accuracy, final size and fit time against the grid's
total fit time. Targets: within 0.1 point of the best grid size, final size
<= 1.25x that size, fit time <= a third of the grid's total.

**Drift.** A stream in batches learnt by ``partial_fit``: MNIST upright, then
the same digits rotated by 90 degrees (other images); and digits 0-4, then
5-9. Compared on the same stream: the growing model (``AutoSizeClassifier``
starting at ``--drift-start`` blocks, ``drift_blocks`` more at a drop of the
prequential score), fixed models of the starting and of the final size (the
same estimator with ``max_blocks = initial_blocks``), and refitting from
scratch on everything seen at the end of each stage (the final size, fit).
Accuracy after each stage on test sets of the old and new distributions,
and the cost (seconds) of each stage; the refit's cost is its whole fit.

Run (hold the machine-wide benchmark lock)::

    flock /tmp/snlnn-bench.lock python benchmarks/growth.py            # ~12 min
    flock /tmp/snlnn-bench.lock python benchmarks/growth.py --quick    # CI, ~1 min

Writes ``benchmarks/results/growth.json`` (``growth_quick.json`` with
``--quick``) and a figure ``growth.png`` beside it (with matplotlib).
"""

import argparse
import datetime
import os
import statistics
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import Timer, machine_info, machine_line, markdown_table, save_json  # noqa: E402

BLOCK = 100
GRID = (100, 200, 400, 800, 1600, 3200)


def _say(message):
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------- data


def _checkout_data_dir():
    directory = ROOT.parent / "shared" / "data" / "mnist"
    return str(directory) if (directory / "t10k-labels-idx1-ubyte.gz").is_file() else None


def load_digits_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16).astype(np.float32), y, test_size=0.25, stratify=y, random_state=0
    )
    return X_train, y_train, X_test, y_test


def load_mnist_split(data_dir, n_train, n_test=None):
    from reservoir.datasets import load_mnist
    from reservoir.preprocessing import deskew

    X_train, y_train, X_test, y_test = load_mnist(data_dir, return_X_y=True)
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    if n_test:
        X_test, y_test = X_test[:n_test], y_test[:n_test]
    return (
        deskew(X_train.astype(np.float32)), y_train,
        deskew(X_test.astype(np.float32)), y_test,
    )


def rotate(X):
    """Flattened square images rotated by 90 degrees."""
    side = round(X.shape[1] ** 0.5)
    images = X.reshape(-1, side, side)
    return np.ascontiguousarray(np.rot90(images, axes=(1, 2))).reshape(len(X), -1)


# ----------------------------------------------------------------- models


def template(dataset, units=BLOCK, n_jobs=-1, seed=None):
    """A reservoir of ``units`` neurons in independent blocks of ``BLOCK``."""
    from reservoir import SNLNNTransformer

    groups = max(1, units // BLOCK)
    common = dict(
        leak_rate=(0.3,) * groups, spike_threshold=1.0, summaries=("final", "mean"),
        n_jobs=n_jobs, random_state=seed,
    )
    if dataset == "digits":
        return SNLNNTransformer(units, n_steps=8, **common)
    return SNLNNTransformer(
        units, n_steps=28, spectral_radius=1.0, input_scaling=0.2,
        input_weights="receptive_field", receptive_field=10,
        standardize_input=False, **common,
    )


ALPHA = {"digits": 1.0, "mnist": 1.0}


def autosize(dataset, seed, n_jobs, **params):
    from reservoir import AutoSizeClassifier

    settings = dict(block_size=BLOCK, max_blocks=40, validation_fraction=0.1,
                    n_iter_no_change=2, tol=1e-3, alpha=ALPHA[dataset])
    settings.update(params)
    return AutoSizeClassifier(template(dataset, n_jobs=n_jobs), random_state=seed, **settings)


# ----------------------------------------------------------------- sizing


def run_sizing(dataset, data, seeds, grid, n_jobs):
    from reservoir import SNLNNClassifier

    X_train, y_train, X_test, y_test = data
    runs = []
    for seed in seeds:
        run = {"seed": seed, "grid": {}}
        for units in grid:
            model = SNLNNClassifier(
                template(dataset, units, n_jobs), alpha=ALPHA[dataset], random_state=seed
            )
            with Timer() as t:
                model.fit(X_train, y_train)
            accuracy = float(model.score(X_test, y_test))
            run["grid"][units] = {"accuracy": accuracy, "fit_s": t.seconds}
            _say(f"[{dataset} seed {seed}] fixed {units}: {100 * accuracy:.2f}% "
                 f"in {t.seconds:.1f} s")
        model = autosize(dataset, seed, n_jobs)
        with Timer() as t:
            model.fit(X_train, y_train)
        accuracy = float(model.score(X_test, y_test))
        best = max(grid, key=lambda u: run["grid"][u]["accuracy"])
        run["auto"] = {
            "accuracy": accuracy,
            "units": int(model.n_units_),
            "fit_s": t.seconds,
            "units_history": model.n_units_history_.tolist(),
            "validation_scores": model.validation_scores_.tolist(),
            "stop_reason": model.stop_reason_,
        }
        run["best_grid_units"] = best
        run["best_grid_accuracy"] = run["grid"][best]["accuracy"]
        run["grid_total_s"] = sum(v["fit_s"] for v in run["grid"].values())
        _say(f"[{dataset} seed {seed}] auto: {100 * accuracy:.2f}% at {model.n_units_} "
             f"units ({model.stop_reason_}) in {t.seconds:.1f} s; best fixed {best}: "
             f"{100 * run['best_grid_accuracy']:.2f}%; grid total {run['grid_total_s']:.1f} s")
        runs.append(run)
    med = statistics.median
    summary = {
        "grid": {
            units: {
                "accuracy": med(r["grid"][units]["accuracy"] for r in runs),
                "fit_s": med(r["grid"][units]["fit_s"] for r in runs),
            }
            for units in grid
        },
        "auto_accuracy": med(r["auto"]["accuracy"] for r in runs),
        "auto_units": med(r["auto"]["units"] for r in runs),
        "auto_fit_s": med(r["auto"]["fit_s"] for r in runs),
        "best_grid_accuracy": med(r["best_grid_accuracy"] for r in runs),
        "best_grid_units": med(r["best_grid_units"] for r in runs),
        "grid_total_s": med(r["grid_total_s"] for r in runs),
        # Per seed, then the median: each seed's own best size and grid cost.
        "accuracy_gap_points": med(
            100 * (r["auto"]["accuracy"] - r["best_grid_accuracy"]) for r in runs
        ),
        "size_ratio": med(r["auto"]["units"] / r["best_grid_units"] for r in runs),
        "time_ratio": med(r["auto"]["fit_s"] / r["grid_total_s"] for r in runs),
    }
    summary["targets"] = {
        "accuracy_within_0.1_point": summary["accuracy_gap_points"] >= -0.1,
        "size_at_most_1.25x": summary["size_ratio"] <= 1.25,
        "time_at_most_a_third": summary["time_ratio"] <= 1 / 3,
    }
    return {"runs": runs, "median": summary}


# ------------------------------------------------------------------ drift


def _stream(X, y, batch):
    for start in range(0, len(X), batch):
        yield X[start : start + batch], y[start : start + batch]


def run_drift(name, stages, tests, classes, dataset, start_blocks, drift_blocks, batch,
              n_jobs, seed=0):
    """``stages``: list of (X, y) learnt in order; ``tests``: {name: (X, y)}."""
    from reservoir import AutoSizeClassifier

    final_blocks = start_blocks + drift_blocks
    common = dict(alpha=ALPHA[dataset], block_size=BLOCK, drift_tol=0.05, drift_window=3,
                  drift_blocks=drift_blocks)
    models = {
        "growing": autosize(dataset, seed, n_jobs, initial_blocks=start_blocks,
                            max_blocks=final_blocks, **common),
        "fixed_start": autosize(dataset, seed, n_jobs, initial_blocks=start_blocks,
                                max_blocks=start_blocks, **common),
        "fixed_final": autosize(dataset, seed, n_jobs, initial_blocks=final_blocks,
                                max_blocks=final_blocks, **common),
    }
    result = {name_: {"stages": []} for name_ in (*models, "refit")}
    seen_X, seen_y = [], []
    for k, (X, y) in enumerate(stages):
        seen_X.append(X)
        seen_y.append(y)
        for label, model in models.items():
            with Timer() as t:
                for X_batch, y_batch in _stream(X, y, batch):
                    model.partial_fit(X_batch, y_batch, classes=classes)
            result[label]["stages"].append({
                "cost_s": t.seconds,
                "units": int(model.n_units_),
                "accuracy": {n: float(model.score(*d)) for n, d in tests.items()},
            })
            _say(f"[drift {name}] stage {k + 1} {label}: {model.n_units_} units, "
                 f"{t.seconds:.1f} s, " + ", ".join(
                     f"{n} {100 * a:.2f}%"
                     for n, a in result[label]["stages"][-1]["accuracy"].items()))
        refit = AutoSizeClassifier(
            template(dataset, n_jobs=n_jobs), random_state=seed,
            initial_blocks=models["growing"].n_blocks_,
            max_blocks=models["growing"].n_blocks_, **common,
        )
        with Timer() as t:
            refit.fit(np.concatenate(seen_X), np.concatenate(seen_y))
        result["refit"]["stages"].append({
            "cost_s": t.seconds,
            "units": int(refit.n_units_),
            "accuracy": {n: float(refit.score(*d)) for n, d in tests.items()},
        })
        _say(f"[drift {name}] stage {k + 1} refit: {refit.n_units_} units, {t.seconds:.1f} s")
    growing = models["growing"]
    result["growing"]["units_per_batch"] = growing.n_units_history_.tolist()
    result["growing"]["prequential_scores"] = growing.validation_scores_.tolist()
    result["fixed_start"]["prequential_scores"] = (
        models["fixed_start"].validation_scores_.tolist()
    )
    result["settings"] = {
        "start_units": start_blocks * BLOCK, "final_units_max": final_blocks * BLOCK,
        "batch": batch, "seed": seed, **{k: v for k, v in common.items()},
    }
    return result


def drift_table(name, result, new_test):
    rows = []
    for label in ("growing", "fixed_start", "fixed_final", "refit"):
        stages = result[label]["stages"]
        last = stages[-1]
        rows.append([
            label,
            " -> ".join(str(s["units"]) for s in stages),
            " / ".join(f"{100 * a:.2f}" for a in stages[0]["accuracy"].values()),
            " / ".join(f"{100 * a:.2f}" for a in last["accuracy"].values()),
            " / ".join(f"{s['cost_s']:.1f}" for s in stages),
        ])
    tests = " / ".join(result["growing"]["stages"][0]["accuracy"])
    header = ["model", "units per stage", f"stage 1 acc. % ({tests})",
              f"stage 2 acc. % ({tests})", "cost per stage s"]
    growing, refit, start = (result[k]["stages"][-1] for k in ("growing", "refit", "fixed_start"))
    verdict = {
        "gap_to_refit_points": 100 * (growing["accuracy"][new_test] - refit["accuracy"][new_test]),
        "cost_ratio_to_refit": growing["cost_s"] / refit["cost_s"],
        "beats_fixed_start_points": 100 * (
            growing["accuracy"][new_test] - start["accuracy"][new_test]
        ),
    }
    verdict["targets"] = {
        "within_0.5_point_of_refit": verdict["gap_to_refit_points"] >= -0.5,
        "less_than_half_the_refit_cost": verdict["cost_ratio_to_refit"] < 0.5,
        "beats_fixed_start": verdict["beats_fixed_start_points"] > 0,
    }
    return markdown_table(header, rows), verdict


# ----------------------------------------------------------------- figure


def figure(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _say('matplotlib not installed: no figure (pip install ".[examples]")')
        return None
    sizing = results["sizing"]
    drift = results["drift"]
    fig, axes = plt.subplots(1, len(sizing) + len(drift), figsize=(4.2 * (len(sizing) + len(drift)), 3.6))
    for ax, (dataset, entry) in zip(axes, sizing.items()):
        grid = entry["median"]["grid"]
        units = [int(u) for u in grid]
        ax.plot(units, [100 * grid[u]["accuracy"] for u in grid], "o-", color="C7",
                label="fixed size (median)")
        for run in entry["runs"]:
            ax.plot(run["auto"]["units"], 100 * run["auto"]["accuracy"], "*", color="C0",
                    markersize=10, label="auto-sized (per seed)"
                    if run is entry["runs"][0] else None)
        m = entry["median"]
        ax.set_xscale("log", base=2)
        ax.set(xlabel="units", ylabel="test accuracy %",
               title=f"{dataset}: auto {m['auto_fit_s']:.0f} s vs grid {m['grid_total_s']:.0f} s",)
        ax.title.set_fontsize(9)
        ax.legend(fontsize=8)
    for ax, (name, entry) in zip(axes[len(sizing):], drift.items()):
        scores = entry["growing"]["prequential_scores"]
        ax.plot(100 * np.asarray(scores), ".-", color="C0", label="growing")
        ax.plot(100 * np.asarray(entry["fixed_start"]["prequential_scores"]), ".-",
                color="C7", label="fixed (start size)")
        ax.set(xlabel="batch", ylabel="prequential accuracy %", title=f"drift: {name}")
        ax.title.set_fontsize(9)
        units_ax = ax.twinx()
        units_ax.step(range(len(scores)), entry["growing"]["units_per_batch"], where="post",
                      color="C1", label="growing: units")
        units_ax.set_ylabel("units", color="C1")
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


# ------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", default=os.environ.get("SNLNN_MNIST_DIR")
                        or _checkout_data_dir(), help="MNIST IDX files")
    parser.add_argument("--quick", action="store_true", help="CI-size run")
    parser.add_argument("--seeds", type=int, default=None, help="seeds (default 5, quick 2)")
    parser.add_argument("--mnist-train", type=int, default=None,
                        help="MNIST training images for sizing (default 20000)")
    parser.add_argument("--only", nargs="+", choices=("sizing", "drift"),
                        default=["sizing", "drift"])
    parser.add_argument("--datasets", nargs="+", choices=("digits", "mnist"),
                        default=["digits", "mnist"])
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args(argv)
    seeds = range(args.seeds or (2 if args.quick else 5))
    n_train = args.mnist_train or (2000 if args.quick else 20000)
    grid = GRID[:4] if args.quick else GRID
    warnings.simplefilter("ignore", UserWarning)

    info = machine_info()
    results = {"benchmark": "growth", "machine": info,
               "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "args": vars(args), "grid": list(grid), "sizing": {}, "drift": {}}
    data = {}
    if "digits" in args.datasets:
        data["digits"] = load_digits_split()
    if "mnist" in args.datasets:
        data["mnist"] = load_mnist_split(args.data_dir, n_train,
                                         n_test=1000 if args.quick else None)
    if "sizing" in args.only:
        for dataset, split in data.items():
            results["sizing"][dataset] = run_sizing(dataset, split, seeds, grid, args.n_jobs)
            results["sizing"][dataset]["n_train"] = len(split[0])
            results["sizing"][dataset]["n_test"] = len(split[2])
    tables = []
    if "drift" in args.only:
        if "digits" in data:
            X_train, y_train, X_test, y_test = data["digits"]
            old, new = y_train < 5, y_train >= 5
            tests = {"0-4": (X_test[y_test < 5], y_test[y_test < 5]), "0-9": (X_test, y_test)}
            entry = run_drift(
                "digits 0-4 then 5-9", [(X_train[old], y_train[old]), (X_train[new], y_train[new])],
                tests, np.arange(10), "digits", start_blocks=2, drift_blocks=2, batch=100,
                n_jobs=args.n_jobs,
            )
            table, verdict = drift_table("digits", entry, "0-9")
            entry["verdict"] = verdict
            results["drift"]["digits 0-4 then 5-9"] = entry
            tables.append(("digits 0-4 then 5-9 (test: 0-4 / all)", table, verdict))
        if "mnist" in data:
            X_train, y_train, X_test, y_test = data["mnist"]
            half = len(X_train) // 2
            tests = {"upright": (X_test, y_test), "rotated": (rotate(X_test), y_test)}
            entry = run_drift(
                "MNIST upright then rotated 90",
                [(X_train[:half], y_train[:half]), (rotate(X_train[half:]), y_train[half:])],
                tests, np.arange(10), "mnist", start_blocks=4, drift_blocks=4,
                batch=250 if args.quick else 1000, n_jobs=args.n_jobs,
            )
            table, verdict = drift_table("mnist", entry, "rotated")
            entry["verdict"] = verdict
            results["drift"]["MNIST upright then rotated 90"] = entry
            tables.append(("MNIST upright then rotated 90 (test: upright / rotated)", table,
                           verdict))

    for dataset, entry in results["sizing"].items():
        m = entry["median"]
        print(f"\n## Sizing on {dataset} ({entry['n_train']} train / {entry['n_test']} "
              f"test; medians over {len(seeds)} seeds)\n")
        rows = [[f"fixed {u}", f"{100 * v['accuracy']:.2f}", f"{v['fit_s']:.1f}"]
                for u, v in m["grid"].items()]
        rows.append([f"grid total (best {m['best_grid_units']:g} units: "
                     f"{100 * m['best_grid_accuracy']:.2f}%)", "", f"{m['grid_total_s']:.1f}"])
        rows.append([f"auto-sized ({m['auto_units']:g} units)", f"{100 * m['auto_accuracy']:.2f}",
                     f"{m['auto_fit_s']:.1f}"])
        print(markdown_table(["model", "test acc. %", "fit s"], rows))
        print(f"\nauto - best fixed: {m['accuracy_gap_points']:+.2f} points; size ratio "
              f"{m['size_ratio']:.2f}; time ratio {m['time_ratio']:.2f}; targets: {m['targets']}")
    for title, table, verdict in tables:
        print(f"\n## Drift: {title}\n")
        print(table)
        print(f"\ngrowing - refit: {verdict['gap_to_refit_points']:+.2f} points at "
              f"{verdict['cost_ratio_to_refit']:.2f}x its cost; growing - fixed start: "
              f"{verdict['beats_fixed_start_points']:+.2f} points; targets: {verdict['targets']}")
    print(f"\n{machine_line(info)}")
    name = "growth_quick" if args.quick else "growth"
    out = save_json(results, f"{name}.json")
    print(f"Saved {out.relative_to(ROOT)}")
    png = figure(results, out.with_suffix(".png"))
    if png:
        print(f"Saved {Path(png).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
