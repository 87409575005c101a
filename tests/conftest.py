"""Fixtures shared across the test suite."""

import os
from pathlib import Path

import pytest

# Kept here rather than imported from the package, so a broken
# reservoir.datasets fails its own tests instead of every test's collection.
MNIST_FILENAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_dir():
    """Directory holding the four canonical MNIST IDX gzip files.

    ``$SNLNN_MNIST_DIR`` if set, else ``<repo root>/../shared/data/mnist``.
    Resolved to an absolute path here, where it is read: tests that run an
    example in a temporary working directory pass it on. Tests that use it are
    skipped when the files are absent.
    """
    env_dir = os.environ.get("SNLNN_MNIST_DIR")
    if env_dir:
        directory, source = Path(env_dir).expanduser().resolve(), "$SNLNN_MNIST_DIR"
    else:
        repo_root = Path(__file__).resolve().parent.parent
        directory = (repo_root.parent / "shared" / "data" / "mnist").resolve()
        source = "default"
    missing = [name for name in MNIST_FILENAMES if not (directory / name).is_file()]
    if missing:
        pytest.skip(
            f"MNIST files not found in {directory} ({source} location): "
            f"missing {', '.join(missing)}; set SNLNN_MNIST_DIR to a directory "
            "holding the four IDX .gz files to run these tests."
        )
    return directory
