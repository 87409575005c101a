"""Scale-out on Dask: the MNIST pipeline on 1 and 2 workers, and a million sequences.

Two experiments, each on a ``distributed.LocalCluster`` of single-thread
worker processes (``pip install ".[dask]"``):

1. **MNIST, the ``default`` preset** of ``benchmarks/mnist.py`` (deskew, four
   readings x 1000 units, ridge), in memory (``n_jobs=2``) and on 1 and 2
   workers. The training images are persisted on the workers before the clock
   starts (data that already lives on the cluster). The reservoirs need no data
   to fit (no growth, no input scaling, fixed thresholds), so they are fitted
   on 100 images; the timed part is one pass in which every block's task
   deskews, reads, computes the features and the ridge statistics, merged up a
   tree, then the solve on the client, then the lazy test predictions. Reported:
   time per phase, accuracy, peak RSS of each worker and of the client.
2. **A million MNIST-shaped sequences** (28 steps of 28 values), generated
   lazily by ``dask.array.random`` on the workers with labels computed from the
   values, through ``SNLNNClassifier.fit`` and ``score`` on a lazily generated
   test set: the peak RSS of every worker and of the client show that memory is
   bounded by the block, not by the data.

Results go to ``benchmarks/results/dask_scaling.json``.

    python benchmarks/dask_scaling.py [--experiment mnist million] [--repeats 3]
        [--n-sequences 1000000] [--subset N]
"""

import argparse
import datetime
import gc
import os
import resource
import statistics
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import Timer, machine_info, machine_line, markdown_table, save_json  # noqa: E402

# Whole multiples of the ridge's 4096-row chunks (and so of the collector's 256):
# every float32 product is then the in-memory one, bit for bit.
ROWS_PER_BLOCK = 2 * 4096
# The model travels in the graph once per computation, by design (one key).
warnings.filterwarnings("ignore", message="Sending large graph")


def _peak_rss():
    """Peak RSS of the calling process in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss():
    import psutil

    return psutil.Process().memory_info().rss


def _cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True,
        dashboard_address=None, memory_limit="6GiB",
    )
    return cluster, Client(cluster)


def _say(message):
    print(message, file=sys.stderr, flush=True)


def _in_child(function, *args):
    """Run in a fresh process: a peak RSS of its own, no state between runs."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# ---------------------------------------------------------------------- MNIST


def _mnist_run(mode, data, repeat):
    """One run of the default preset: mode is 'memory' or a worker count."""
    import dask.array as da
    import numpy as np
    from distributed import wait

    import mnist
    from reservoir import blockwise

    X_train, y_train, X_test, y_test = data
    transformer, readout, config = mnist.build_preset("default", n_jobs=2, verbose=0)
    times = {}
    if mode == "memory":
        with Timer() as t:
            features = transformer.fit_transform(X_train)
            readout.fit(features, y_train)
        with Timer() as solve:  # the same solve again, to split the time
            readout._solve(features.dtype)
        times["features_and_statistics"] = t.seconds - solve.seconds
        times["solve"] = solve.seconds
        del features
        with Timer() as t:
            predicted = readout.predict(transformer.transform(X_test))
        times["predict"] = t.seconds
        return {
            "mode": "in memory (n_jobs=2)", "times_s": times,
            "total_s": sum(times.values()),
            "accuracy": float(np.mean(predicted == y_test)),
            "client_peak_rss_bytes": _peak_rss(),
        }
    cluster, client = _cluster(mode)
    try:
        # The images live on the workers before the clock starts.
        Xd = da.from_array(X_train, chunks=(ROWS_PER_BLOCK, -1)).persist()
        yd = da.from_array(y_train, chunks=ROWS_PER_BLOCK).persist()
        Xt = da.from_array(X_test, chunks=(ROWS_PER_BLOCK, -1)).persist()
        wait([Xd, yd, Xt])
        client.run(mnist._warm_up, 1)  # each worker loads the kernels once
        client.run(gc.collect)
        rss_start = client.run(_current_rss)
        with Timer() as t:
            # No growth, no input scaling, fixed thresholds: the weights do not
            # depend on the data, so a few images fit the reservoirs.
            transformer.fit(X_train[:100])
        times["fit_reservoirs"] = t.seconds
        with Timer() as t:
            # One task per block: deskew, readings, features, ridge statistics
            # (the features never leave it), merged up a tree; then the solve.
            readout.fit(blockwise(transformer, Xd), yd)
        with Timer() as solve:  # the same solve again, to split the time
            readout._solve(np.float32)
        times["features_and_statistics"] = t.seconds - solve.seconds
        times["solve"] = solve.seconds
        with Timer() as t:
            predicted = readout.predict(blockwise(transformer, Xt)).compute()
        times["predict"] = t.seconds
        worker_peaks = client.run(_peak_rss)
        return {
            "mode": f"{mode} worker{'s' * (mode > 1)} x 1 thread",
            "n_workers": mode,
            "times_s": times,
            "total_s": sum(times.values()),
            "accuracy": float(np.mean(predicted == y_test)),
            "worker_peak_rss_bytes": sorted(worker_peaks.values()),
            "worker_rss_before_bytes": sorted(rss_start.values()),
            "client_peak_rss_bytes": _peak_rss(),
        }
    finally:
        client.close()
        cluster.close()


def run_mnist(args):
    import mnist
    from reservoir.datasets import load_mnist

    data_dir = args.data_dir or mnist._checkout_data_dir()
    X_train, y_train, X_test, y_test = load_mnist(data_dir, return_X_y=True)
    if args.subset:
        X_train, y_train = X_train[: args.subset], y_train[: args.subset]
        X_test, y_test = X_test[: args.subset // 6], y_test[: args.subset // 6]
    data = (X_train, y_train, X_test, y_test)
    mnist._warm_up(2)
    runs = {}
    for repeat in range(args.repeats):
        # Interleaved, so that drift in the machine's load hits every mode alike.
        for mode in ("memory", 1, 2):
            _say(f"[mnist {mode} {repeat + 1}/{args.repeats}] starting")
            run = _in_child(_mnist_run, mode, data, repeat)
            _say(f"[mnist {mode}] accuracy {100 * run['accuracy']:.2f}%, "
                 f"{run['total_s']:.1f} s")
            runs.setdefault(str(mode), []).append(run)
    summary = {}
    for mode, entries in runs.items():
        summary[mode] = {
            "mode": entries[0]["mode"],
            "median_times_s": {
                key: statistics.median(e["times_s"][key] for e in entries)
                for key in entries[0]["times_s"]
            },
            "median_total_s": statistics.median(e["total_s"] for e in entries),
            "accuracy": [e["accuracy"] for e in entries],
            "max_worker_peak_rss_bytes": max(
                max(e.get("worker_peak_rss_bytes", [0])) for e in entries
            ),
            "runs": entries,
        }
    one = summary["1"]["median_times_s"]["features_and_statistics"]
    two = summary["2"]["median_times_s"]["features_and_statistics"]
    speedups = [
        a["times_s"]["features_and_statistics"] / b["times_s"]["features_and_statistics"]
        for a, b in zip(runs["1"], runs["2"])
    ]
    return {
        "n_train": len(X_train), "n_test": len(X_test),
        "rows_per_block": ROWS_PER_BLOCK,
        "modes": summary,
        "speedup_2_over_1_workers": one / two,
        "speedup_2_over_1_per_repeat": speedups,
    }


# ---------------------------------------------------------- a million sequences


def _sequence_block(seed, index, n_rows):
    """One block of labelled sequences: uniform noise, with the row (of the
    first 10) named by the label brighter by 0.3, so that a reservoir reading
    row by row has something to learn."""
    import numpy as np

    rng = np.random.default_rng([seed, index])
    labels = rng.integers(0, 10, n_rows)
    images = rng.random((n_rows, 28, 28), dtype=np.float32)
    images[np.arange(n_rows), labels] += np.float32(0.3)
    return images.reshape(n_rows, 784), labels


def _lazy_sequences(n, seed, block):
    """``n`` MNIST-shaped sequences and their labels, generated block by block
    on the workers when a computation needs them."""
    import dask
    import dask.array as da
    import numpy as np

    X_parts, y_parts = [], []
    for index, start in enumerate(range(0, n, block)):
        rows = min(block, n - start)
        pair = dask.delayed(_sequence_block, nout=2)(seed, index, rows)
        X_parts.append(da.from_delayed(pair[0], (rows, 784), dtype=np.float32))
        y_parts.append(da.from_delayed(pair[1], (rows,), dtype=np.int64))
    return da.concatenate(X_parts), da.concatenate(y_parts)


def run_million(args):
    from reservoir import SNLNNClassifier, SNLNNTransformer

    n = args.n_sequences
    cluster, client = _cluster(2)
    try:
        X, y = _lazy_sequences(n, seed=0, block=8192)
        X_test, y_test = _lazy_sequences(max(n // 10, 1000), seed=1, block=8192)
        model = SNLNNClassifier(
            SNLNNTransformer(250, n_steps=28, leak_rate=0.3, random_state=0),
            alpha=1.0,
        )
        client_start = _current_rss()
        with Timer() as fit_time:
            model.fit(X, y)
        with Timer() as score_time:
            accuracy = model.score(X_test, y_test)
        worker_peaks = client.run(_peak_rss)
        return {
            "n_sequences": n,
            "n_test": int(X_test.shape[0]),
            "rows_per_block": 8192,
            "n_features": int(model.readout_.coef_.shape[1]),
            "model": "SNLNNClassifier(SNLNNTransformer(250, n_steps=28, leak 0.3), "
                     "ridge alpha 1): window mean + window spike rate, 4 windows",
            "fit_s": fit_time.seconds,
            "score_s": score_time.seconds,
            "test_accuracy": accuracy,
            "worker_peak_rss_bytes": sorted(worker_peaks.values()),
            "client_rss_at_start_bytes": client_start,
            "client_peak_rss_bytes": _peak_rss(),
        }
    finally:
        client.close()
        cluster.close()


# ------------------------------------------------------------------- report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", nargs="+", choices=("mnist", "million"),
                        default=["mnist", "million"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--subset", type=int, default=None,
                        help="MNIST: first N training images (and N // 6 test)")
    parser.add_argument("--n-sequences", type=int, default=1_000_000)
    parser.add_argument("--data-dir", default=os.environ.get("SNLNN_MNIST_DIR"))
    parser.add_argument("--output", default="dask_scaling.json")
    args = parser.parse_args(argv)

    info = machine_info()
    print(machine_line(info))
    results = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": info,
        "args": vars(args),
    }
    if "mnist" in args.experiment:
        mnist_results = run_mnist(args)
        results["mnist"] = mnist_results
        rows = []
        for mode in ("memory", "1", "2"):
            entry = mnist_results["modes"][mode]
            t = entry["median_times_s"]
            rows.append([
                entry["mode"],
                f"{t['features_and_statistics']:.1f}",
                f"{t['solve']:.1f}",
                f"{t['predict']:.1f}",
                f"{entry['median_total_s']:.1f}",
                ", ".join(f"{100 * a:.2f}%" for a in entry["accuracy"]),
                f"{entry['max_worker_peak_rss_bytes'] / 1e9:.2f}" if mode != "memory" else "-",
                f"{max(r['client_peak_rss_bytes'] for r in entry['runs']) / 1e9:.2f}",
            ])
        print(f"\nMNIST default preset, {mnist_results['n_train']} training images, "
              f"medians of {args.repeats}:")
        print(markdown_table(
            ["mode", "features + ridge statistics s", "solve s", "test predictions s",
             "total s", "test accuracy per run", "peak RSS per worker GB",
             "client peak RSS GB"],
            rows,
        ))
        print(f"2 workers over 1 on features + statistics: "
              f"{mnist_results['speedup_2_over_1_workers']:.2f}x (per repeat: "
              + ", ".join(f"{s:.2f}" for s in mnist_results["speedup_2_over_1_per_repeat"])
              + ")")
    if "million" in args.experiment:
        million = _in_child(run_million, args)
        results["million"] = million
        print(f"\n{million['n_sequences']:,} sequences (28 x 28), "
              f"{million['n_features']} features, 2 workers x 1 thread: fit "
              f"{million['fit_s']:.0f} s, score {million['score_s']:.0f} s on "
              f"{million['n_test']:,}, test accuracy {100 * million['test_accuracy']:.2f}%; "
              f"peak RSS per worker "
              + ", ".join(f"{b / 1e9:.2f}" for b in million["worker_peak_rss_bytes"])
              + f" GB, client {million['client_peak_rss_bytes'] / 1e9:.2f} GB")
    path = save_json(results, args.output)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
