"""Forecasting benchmark: SNLNNForecaster and ReservoirPy side by side, one run.

Tasks (NRMSE = RMSE / std of the test target; for the free run, / std of the
whole rescaled series, since an 84-step window's own std is small):

- ``mg10``: Mackey-Glass tau=17, 10,000 steps rescaled to [-1, 1], 10 steps
  ahead, first 80% train / last 20% test (the test continues from the final
  training state).
- ``mg_free``: train one step ahead on 5,000 steps, then generate 500 steps
  closed loop from 10 start points after the training data (each after a
  500-step teacher-forced context); NRMSE over the first 84, 200 and 500
  generated steps, median over the starts; truth vs generation is plotted
  to ``benchmarks/results/timeseries_mg_free.png``.
- ``narma``: NARMA-10 one step ahead, 4,000 train / 2,000 test after a
  200-step discard.
- ``lorenz``: Lorenz (x, y, z) one step ahead (step 0.01, each channel
  standardised), 8,000 train / 2,000 test after a 1,000-step discard.
- ``collect``: single-series state collection (500 and 1000 units, dense and
  10% sparse W, float64) as a share of the matching matrix-vector rate
  (``np.dot(W, v)`` or scipy ``csr @ v`` per step), measured in the same run.

Every time is the median of ``--repeats`` (3) runs of fit + predict (or fit +
generate), with the spectral-radius cache cleared before each, so SNLNN pays
its eigen-solve as ReservoirPy does. ReservoirPy (``pip install
reservoirpy==0.4.2``) gets the same units, density, leak, spectral radius,
input scaling (input connectivity 1) and ridge penalty; it is skipped when it
is not installed. Run under the shared lock, with the machine's BLAS as is and
with OpenBLAS choosing its own kernel::

    flock /tmp/snlnn-bench.lock python benchmarks/timeseries.py
    flock /tmp/snlnn-bench.lock env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/timeseries.py --output timeseries-own-kernel.json
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info, markdown_table, save_json  # noqa: E402

from reservoir import SNLNNForecaster, SNLNNSeriesTransformer  # noqa: E402
from reservoir import _weights  # noqa: E402
from reservoir.datasets import lorenz, mackey_glass, narma  # noqa: E402


# Per-task settings (chosen by small sweeps over spectral radius, leak, input
# scaling and the penalty; see the README). "default" rows use the defaults.
TASKS = {
    "mg10": dict(units=500, sr=1.2, lr=0.6, input_scaling=0.5, alpha=1e-8),
    "mg_free": dict(units=1000, sr=1.25, lr=0.6, input_scaling=0.5, alpha=1e-8),
    "narma": dict(units=500, sr=1.0, lr=1.0, input_scaling=0.1, alpha=1e-8),
    "lorenz": dict(units=500, sr=0.9, lr=0.6, input_scaling=0.2, alpha=1e-8),
}
DENSITY = 0.1
WASHOUT = 100


def nrmse(pred, truth, scale=None):
    truth = np.asarray(truth).reshape(len(truth), -1)
    pred = np.asarray(pred).reshape(truth.shape)
    scale = truth.std(axis=0) if scale is None else scale
    return float(np.mean(np.sqrt(np.mean((pred - truth) ** 2, axis=0)) / scale))


def rescale(x):
    return 2 * (x - x.min()) / (x.max() - x.min()) - 1


def data(task, quick):
    """``(X_train, y_train, X_test, y_test)`` of one task."""
    if task == "mg10":
        x = rescale(mackey_glass(4000 if quick else 10000, random_state=0))
        X, y = x[:-10], x[10:]
        n_train = int(0.8 * len(x))
        return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    if task == "narma":
        u, y = narma(3000 if quick else 6200, discard=200, random_state=0)
        n_train = 2000 if quick else 4000
        return u[:n_train], y[:n_train], u[n_train:], y[n_train:]
    if task == "lorenz":
        xyz = lorenz(5000 if quick else 10001, discard=1000, random_state=0)
        xyz = (xyz - xyz.mean(0)) / xyz.std(0)
        X, y = xyz[:-1], xyz[1:]
        n_train = 4000 if quick else 8000
        return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    raise ValueError(task)


def snlnn(config, defaults=False):
    if defaults:
        return SNLNNForecaster(SNLNNSeriesTransformer(config["units"], random_state=0))
    reservoir = SNLNNSeriesTransformer(
        config["units"], spectral_radius=config["sr"], leak_rate=config["lr"],
        input_scaling=config["input_scaling"], density=DENSITY, random_state=0,
    )
    return SNLNNForecaster(reservoir, alpha=config["alpha"], washout=WASHOUT)


def reservoirpy_model(config):
    from reservoirpy.nodes import Reservoir, Ridge

    reservoir = Reservoir(
        config["units"], lr=config["lr"], sr=config["sr"],
        input_scaling=config["input_scaling"], input_connectivity=1.0,
        rc_connectivity=DENSITY, seed=0,
    )
    return reservoir >> Ridge(ridge=config["alpha"])


def timed(function, repeats):
    """Median wall time of ``repeats`` calls and the last result."""
    times = []
    for _ in range(repeats):
        _weights._RADIUS_CACHE.clear()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), times, result


def teacher_forced(task, repeats, quick, has_rpy):
    config = TASKS[task]
    X_train, y_train, X_test, y_test = data(task, quick)
    n_steps = len(X_train) + len(X_test)

    def ours():
        model = snlnn(config).fit(X_train, y_train)
        return model.predict(X_test, initial_state=model.final_state_)

    seconds, runs, pred = timed(ours, repeats)
    rows = {"snlnn": dict(nrmse=nrmse(pred, y_test), seconds=seconds, runs=runs,
                          steps_per_s=n_steps / seconds)}
    default_model = snlnn(config, defaults=True).fit(X_train, y_train)
    rows["snlnn_defaults"] = dict(nrmse=nrmse(default_model.predict(
        X_test, initial_state=default_model.final_state_), y_test))
    if has_rpy:
        def theirs():
            esn = reservoirpy_model(config)
            esn.fit(X_train, y_train, warmup=WASHOUT)
            return esn.run(X_test)  # goes on from the final training state

        seconds, runs, pred = timed(theirs, repeats)
        rows["reservoirpy"] = dict(nrmse=nrmse(pred, y_test), seconds=seconds,
                                   runs=runs, steps_per_s=n_steps / seconds)
    return rows


def free_run(repeats, quick, has_rpy, plot):
    config = TASKS["mg_free"]
    n_train, n_gen, n_context = (2000, 500, 300) if quick else (5000, 500, 500)
    starts = [n_train + 1 + k * 300 for k in range(10)]
    x = rescale(mackey_glass(starts[-1] + n_gen + 1, random_state=0))
    scale = x.std()
    horizons = (84, 200, 500)

    def score(forecasts):
        errors = [[nrmse(f[:h], x[s : s + h], scale) for h in horizons]
                  for f, s in zip(forecasts, starts)]
        return dict(zip([f"nrmse_{h}" for h in horizons], np.median(errors, 0).tolist()))

    def ours():
        model = snlnn(config).fit(x[:n_train], x[1 : n_train + 1])
        return [model.generate(n_gen, X=x[s - n_context : s]) for s in starts]

    seconds, runs, forecasts = timed(ours, repeats)
    steps = n_train + len(starts) * (n_context + n_gen)
    rows = {"snlnn": dict(score(forecasts), seconds=seconds, runs=runs,
                          steps_per_s=steps / seconds)}
    defaults = snlnn(config, defaults=True).fit(x[:n_train], x[1 : n_train + 1])
    rows["snlnn_defaults"] = score(
        [defaults.generate(n_gen, X=x[s - n_context : s]) for s in starts]
    )
    if plot:
        _plot(x, starts[0], forecasts[0], n_gen)
    if has_rpy:
        def theirs():
            esn = reservoirpy_model(config)
            esn.fit(x[:n_train], x[1 : n_train + 1], warmup=WASHOUT)
            out = []
            for s in starts:
                esn.reset()
                y = esn.run(x[s - n_context : s])[-1]
                generated = [y]
                for _ in range(n_gen - 1):
                    y = esn.step(y)
                    generated.append(y)
                out.append(np.array(generated).reshape(n_gen, 1))
            return out

        seconds, runs, forecasts = timed(theirs, repeats)
        rows["reservoirpy"] = dict(score(forecasts), seconds=seconds, runs=runs,
                                   steps_per_s=steps / seconds)
    return rows


def _plot(x, start, forecast, n_gen):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(8, 2.6))
    t = np.arange(n_gen)
    ax.plot(t, x[start : start + n_gen, 0], lw=2, color="0.7", label="truth")
    ax.plot(t, forecast[:, 0], lw=1, color="C3", label="generated (closed loop)")
    ax.set(xlabel="steps after the context", title="Mackey-Glass, 1000 units")
    ax.legend(loc="lower left", fontsize=8)
    path = Path(__file__).resolve().parent / "results" / "timeseries_mg_free.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def collect_share(repeats, quick):
    import scipy.sparse as sp

    n_steps = 2000 if quick else 10000
    x = rescale(mackey_glass(n_steps, random_state=0))
    rows = []
    for units in (500, 1000):
        for density in (1.0, DENSITY):
            states = SNLNNSeriesTransformer(units, density=density, random_state=0).fit(x)
            collect, _, _ = timed(lambda: states.transform(x), repeats)
            w = states.recurrent_scale_ * states.recurrent_weights_
            v = np.zeros(units)
            if density < 1:
                w = sp.csr_matrix(w)

                def matvec():
                    for _ in range(n_steps):
                        w @ v
            else:
                w = np.ascontiguousarray(w)
                buffer = np.empty(units)

                def matvec():
                    for _ in range(n_steps):
                        np.dot(w, v, out=buffer)

            product, _, _ = timed(matvec, repeats)
            rows.append(dict(units=units, density=density,
                             collect_steps_per_s=n_steps / collect,
                             matvec_per_s=n_steps / product,
                             share=product / collect))
    return rows


def blas_info():
    from threadpoolctl import threadpool_info

    return [{k: pool.get(k) for k in ("internal_api", "architecture", "version",
                                      "num_threads")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--tasks", nargs="+", default=["mg10", "mg_free", "narma",
                                                       "lorenz", "collect"])
    parser.add_argument("--output", default="timeseries.json")
    parser.add_argument("--no-reservoirpy", action="store_true")
    args = parser.parse_args(argv)

    blas = blas_info()
    print("BLAS:", ", ".join(f"{b['internal_api']} {b['version']} {b['architecture']}"
                             for b in blas))
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} pins "
              "OpenBLAS's kernel; unset it to let OpenBLAS choose its own.")
    has_rpy = False
    rpy_version = None
    if not args.no_reservoirpy:
        try:
            import reservoirpy

            has_rpy, rpy_version = True, reservoirpy.__version__
        except ImportError:
            print("reservoirpy not installed: its columns are skipped "
                  "(pip install reservoirpy==0.4.2)")
    results = dict(machine=machine_info(), blas=blas, reservoirpy=rpy_version,
                   repeats=args.repeats, quick=args.quick, settings=TASKS,
                   density=DENSITY, washout=WASHOUT, tasks={},
                   openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"))
    table = []
    for task in args.tasks:
        if task == "collect":
            results["collect"] = rows = collect_share(args.repeats, args.quick)
            print(markdown_table(
                ["units", "W", "collect steps/s", "matvec/s", "share of matvec"],
                [[r["units"], "dense" if r["density"] == 1 else r["density"],
                  f"{r['collect_steps_per_s']:,.0f}", f"{r['matvec_per_s']:,.0f}",
                  f"{r['share']:.0%}"] for r in rows]))
            continue
        if task == "mg_free":
            rows = free_run(args.repeats, args.quick, has_rpy, plot=not args.quick)
        else:
            rows = teacher_forced(task, args.repeats, args.quick, has_rpy)
        results["tasks"][task] = rows
        ours, theirs = rows["snlnn"], rows.get("reservoirpy")
        error = (lambda r: "/".join(f"{r[f'nrmse_{h}']:.4f}" for h in (84, 200, 500))
                 ) if task == "mg_free" else (lambda r: f"{r['nrmse']:.5f}")
        table.append([
            task, error(ours), error(rows["snlnn_defaults"]),
            error(theirs) if theirs else "-", f"{ours['seconds']:.3f}",
            f"{theirs['seconds']:.3f}" if theirs else "-",
            f"{ours['steps_per_s']:,.0f}",
            f"{theirs['seconds'] / ours['seconds']:.1f}x" if theirs else "-",
        ])
        print(table[-1], flush=True)
    if table:
        print(markdown_table(
            ["task", "SNLNN NRMSE", "SNLNN defaults", "ReservoirPy NRMSE",
             "SNLNN fit+predict s", "ReservoirPy s", "SNLNN steps/s", "speed-up"],
            table))
    path = save_json(results, args.output)
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
