"""Progress display: a redrawn line on a terminal, plain lines in a log."""

import io

import reservoir._progress
from reservoir._progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(stream, steps=50):
    progress = Progress(steps * 10, "fit", stream=stream)
    for _ in range(steps):
        progress(10)
    return stream.getvalue()


def test_a_log_gets_plain_lines_only():
    text = run(io.StringIO())
    assert "\r" not in text
    # Fast work: nothing until the interval has passed, then the final line.
    assert text.splitlines() == [text.strip()] and "500/500" in text


def test_a_log_gets_a_line_per_interval(monkeypatch):
    monkeypatch.setattr(reservoir._progress, "LOG_INTERVAL", 0.0)
    lines = run(io.StringIO(), steps=5).splitlines()
    assert [line.split("] ")[1].split()[0] for line in lines] == [
        "10/50", "20/50", "30/50", "40/50", "50/50"
    ]


def test_a_terminal_gets_one_redrawn_line():
    text = run(Terminal())
    assert text.startswith("\r") and text.endswith("500/500" + text.split("500/500")[1])
    assert text.count("\n") == 1 and text.endswith("\n")


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    progress = Progress(10, "fit", enabled=False, stream=stream)
    progress(10)
    assert stream.getvalue() == ""
