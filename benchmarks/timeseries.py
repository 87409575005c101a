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
  10% sparse W, float64 and float32) as a share of the matching
  matrix-vector rates measured in the same run: ``np.dot(W, v)`` or scipy's
  ``csr @ v`` in a Python loop, and the compiled product the kernel itself
  uses, alone in a loop (the floor of a step).
- ``profile``: one series, 500 units, 10% sparse: microseconds a step of the
  input projection, the kernel, and within it the W product, the tanh (of the
  arguments the kernel sees) and the rest (update and output writes).
- ``crossover``: the W product a step, CSR against dense BLAS, for one series
  and for 64 (the measurements behind ``_forecast._dense_is_faster``).
- ``batched``: 64 series of 1,000 steps, 500 units: states of all of them
  advanced together (one matrix product a step) and one by one, and fit +
  predict on the list, against ReservoirPy running the same 64 series.

Every time is the median of ``--repeats`` (3) runs of fit + predict (or fit +
generate), with the spectral-radius cache cleared before each, so SNLNN pays
its eigen-solve as ReservoirPy does. ReservoirPy (``pip install
reservoirpy==0.4.2``) gets the same units, density, leak, spectral radius,
input scaling (input connectivity 1) and ridge penalty; it is skipped when it
is not installed. Run under the shared lock, with OpenBLAS choosing its own
kernel (SkylakeX on the development machine) and with the Haswell kernel
forced::

    flock /tmp/snlnn-bench.lock env -u OPENBLAS_CORETYPE \\
        python benchmarks/timeseries.py
    flock /tmp/snlnn-bench.lock env OPENBLAS_CORETYPE=Haswell \\
        python benchmarks/timeseries.py --output timeseries-haswell.json
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
# scaling and the penalty); the "snlnn_defaults" rows use the estimators'
# defaults (chosen across these tasks: benchmarks/timeseries_defaults.py).
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
        medians = np.median(errors, 0).tolist()
        return dict(zip([f"nrmse_{h}" for h in horizons], medians))

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


def _kernels():
    """Compiled loops that time one part of a step alone (built on first use)."""
    from numba import njit

    from reservoir._kernels import _recurrent_product

    @njit(nogil=True)
    def matvec(n_steps, w_rec, indptr, indices, data, sparse, state, pre):
        for t in range(n_steps):
            _recurrent_product(w_rec, indptr, indices, data, sparse, state, pre)
            state[t % state.shape[0]] = pre[0] * 1e-3  # each step needs the last

    @njit(nogil=True)
    def tanh(values, row):
        # Into one reused row, as the kernel writes into the row it reads.
        for t in range(values.shape[0]):
            for j in range(values.shape[1]):
                row[j] = np.tanh(values[t, j])

    return matvec, tanh


def _series(n_steps):
    return rescale(mackey_glass(n_steps, random_state=0))


def collect_share(repeats, quick):
    """Single-series collection against the matching matrix-vector rates."""
    import scipy.sparse as sp

    from reservoir._blas import single_threaded_blas

    matvec_loop, _ = _kernels()
    n_steps = 2000 if quick else 10000
    x = _series(n_steps)
    rows = []
    for units in (500, 1000):
        for density in (1.0, DENSITY):
            states = SNLNNSeriesTransformer(units, density=density, random_state=0)
            states.fit(x)
            for dtype in (np.float64, np.float32):
                xd = x.astype(dtype)
                collect, _, _ = timed(lambda: states.transform(xd), repeats)
                w = (states.recurrent_scale_ * states.recurrent_weights_).astype(dtype)
                v = np.zeros(units, dtype)
                if density < 1:
                    w = sp.csr_matrix(w)

                    def python_matvec():
                        for _ in range(n_steps):
                            w @ v
                else:
                    w = np.ascontiguousarray(w)
                    buffer = np.empty(units, dtype)

                    def python_matvec():
                        for _ in range(n_steps):
                            np.dot(w, v, out=buffer)

                with single_threaded_blas():
                    product, _, _ = timed(python_matvec, repeats)
                    operator = states._operator(np.dtype(dtype))
                    pre = np.empty(units, dtype)
                    matvec_loop(2, *operator, np.zeros(units, dtype), pre)  # compile
                    compiled, _, _ = timed(lambda: matvec_loop(
                        n_steps, *operator, np.zeros(units, dtype), pre), repeats)
                rows.append(dict(
                    units=units, density=density, dtype=np.dtype(dtype).name,
                    operator="dense" if operator[0].size else "csr",
                    collect_steps_per_s=n_steps / collect,
                    matvec_per_s=n_steps / product, share=product / collect,
                    compiled_matvec_per_s=n_steps / compiled,
                    compiled_share=compiled / collect,
                ))
    return rows


def profile(repeats, quick, units=500):
    """Per-step time of each part of one series' collection (CSR, 10%)."""
    from reservoir._blas import single_threaded_blas
    from reservoir._kernels import series_states

    matvec_loop, tanh_loop = _kernels()
    n_steps = 2000 if quick else 10000
    x = _series(n_steps)
    states = SNLNNSeriesTransformer(units, density=DENSITY, random_state=0).fit(x)
    rows = []
    for dtype in (np.float64, np.float32):
        dtype = np.dtype(dtype)
        xd = x.astype(dtype)
        _, spike_col, width = states._layout()
        w_in_t = np.ascontiguousarray(states.input_weights_.T, dtype=dtype)
        bias = states.bias_.astype(dtype)
        out = np.empty((n_steps, width), dtype)
        features = states.transform(xd)
        with single_threaded_blas():
            def project():
                np.matmul(xd, w_in_t, out=out[:, :units])
                out[:, :units] += bias
                out[:, units:] = xd

            project_s, _, _ = timed(project, repeats)
            projected = out.copy()
            operator, scalars = states._operator(dtype), states._scalars(dtype)

            def kernel():
                out[:] = projected
                series_states(out, *operator, np.zeros(units, dtype), *scalars,
                              spike_col)

            copy_s, _, _ = timed(lambda: out.__setitem__(slice(None), projected),
                                 repeats)
            kernel_s, _, _ = timed(kernel, repeats)
            pre = np.empty(units, dtype)
            matvec_loop(2, *operator, np.zeros(units, dtype), pre)
            matvec_s, _, _ = timed(lambda: matvec_loop(
                n_steps, *operator, np.zeros(units, dtype), pre), repeats)
            # tanh of the arguments the kernel sees: its cost depends on them.
            w = states.recurrent_scale_ * states.recurrent_weights_
            arguments = projected[:, :units].copy()
            arguments[1:] += (w @ features[:-1, :units].T.astype(float)).T
            tanh_loop(arguments[:2], pre)
            tanh_s, _, _ = timed(lambda: tanh_loop(arguments, pre), repeats)
        whole_s, _, _ = timed(lambda: states.transform(xd), repeats)
        kernel_s -= copy_s
        us = 1e6 / n_steps
        rows.append(dict(
            dtype=dtype.name, units=units, density=DENSITY, n_steps=n_steps,
            nnz=int(states.recurrent_weights_.nnz),
            transform_us=whole_s * us, projection_us=project_s * us,
            kernel_us=kernel_s * us, matvec_us=matvec_s * us, tanh_us=tanh_s * us,
            rest_us=(kernel_s - matvec_s - tanh_s) * us,
        ))
    return rows


def crossover(repeats, quick):
    """Per-step W product, CSR against dense BLAS, one series and 64."""
    import scipy.sparse as sp

    from reservoir._blas import single_threaded_blas
    from reservoir._kernels import csr_matmul_add

    matvec_loop, _ = _kernels()
    rng = np.random.default_rng(0)
    rows = []
    with single_threaded_blas():
        for units in (200, 500, 1000) if not quick else (200,):
            n_steps = max(100, int(5e7 / units**2))
            for density in (0.05, 0.1, 0.2, 0.3, 0.5):
                w = sp.random(units, units, density, format="csr", random_state=0,
                              data_rvs=rng.standard_normal)
                for dtype in (np.float64, np.float32):
                    w_d = w.astype(dtype)
                    indptr = w_d.indptr.astype(np.uint32)
                    indices = w_d.indices.astype(np.uint32)
                    dense = np.ascontiguousarray(w_d.toarray())
                    empty = np.empty(0, np.uint32)
                    state, pre = np.zeros(units, dtype), np.empty(units, dtype)
                    csr_args = (np.empty((0, 0), dtype), indptr, indices, w_d.data,
                                True)
                    dense_args = (dense, empty, empty, np.empty(0, dtype), False)
                    times = {}
                    for name, args in (("csr", csr_args), ("dense", dense_args)):
                        matvec_loop(2, *args, state, pre)
                        times[name], _, _ = timed(
                            lambda: matvec_loop(n_steps, *args, state, pre), repeats)
                    batch = np.zeros((units, 64), dtype)
                    batch_pre = np.empty_like(batch)

                    def batch_csr():
                        for _ in range(n_steps // 8):
                            batch_pre[:] = 0
                            csr_matmul_add(indptr, indices, w_d.data, batch, batch_pre)

                    def batch_dense():
                        for _ in range(n_steps // 8):
                            np.dot(dense, batch, out=batch_pre)

                    batch_csr()
                    times["csr64"], _, _ = timed(batch_csr, repeats)
                    times["dense64"], _, _ = timed(batch_dense, repeats)
                    rows.append(dict(
                        units=units, density=density, dtype=np.dtype(dtype).name,
                        csr_us=1e6 * times["csr"] / n_steps,
                        dense_us=1e6 * times["dense"] / n_steps,
                        csr64_us=1e6 * times["csr64"] / (n_steps // 8),
                        dense64_us=1e6 * times["dense64"] / (n_steps // 8),
                    ))
    return rows


def batched(repeats, quick, has_rpy, n_series=64):
    """64 series advanced together (one matrix product a step) vs ReservoirPy."""
    units, n_steps = 500, 200 if quick else 1000
    x = _series(n_series * n_steps + 1)
    inputs = [x[k * n_steps : (k + 1) * n_steps] for k in range(n_series)]
    targets = [x[k * n_steps + 1 : (k + 1) * n_steps + 1] for k in range(n_series)]
    config = dict(units=units, sr=1.0, lr=0.6, input_scaling=0.3, alpha=1e-8)
    total = n_series * n_steps
    rows = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        cast = [a.astype(dtype) for a in inputs]
        states = SNLNNSeriesTransformer(units, density=DENSITY, random_state=0)
        states.fit(cast)
        together, _, _ = timed(lambda: states.transform(cast), repeats)
        one_by_one, _, _ = timed(lambda: [states.transform(a) for a in cast], repeats)

        def fit_predict():
            model = snlnn(config).fit(cast, [t.astype(dtype) for t in targets])
            return model.predict(cast)

        model_s, _, _ = timed(fit_predict, repeats)
        rows[name] = dict(states_steps_per_s=total / together,
                          one_by_one_steps_per_s=total / one_by_one,
                          fit_predict_s=model_s,
                          fit_predict_steps_per_s=2 * total / model_s)
    if has_rpy:
        from reservoirpy.nodes import Reservoir

        def rpy_states():
            reservoir = Reservoir(units, lr=config["lr"], sr=config["sr"],
                                  input_scaling=config["input_scaling"],
                                  input_connectivity=1.0, rc_connectivity=DENSITY,
                                  seed=0)
            return reservoir.run(inputs)  # each from the initial state, in turn

        rpy_s, _, _ = timed(rpy_states, repeats)

        def rpy_fit_predict():
            esn = reservoirpy_model(config)
            esn.fit(inputs, targets, warmup=WASHOUT)
            return esn.run(inputs)

        rpy_model_s, _, _ = timed(rpy_fit_predict, repeats)
        rows["reservoirpy"] = dict(states_steps_per_s=total / rpy_s,
                                   fit_predict_s=rpy_model_s,
                                   fit_predict_steps_per_s=2 * total / rpy_model_s)
    return dict(n_series=n_series, n_steps=n_steps, units=units, density=DENSITY,
                **rows)


def blas_info():
    from threadpoolctl import threadpool_info

    return [{k: pool.get(k) for k in ("internal_api", "architecture", "version",
                                      "num_threads")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def _print_collect(args, has_rpy):
    rows = collect_share(args.repeats, args.quick)
    print(markdown_table(
        ["units", "W", "dtype", "product", "collect steps/s", "matvec/s (Python loop)",
         "share", "compiled matvec/s", "share"],
        [[r["units"], "dense" if r["density"] == 1 else r["density"], r["dtype"],
          r["operator"], f"{r['collect_steps_per_s']:,.0f}",
          f"{r['matvec_per_s']:,.0f}", f"{r['share']:.0%}",
          f"{r['compiled_matvec_per_s']:,.0f}", f"{r['compiled_share']:.0%}"]
         for r in rows]))
    return rows


def _print_profile(args, has_rpy):
    rows = profile(args.repeats, args.quick)
    print(markdown_table(
        ["dtype", "transform", "projection", "kernel", "W product", "tanh", "rest"],
        [[r["dtype"], *[f"{r[k]:.2f} us" for k in (
            "transform_us", "projection_us", "kernel_us", "matvec_us", "tanh_us",
            "rest_us")]] for r in rows]))
    return rows


def _print_crossover(args, has_rpy):
    rows = crossover(args.repeats, args.quick)
    print(markdown_table(
        ["units", "density", "dtype", "CSR us", "dense us", "CSR x64 us",
         "dense x64 us"],
        [[r["units"], r["density"], r["dtype"], *[f"{r[k]:.2f}" for k in (
            "csr_us", "dense_us", "csr64_us", "dense64_us")]] for r in rows]))
    return rows


def _print_batched(args, has_rpy):
    result = batched(args.repeats, args.quick, has_rpy)
    theirs = result.get("reservoirpy")
    rows = [[name, f"{r['states_steps_per_s']:,.0f}",
             f"{r['one_by_one_steps_per_s']:,.0f}" if "one_by_one_steps_per_s" in r
             else "-",
             f"{r['fit_predict_s']:.3f}",
             f"{theirs['fit_predict_s'] / r['fit_predict_s']:.1f}x" if theirs else "-"]
            for name, r in result.items() if isinstance(r, dict)]
    print(markdown_table(["", "states steps/s (64 together)", "one by one",
                          "fit+predict s", "speed-up"], rows))
    return result


EXTRA = {"collect": _print_collect, "profile": _print_profile,
         "crossover": _print_crossover, "batched": _print_batched}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--tasks", nargs="+", default=[*TASKS, *EXTRA])
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
        if task in EXTRA:
            results[task] = EXTRA[task](args, has_rpy)
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
