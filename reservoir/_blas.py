"""One place that holds BLAS to a single thread, restoring it afterwards."""

from threadpoolctl import ThreadpoolController

_CONTROLLER = []  # made on first use: scanning the loaded libraries is slow


def single_threaded_blas():
    """Context manager: BLAS runs on one thread inside, as before outside.

    Our own threads run over independent chunks of sequences; a multi-threaded
    BLAS underneath would fight them for the cores (and on a loaded machine
    even a small eigen-solve slows down 40x).
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
