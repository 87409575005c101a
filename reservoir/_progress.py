"""A minimal progress display for long state collections (stderr).

On a terminal it redraws one line in place; anywhere else (CI logs, files) it
writes a plain line every ``LOG_INTERVAL`` seconds and one at the end, since a
log has no use for carriage returns (one line of tens of kilobytes).
"""

import sys
import time

REDRAW_INTERVAL = 0.1
LOG_INTERVAL = 10.0


class Progress:
    """Callable that counts finished items and redraws one status line.

    Parameters
    ----------
    total : int
        Items expected.
    label : str
        Text before the bar.
    enabled : bool, default=True
        A disabled progress is a no-op, so callers need no branches.
    stream : file-like, default=sys.stderr
    """

    def __init__(self, total, label, enabled=True, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())
        if not self.interactive:
            self._last_draw = self._start  # the first log line after an interval

    def __call__(self, n_done):
        if not self.enabled:
            return
        self.done += n_done
        now = time.perf_counter()
        finished = self.done >= self.total
        interval = REDRAW_INTERVAL if self.interactive else LOG_INTERVAL
        # Always draw the last update.
        if now - self._last_draw < interval and not finished:
            return
        self._last_draw = now
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        line = (
            f"{self.label}: [{bar:<30}] {self.done}/{self.total} "
            f"({elapsed:.1f} s, {rate:,.0f}/s)"
        )
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
