"""Sequence classification: SNLNN against MiniRocket on seven UCR/UEA sets.

Each set of the development suite (``JapaneseVowels``, ``PickupGestureWiimoteZ``,
``PLAID``, ``ACSF1``, ``Coffee``, ``PigCVP``, ``Trace``; the ``NAME.npz`` files
described in ``shared/README.md``) is fitted on its canonical training split
and scored on its test split by two pipelines with the same readout:

``snlnn``
    ``make_pipeline(SNLNNTransformer(random_state=seed, **snlnn_params),
    StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))``.
    The series go in as a list of 2-D float32 arrays ``(n_steps_i,
    n_channels)``, each cut to its true length. If the installed
    ``SNLNNTransformer`` does not accept such a list yet, the script falls
    back to the padded 3-D array (every series padded to the longest of the
    set, train and test, by repeating its last value) and says so.
``minirocket``
    aeon's ``MiniRocket`` transformer (default parameters,
    ``random_state=seed``), then the same StandardScaler and
    RidgeClassifierCV. aeon takes equal-length, channels-first
    ``(n, n_channels, n_steps)`` input, so variable-length series are padded
    to the longest of the set by repeating their last value. aeon pins older
    numba, numpy and pandas than this project's environment, so it normally
    lives in its own virtual environment (``/opt/aeon-env``, see below); the
    MiniRocket part then runs as a subprocess with that environment's python
    (``--minirocket-worker``, which times inside itself and prints JSON). It
    is skipped, with a message, when no python with aeon is found.

For every set and method: test accuracy, the time of ``fit`` on the training
split plus ``predict`` on the test split (transform + readout; loading and
the cutting/padding of the arrays are not timed), and the number of features.
Each method's Numba kernels are loaded (or compiled) by a tiny warm-up before
any clock starts, and SNLNN's spectral-radius memo is cleared before every
fit, so that every repeat pays its own eigen-solve. With ``--repeats R`` every
time is the median of R fits in the same process (accuracies are
deterministic for a given ``--seed``; all R are kept in the JSON). The
markdown table (per set, then the mean over the sets) goes to stdout with the
machine and the BLAS kernel that ran; the JSON goes to ``--output``, where the
entry of a method that was not run this time is kept (and shown in the table,
marked ``*``).

Install MiniRocket (idempotent, about 30 s the first time)::

    [ -x /opt/aeon-env/bin/python ] && /opt/aeon-env/bin/python -c \\
        "import aeon, sys; sys.exit(aeon.__version__ != '1.6.0')" 2>/dev/null || {
      python -m venv /opt/aeon-env &&
      /opt/aeon-env/bin/python -m pip install --quiet aeon==1.6.0 numba==0.63.1 \\
          numpy==2.3.5 pandas==3.0.6 scikit-learn==1.9.1 scipy==1.17.1; }

How to run (from the repository root; hold the machine-wide benchmark lock)::

    flock /tmp/snlnn-bench.lock python benchmarks/tsc.py                  # ~1.5 min
    flock /tmp/snlnn-bench.lock python benchmarks/tsc.py --only snlnn \\
        --snlnn-params '{"reservoir_dim": 300}' --output /tmp/tsc-candidate.json

Options: ``--data-dir`` (default ``$SNLNN_TSC_DIR``, else
``<repo>/../shared/data/tsc``; the script exits 0 with a message when it is
absent), ``--sets`` (default all seven), ``--only snlnn|minirocket``,
``--snlnn-params JSON`` (transformer parameters over the defaults),
``--seed`` (default 0), ``--repeats R`` (default 1), ``--n-jobs`` (passed to
both transformers; default: their own defaults, one thread each for the
transform), ``--minirocket-python`` (default ``$SNLNN_MINIROCKET_PYTHON``,
else this python if it has aeon, else ``/opt/aeon-env/bin/python``),
``--output`` (default ``benchmarks/results/tsc.json``).
"""

import argparse
import datetime
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(HERE), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _common import RESULTS_DIR, Timer, machine_info, machine_line, markdown_table

SETS = (
    "JapaneseVowels",
    "PickupGestureWiimoteZ",
    "PLAID",
    "ACSF1",
    "Coffee",
    "PigCVP",
    "Trace",
)
METHODS = ("snlnn", "minirocket")
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data" / "tsc"
DEFAULT_AEON_PYTHON = Path("/opt/aeon-env/bin/python")
PAD_NOTE = (
    "variable-length series padded to the longest series of the set (train and "
    "test) by repeating each series' last value"
)


def _say(message):
    print(message, file=sys.stderr, flush=True)


def _readout():
    import numpy as np
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    return [StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))]


READOUT_NOTE = "StandardScaler + RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))"


# --------------------------------------------------------------------- data


def load_set(data_dir, name):
    """One set as a dict of numpy arrays (the ``.npz`` fields)."""
    import numpy as np

    with np.load(Path(data_dir) / f"{name}.npz") as data:
        return {key: data[key] for key in data.files}


def cut(X, lengths):
    """List of 2-D float32 arrays ``(length_i, n_channels)``, padding dropped."""
    import numpy as np

    return [np.ascontiguousarray(x[:n], dtype=np.float32) for x, n in zip(X, lengths)]


def pad_last(X, lengths, n_steps):
    """``(n, n_steps, n_channels)`` float32: each series' last value repeated."""
    import numpy as np

    out = np.empty((len(X), n_steps, X.shape[2]), dtype=np.float32)
    for i, (x, n) in enumerate(zip(X, lengths)):
        n = int(n)
        out[i, :n] = x[:n]
        out[i, n:] = x[n - 1]
    if np.isnan(out).any():
        raise ValueError("NaN inside a series (before its stated length)")
    return out


def describe_set(data):
    lengths = list(data["len_train"]) + list(data["len_test"])
    return {
        "n_train": len(data["y_train"]),
        "n_test": len(data["y_test"]),
        "n_channels": int(data["X_train"].shape[2]),
        "n_classes": len(set(data["y_train"].tolist())),
        "min_steps": int(min(lengths)),
        "max_steps": int(max(lengths)),
        "variable_length": bool(min(lengths) != max(lengths)),
    }


def common_length(data):
    return int(max(data["len_train"].max(), data["len_test"].max()))


# ---------------------------------------------------------------- one fit


def time_pipeline(make, X_train, y_train, X_test, y_test, before_fit=None):
    """Fit ``make()`` on the training split, predict the test split, time both."""
    import numpy as np

    model = make()
    if before_fit is not None:
        before_fit()
    with Timer() as fit:
        model.fit(X_train, y_train)
    with Timer() as predict:
        predicted = model.predict(X_test)
    return model, {
        "accuracy": float(np.mean(predicted == y_test)),
        "n_features": int(model[-1].n_features_in_),
        "alpha": float(model[-1].alpha_),
        "times_s": {
            "fit": fit.seconds,
            "predict": predict.seconds,
            "total": fit.seconds + predict.seconds,
        },
        "cpu_s": {
            "fit": fit.cpu_seconds,
            "predict": predict.cpu_seconds,
            "total": fit.cpu_seconds + predict.cpu_seconds,
        },
    }


def summarise(runs, extra=None):
    """Medians over the repeats of one set (times per phase separately)."""
    accuracies = [r["accuracy"] for r in runs]
    out = {
        "accuracy": statistics.median(accuracies),
        "accuracies": accuracies,
        "n_features": runs[0]["n_features"],
        "alpha": runs[0]["alpha"],
        "times_s": {
            key: statistics.median(r["times_s"][key] for r in runs)
            for key in runs[0]["times_s"]
        },
        "runs": runs,
    }
    out.update(extra or {})
    return out


def means(sets):
    if not sets:
        return {}
    values = list(sets.values())
    return {
        "n_sets": len(values),
        "accuracy": statistics.fmean(v["accuracy"] for v in values),
        "total_s": statistics.fmean(v["times_s"]["total"] for v in values),
        "sum_total_s": sum(v["times_s"]["total"] for v in values),
    }


def blas_line(info):
    """Which BLAS kernel ran (threadpoolctl's ``architecture``)."""
    pools = [p for p in info["blas"] if p.get("internal_api") not in ("openmp",)]
    return (
        ", ".join(
            f"{p['internal_api']} {p['version']} kernel {p.get('architecture')}"
            for p in pools
        )
        or "no BLAS found by threadpoolctl"
    )


# ------------------------------------------------------------------- SNLNN


def _supports_lists(params):
    """Whether SNLNNTransformer takes a list of series of unequal lengths."""
    import numpy as np

    from reservoir import SNLNNTransformer

    params = {**params, "reservoir_dim": 4, "max_reservoir_dim": 4}
    seqs = [np.zeros((3, 2), np.float32), np.ones((5, 2), np.float32)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = SNLNNTransformer(random_state=0, **params).fit_transform(seqs)
    except (ValueError, TypeError):
        return False
    return getattr(out, "shape", (0,))[0] == 2


def run_snlnn(args, sets):
    import numpy as np
    from sklearn.pipeline import make_pipeline

    from reservoir import SNLNNTransformer, _weights

    params = dict(args.snlnn_params)
    if args.n_jobs is not None:
        params.setdefault("n_jobs", args.n_jobs)
    lists = _supports_lists(params)
    if lists:
        input_note = (
            "list of 2-D float32 series (n_steps_i, n_channels), cut to true length"
        )
    else:
        input_note = (
            "FALLBACK: SNLNNTransformer takes no list of unequal-length series yet; "
            f"padded 3-D float32 array, {PAD_NOTE}"
        )
        print(f"note (snlnn): {input_note}")

    def make():
        return make_pipeline(
            SNLNNTransformer(random_state=args.seed, **params), *_readout()
        )

    def clear_memo():
        cache = getattr(_weights, "_RADIUS_CACHE", None)
        if cache is not None:
            cache.clear()

    # Load the Numba kernels (float32, this input form) outside the clock.
    with Timer() as warm:
        rng = np.random.default_rng(0)
        x = [rng.random((n, 2), dtype=np.float32) for n in (6, 9, 6, 9)]
        x = (
            x
            if lists
            else np.stack([np.pad(s, ((0, 9 - len(s)), (0, 0)), "edge") for s in x])
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make().fit(x, np.array(["a", "b", "a", "b"])).predict(x)

    results = {}
    for name, data in sets.items():
        if lists:
            X_train = cut(data["X_train"], data["len_train"])
            X_test = cut(data["X_test"], data["len_test"])
        else:
            n_steps = common_length(data)
            X_train = pad_last(data["X_train"], data["len_train"], n_steps)
            X_test = pad_last(data["X_test"], data["len_test"], n_steps)
        runs = []
        for k in range(args.repeats):
            model, run = time_pipeline(
                make, X_train, data["y_train"], X_test, data["y_test"], clear_memo
            )
            reservoir = model[0]
            run["reservoir_size"] = int(reservoir.reservoir_size_)
            run["spike_rate"] = float(reservoir.spike_rate_)
            runs.append(run)
            _say(
                f"[snlnn {name} {k + 1}/{args.repeats}] accuracy "
                f"{run['accuracy']:.3f}, {run['times_s']['total']:.2f} s"
            )
        results[name] = summarise(runs, describe_set(data))
    config = {
        "transformer": {
            "class": "SNLNNTransformer",
            "params": {"random_state": args.seed, **params},
        },
        "resolved_params": {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in SNLNNTransformer(random_state=args.seed, **params)
            .get_params()
            .items()
        },
        "readout": READOUT_NOTE,
        "input": input_note,
        "list_input": lists,
        "jit_warm_up_s": warm.seconds,
    }
    return config, results


# -------------------------------------------------------------- MiniRocket


def minirocket_worker(args):
    """Run the MiniRocket part in this process; print one JSON object to stdout."""
    import aeon
    import numpy as np
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.pipeline import make_pipeline

    sets = load_sets(args.data_dir, args.sets)
    kwargs = {} if args.n_jobs is None else {"n_jobs": args.n_jobs}

    def make():
        return make_pipeline(MiniRocket(random_state=args.seed, **kwargs), *_readout())

    with Timer() as warm:  # load / compile the Numba kernels outside the clock
        rng = np.random.default_rng(0)
        for channels in (1, 2):
            x = rng.random((4, channels, 20), dtype=np.float32)
            make().fit(x, np.array(["a", "b", "a", "b"])).predict(x)

    results = {}
    for name, data in sets.items():
        n_steps = common_length(data)
        # aeon wants channels first: (n, n_channels, n_steps).
        X_train = pad_last(data["X_train"], data["len_train"], n_steps).transpose(
            0, 2, 1
        )
        X_test = pad_last(data["X_test"], data["len_test"], n_steps).transpose(0, 2, 1)
        X_train, X_test = np.ascontiguousarray(X_train), np.ascontiguousarray(X_test)
        runs = []
        for k in range(args.repeats):
            _, run = time_pipeline(
                make, X_train, data["y_train"], X_test, data["y_test"]
            )
            runs.append(run)
            _say(
                f"[minirocket {name} {k + 1}/{args.repeats}] accuracy "
                f"{run['accuracy']:.3f}, {run['times_s']['total']:.2f} s"
            )
        results[name] = summarise(runs, describe_set(data))
    info = machine_info()
    config = {
        "transformer": {
            "class": "aeon MiniRocket",
            "params": {"random_state": args.seed, **kwargs},
        },
        "resolved_params": MiniRocket(random_state=args.seed, **kwargs).get_params(),
        "readout": READOUT_NOTE,
        "input": f"channels-first (n, n_channels, n_steps) float32; {PAD_NOTE}",
        "aeon": aeon.__version__,
        "python_executable": sys.executable,
        "jit_warm_up_s": warm.seconds,
        "worker_machine": info,
    }
    print(json.dumps({"config": config, "sets": results}))


def find_minirocket_python(explicit):
    """The python to run the worker with, or (None, reason)."""
    if explicit:
        return explicit, None
    if importlib.util.find_spec("aeon") is not None:
        return sys.executable, None
    if DEFAULT_AEON_PYTHON.exists():
        return str(DEFAULT_AEON_PYTHON), None
    return None, (
        "aeon is not installed here and /opt/aeon-env does not exist "
        "(see this script's docstring to install it)"
    )


def run_minirocket(args):
    python, reason = find_minirocket_python(args.minirocket_python)
    if python is None:
        return None, reason
    command = [
        python,
        str(Path(__file__).resolve()),
        "--minirocket-worker",
        "--data-dir",
        str(args.data_dir),
        "--seed",
        str(args.seed),
        "--repeats",
        str(args.repeats),
        "--sets",
        *args.sets,
    ]
    if args.n_jobs is not None:
        command += ["--n-jobs", str(args.n_jobs)]
    _say(f"[minirocket] running the worker with {python}")
    # Progress on stderr goes straight through; the result is stdout's last line.
    try:
        done = subprocess.run(
            command, check=False, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
    except OSError as exc:
        return None, f"cannot run {python}: {exc}"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return (
            None,
            f"the MiniRocket worker ({python}) failed with exit code {done.returncode}",
        )
    for line in lines[:-1]:
        print(line)
    return json.loads(lines[-1]), None


# ------------------------------------------------------------------- main


def load_sets(data_dir, names):
    sets = {}
    for name in names:
        path = Path(data_dir) / f"{name}.npz"
        if not path.exists():
            _say(f"{path} not found: {name} skipped")
            continue
        sets[name] = load_set(data_dir, name)
    return sets


def git_state():
    """Commit of the repository and whether its tracked files differ from it.

    Changed files under ``benchmarks/results/`` (outputs) do not count.
    """

    def git(*command):
        return subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(
                git(
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                    "--",
                    ".",
                    ":(exclude)benchmarks/results",
                )
            ),
        }
    except (OSError, subprocess.CalledProcessError):
        return None


def _load_saved(path):
    try:
        return json.loads(Path(path).read_text()).get("methods", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return repr(obj)


def print_table(methods, ran, names):
    """Per-set rows and a mean row; entries not run this time are marked ``*``."""

    def cell(method, name, value, fmt):
        entry = methods.get(method, {}).get("sets", {}).get(name)
        if entry is None:
            return None
        return format(value(entry), fmt) + ("" if method in ran else "*")

    columns = [
        ("snlnn", lambda e: e["accuracy"], ".3f"),
        ("minirocket", lambda e: e["accuracy"], ".3f"),
        ("snlnn", lambda e: e["times_s"]["total"], ".2f"),
        ("minirocket", lambda e: e["times_s"]["total"], ".2f"),
    ]
    rows = [
        [name] + [cell(m, name, v, f) or "–" for m, v, f in columns] for name in names
    ]
    mean_row = ["**mean**"]
    for method, value, fmt in columns:
        sets = methods.get(method, {}).get("sets", {})
        if all(n in sets for n in names):
            mark = "" if method in ran else "*"
            mean = statistics.fmean(value(sets[n]) for n in names)
            mean_row.append(f"**{mean:{fmt}}**{mark}")
        else:
            mean_row.append("–")
    header = ["set", "SNLNN acc", "MiniRocket acc", "SNLNN s", "MiniRocket s"]
    print(markdown_table(header, rows + [mean_row]))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("SNLNN_TSC_DIR") or str(DEFAULT_DATA_DIR),
        help="directory of the NAME.npz files (default: $SNLNN_TSC_DIR, else "
        "<repo>/../shared/data/tsc)",
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=SETS,
        default=list(SETS),
        help="sets to run (default: all seven)",
    )
    parser.add_argument(
        "--only",
        choices=METHODS,
        default=None,
        help="run one method only (default: both)",
    )
    parser.add_argument(
        "--snlnn-params",
        type=json.loads,
        default={},
        metavar="JSON",
        help="SNLNNTransformer parameters over the defaults, e.g. "
        "'{\"reservoir_dim\": 300}'",
    )
    parser.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        metavar="R",
        help="fits per set and method; times are medians (default 1)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="n_jobs of both transformers (default: their own, 1)",
    )
    parser.add_argument(
        "--minirocket-python",
        default=os.environ.get("SNLNN_MINIROCKET_PYTHON"),
        metavar="PYTHON",
        help="python with aeon (default: $SNLNN_MINIROCKET_PYTHON, "
        "else this python if it has aeon, else /opt/aeon-env/bin/python)",
    )
    parser.add_argument(
        "--output",
        default=str(RESULTS_DIR / "tsc.json"),
        help="JSON path (default benchmarks/results/tsc.json)",
    )
    parser.add_argument(
        "--minirocket-worker", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if not isinstance(args.snlnn_params, dict):
        parser.error("--snlnn-params must be a JSON object")
    args.sets = [s for s in SETS if s in args.sets]  # suite order, no duplicates
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.minirocket_worker:
        minirocket_worker(args)
        return
    if not Path(args.data_dir).is_dir():
        print(
            f"TSC data directory {args.data_dir} not found: benchmark skipped "
            "(set --data-dir or SNLNN_TSC_DIR)."
        )
        return
    sets = load_sets(args.data_dir, args.sets)
    if not sets:
        print(f"none of the sets found in {args.data_dir}: benchmark skipped.")
        return
    names = list(sets)

    info = machine_info()
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print(f"BLAS: {blas_line(info)}")
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(
            f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} pins "
            "OpenBLAS's kernel; unset it to let OpenBLAS choose its own."
        )
    run_args = {k: v for k, v in vars(args).items() if k != "minirocket_worker"}
    run_args["sets"] = names
    repo = git_state()
    fresh = {}
    if args.only in (None, "snlnn"):
        config, results = run_snlnn(args, sets)
        fresh["snlnn"] = {
            "timestamp": stamp,
            "machine": info,
            "args": run_args,
            "git": repo,
            "config": config,
            "sets": results,
            "means": means(results),
        }
    if args.only in (None, "minirocket"):
        worker, reason = run_minirocket(args)
        if worker is None:
            print(f"MiniRocket skipped: {reason}")
        else:
            config, results = worker["config"], worker["sets"]
            wblas = blas_line(config["worker_machine"])
            print(f"BLAS (MiniRocket worker, {config['python_executable']}): {wblas}")
            print(f"note (minirocket): aeon {config['aeon']}; {config['input']}")
            fresh["minirocket"] = {
                "timestamp": stamp,
                "machine": info,
                "args": run_args,
                "git": repo,
                "config": config,
                "sets": results,
                "means": means(results),
            }

    saved = _load_saved(args.output)
    saved.update(fresh)
    print(
        f"\nSequence classification, {len(names)} sets, seed {args.seed}; accuracy on "
        f"the test split; s = fit on train + predict test (median of {args.repeats}); "
        f"readout {READOUT_NOTE}\n"
    )
    print_table(saved, set(fresh), names)
    stale = sorted(set(saved) - set(fresh))
    for method in stale:
        print(
            f"\n* {method}: kept from {args.output} ({saved[method].get('timestamp')})"
        )
    for method, entry in saved.items():
        feats = ", ".join(
            f"{n} {entry['sets'][n]['n_features']}" for n in names if n in entry["sets"]
        )
        print(f"- {method} features: {feats}")
    print(f"\n{machine_line(info)}")

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w") as f:
        json.dump(
            {"benchmark": "tsc", "methods": saved}, f, indent=2, default=_json_default
        )
        f.write("\n")
    print(f"Saved {output}")


if __name__ == "__main__":
    main()
