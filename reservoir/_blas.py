"""One process-wide hold of BLAS at a single thread, shared by all callers.

State collection runs its own threads over independent chunks of sequences, and
OpenBLAS rounds a matrix product differently with another thread count (float32
states move by ~1e-6, and a spike may flip). So every chunk of every collection
runs with BLAS on one thread: that is what makes results bit-identical for any
``n_jobs`` and for concurrent callers.

A pthreads OpenBLAS has one process-wide thread count, so the hold is reference
counted: the first caller in sets it to 1, the last caller out restores it, and
a caller that leaves early (or raises) never lifts the limit under another one
that is still computing. Every entry (each chunk enters again) re-asserts one
thread: if other code (``threadpool_limits`` in another thread) changed the
count meanwhile, its value is taken as the one to restore, and the limit is set
again. The last caller out restores only a count that is still ours, so a change
made by others while we held is never overwritten. An OpenMP-threaded BLAS
keeps its count per thread, so there each thread sets and restores its own.

threadpoolctl's ``limit`` is not used for the process-wide count: since 3.8 it
lets only one Python thread at a time change OpenBLAS's limits and silently
ignores the others, so a call made from a worker thread (a web server, joblib's
threading backend) would run multi-threaded.
"""

import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_LOCK = threading.Lock()
_LIBRARIES = []  # found on first use: scanning the loaded libraries is slow
_SHARED = {"callers": 0, "restore": {}}


def _blas_libraries():
    """(process_wide, per_thread) BLAS library controllers."""
    if not _LIBRARIES:
        blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        per_thread = [c for c in blas if getattr(c, "threading_layer", None) == "openmp"]
        shared = [c for c in blas if c not in per_thread]
        _LIBRARIES.append((shared, per_thread))
    return _LIBRARIES[0]


def _set_threads(library, n_threads):
    # Bypass threadpoolctl's one-controlling-thread rule (see the module doc).
    setter = getattr(library, "_real_set_num_threads", library.set_num_threads)
    setter(n_threads)


@contextmanager
def single_threaded_blas():
    """Context manager: BLAS runs on one thread inside, as before outside.

    Safe to enter from several threads at once and to nest; entering again
    (once per chunk) re-asserts the limit.
    """
    shared, per_thread = _blas_libraries()
    with _LOCK:
        restore = _SHARED["restore"]
        for lib in shared:
            n_threads = lib.get_num_threads()
            if n_threads != 1:
                restore[id(lib)] = (lib, n_threads)  # first entry, or set by others
                _set_threads(lib, 1)
        _SHARED["callers"] += 1
    own = [(lib, lib.get_num_threads()) for lib in per_thread]
    for lib, n_threads in own:
        if n_threads != 1:
            _set_threads(lib, 1)
    try:
        yield
    finally:
        for lib, n_threads in own:
            if n_threads != 1:
                _set_threads(lib, n_threads)
        with _LOCK:
            _SHARED["callers"] -= 1
            if _SHARED["callers"] == 0:
                for lib, n_threads in _SHARED["restore"].values():
                    if lib.get_num_threads() == 1:  # still ours
                        _set_threads(lib, n_threads)
                _SHARED["restore"] = {}
