"""Small helpers shared by the examples: optional matplotlib and figure output.

The examples print their results whether or not matplotlib is installed; the
figures are a bonus. ``pyplot()`` returns ``matplotlib.pyplot`` (switched to
the non-interactive Agg backend when there is no display to draw on), or
``None`` after saying how to get the figures.
"""

import argparse
import os
import sys
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "figures"

INSTALL_HINT = (
    "matplotlib is not installed, so no figures were written. To get them, "
    'install the examples extra from the repository root: pip install ".[examples]"'
)


def argument_parser(doc):
    """An ``ArgumentParser`` with ``--out``, described by ``doc``'s title line."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().split("\n", 1)[0],  # sphinx-gallery empties __doc__
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder the figures are written to (created if needed)",
    )
    return parser


def _has_display():
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def pyplot():
    """``matplotlib.pyplot``, or ``None`` (with a hint on stdout) if it is missing."""
    try:
        import matplotlib
    except ImportError:
        print(INSTALL_HINT)
        return None
    # The examples only save figures; without a display (CI, ssh) an
    # interactive backend would fail, and MPLBACKEND, if set, is respected.
    if not os.environ.get("MPLBACKEND") and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out_dir, name):
    """Write ``fig`` to ``out_dir/name``, close it and print where it went."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"figure written to {path}")
    return path
