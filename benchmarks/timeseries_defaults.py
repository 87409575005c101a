"""Defaults of SNLNNSeriesTransformer and SNLNNForecaster, chosen across tasks.

Every configuration of a small grid (spectral radius, leak rate, input
scaling, ridge penalty; the other parameters at their defaults: 300 units,
density 0.1, bias 0.5, washout "auto") is fitted on the four tasks of
``benchmarks/timeseries.py`` with ``--seeds`` reservoir seeds. A task's error
for a configuration is the geometric mean over the seeds of its NRMSE (MG
free run: the median over the 10 starts of the NRMSE over 500 generated
steps); its score is the geometric mean over the tasks of (error / the best
error of that task), 1.0 being best on every task. No timing: run it under
the shared lock all the same, it is a long computation::

    flock /tmp/snlnn-bench.lock python benchmarks/timeseries_defaults.py
"""

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, markdown_table, save_json  # noqa: E402
from timeseries import data, nrmse, rescale  # noqa: E402

from reservoir import SNLNNForecaster, SNLNNSeriesTransformer  # noqa: E402
from reservoir.datasets import mackey_glass  # noqa: E402

GRID = dict(
    spectral_radius=(0.9, 1.0, 1.2),
    leak_rate=(0.3, 0.6, 1.0),
    input_scaling=(0.1, 0.3, 1.0),
    alpha=(1e-8, 1e-6),
)
TASKS = ("mg10", "mg_free", "narma", "lorenz")


def model(config, seed, units):
    reservoir = SNLNNSeriesTransformer(
        units, spectral_radius=config["spectral_radius"],
        leak_rate=config["leak_rate"], input_scaling=config["input_scaling"],
        random_state=seed,
    )
    return SNLNNForecaster(reservoir, alpha=config["alpha"])


def task_error(task, config, seed, units, quick):
    if task == "mg_free":
        n_train, n_gen, n_context = (2000, 500, 300) if quick else (5000, 500, 500)
        starts = [n_train + 1 + k * 300 for k in range(10)]
        x = rescale(mackey_glass(starts[-1] + n_gen + 1, random_state=0))
        fitted = model(config, seed, units).fit(x[:n_train], x[1 : n_train + 1])
        return float(np.median([
            nrmse(fitted.generate(n_gen, X=x[s - n_context : s]), x[s : s + n_gen],
                  x.std())
            for s in starts
        ]))
    X_train, y_train, X_test, y_test = data(task, quick)
    fitted = model(config, seed, units).fit(X_train, y_train)
    return nrmse(fitted.predict(X_test, initial_state=fitted.final_state_), y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--units", type=int, default=300, help="the default size")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default="timeseries_defaults.json")
    args = parser.parse_args(argv)

    names = list(GRID)
    configs = [dict(zip(names, values)) for values in itertools.product(*GRID.values())]
    errors = np.empty((len(configs), len(TASKS), args.seeds))
    start = time.perf_counter()
    for c, config in enumerate(configs):
        for t, task in enumerate(TASKS):
            for seed in range(args.seeds):
                with warnings.catch_warnings():
                    # alpha=1e-8 on some draws: the least-squares fallback is
                    # the answer the penalty allows, so keep it, silently.
                    warnings.simplefilter("ignore")
                    errors[c, t, seed] = task_error(task, config, seed, args.units,
                                                    args.quick)
        print(f"{c + 1}/{len(configs)} {config} "
              f"{np.exp(np.log(errors[c]).mean(1)).round(5).tolist()} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    per_task = np.exp(np.log(errors).mean(axis=2))  # geometric mean over seeds
    ratios = per_task / per_task.min(axis=0)
    scores = np.exp(np.log(ratios).mean(axis=1))
    order = np.argsort(scores)
    current = configs.index(dict(spectral_radius=0.9, leak_rate=0.3,
                                 input_scaling=1.0, alpha=1e-8))
    rows = [
        [rank + 1 if rank >= 0 else "current", *configs[c].values(),
         f"{scores[c]:.3f}",
         *[f"{per_task[c, t]:.2e} ({ratios[c, t]:.1f}x)" for t in range(len(TASKS))]]
        for rank, c in [*enumerate(order[:10]), (-1, current)]
    ]
    print(markdown_table(["rank", *names, "score", *TASKS], rows))
    results = dict(
        machine=machine_info(), units=args.units, seeds=args.seeds, quick=args.quick,
        grid=GRID, tasks=TASKS, seconds=time.perf_counter() - start,
        configs=[dict(config, score=float(scores[c]),
                      error={task: per_task[c, t] for t, task in enumerate(TASKS)},
                      ratio={task: ratios[c, t] for t, task in enumerate(TASKS)},
                      error_per_seed={task: errors[c, t].tolist()
                                      for t, task in enumerate(TASKS)})
                 for c, config in enumerate(configs)],
        best=configs[order[0]], best_error_per_task=dict(zip(TASKS, per_task.min(0))),
    )
    print(f"results written to {save_json(results, args.output)}")


if __name__ == "__main__":
    main()
