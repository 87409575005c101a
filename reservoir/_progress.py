"""A minimal progress display for long state collections (stderr)."""

import sys
import time


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

    def __call__(self, n_done):
        if not self.enabled:
            return
        self.done += n_done
        now = time.perf_counter()
        # Redraw at most 10 times a second; always draw the last update.
        if now - self._last_draw < 0.1 and self.done < self.total:
            return
        self._last_draw = now
        frac = min(self.done / self.total, 1.0)
        bar = "#" * int(30 * frac)
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        self.stream.write(
            f"\r{self.label}: [{bar:<30}] {self.done}/{self.total} "
            f"({elapsed:.1f} s, {rate:,.0f}/s)"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()
