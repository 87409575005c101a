"""Small helpers shared by the benchmark scripts.

Timing (:class:`Timer`), peak resident memory (:func:`reset_peak_rss`,
:func:`peak_rss_bytes`), a description of the machine (:func:`machine_info`,
:func:`machine_line`), markdown tables (:func:`markdown_table`) and JSON
results in ``benchmarks/results/`` (:func:`save_json`).

Only the standard library, numpy and threadpoolctl are required; psutil is
used when it is installed.
"""

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


class Timer:
    """Context manager that measures wall time and this process's CPU time.

    ``seconds`` is wall time (``time.perf_counter``), ``cpu_seconds`` the CPU
    time of all threads of the process (``time.process_time``). On a shared
    machine their ratio exposes contention: a phase that keeps 2 threads busy
    has ``cpu_seconds / seconds`` near 2 unless other work steals the cores.

    >>> with Timer() as t:
    ...     pass
    >>> t.seconds >= 0 and t.cpu_seconds >= 0
    True
    """

    def __enter__(self):
        self.seconds = self.cpu_seconds = None
        self._cpu = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = time.process_time() - self._cpu
        return False


def reset_peak_rss():
    """Reset this process's peak-RSS mark so the next phase is measured alone.

    Linux lets a process reset its own high-water mark (``VmHWM``) by writing
    ``5`` to ``/proc/self/clear_refs``. Returns False where that is not
    possible; :func:`peak_rss_bytes` then reports the peak of the whole
    process lifetime instead.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes():
    """Peak resident set size of this process in bytes (since the last reset).

    Reads ``VmHWM`` from ``/proc/self/status`` (which :func:`reset_peak_rss`
    can reset); elsewhere falls back to psutil or ``getrusage``, which count
    from process start.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        info = psutil.Process().memory_info()
        peak = getattr(info, "peak_wset", None)  # Windows only
        if peak:
            return int(peak)
    except ImportError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def usable_cores():
    """Cores this process may run on (affinity-aware where supported)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def machine_info():
    """Describe the machine and the numeric stack as a JSON-ready dict."""
    import numpy as np
    from threadpoolctl import threadpool_info

    info = {
        "cpu": _cpu_model(),
        "cores": usable_cores(),
        "logical_cpus": os.cpu_count(),
        "avx512f": "avx512f" in _cpu_flags(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    for name in ("scipy", "sklearn", "numba"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            info[name] = None
    try:
        with open("/proc/meminfo") as f:
            total_kb = int(f.readline().split()[1])
        info["memory_gib"] = round(total_kb / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    info["blas"] = [
        {
            key: pool.get(key)
            for key in ("internal_api", "version", "architecture", "num_threads")
        }
        for pool in threadpool_info()
    ]
    env = ("OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "NUMBA_THREADING_LAYER")
    info["env"] = {key: os.environ[key] for key in env if key in os.environ}
    return info


def machine_line(info):
    """One human-readable line summarising :func:`machine_info`."""
    blas = ", ".join(
        f"{p['internal_api']} {p['version']} ({p.get('architecture')}, "
        f"{p['num_threads']} threads)"
        for p in info["blas"]
    )
    env = "".join(f", {k}={v}" for k, v in info["env"].items())
    load = info.get("load_average")
    load = f", load {load[0]:.1f}" if load else ""
    return (
        f"Machine: {info['cpu']}, {info['cores']} cores, "
        f"{info.get('memory_gib', '?')} GiB; Python {info['python']}, "
        f"numpy {info['numpy']}, scipy {info['scipy']}, "
        f"scikit-learn {info['sklearn']}, "
        f"numba {info['numba']}; BLAS: {blas}{env}{load}"
    )


def markdown_table(header, rows):
    """Render rows (sequences of already formatted strings) as a markdown table."""
    widths = [
        max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)
    ]

    def line(cells):
        return (
            "| "
            + " | ".join(f"{c!s:<{w}}" for c, w in zip(cells, widths, strict=True))
            + " |"
        )

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def save_json(data, name):
    """Write ``data`` to ``benchmarks/results/<name>`` and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    # Written beside it, then renamed: a run stopped mid-write keeps the old file.
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w") as f:
        json.dump(data, f, indent=2, default=_json_default)
        f.write("\n")
    os.replace(partial, path)
    return path


def _json_default(obj):
    # numpy scalars and arrays, without importing numpy here.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
