"""MNIST loader: local IDX files first, verified download as a fallback."""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
import zlib
from http.client import HTTPException
from math import prod
from typing import NamedTuple

import numpy as np
from sklearn.utils import Bunch

__all__ = ["DatasetIntegrityError", "get_data_home", "load_mnist"]

DEFAULT_MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"

# Seconds without data before a download is abandoned; generous for slow mirrors.
_DOWNLOAD_TIMEOUT = 60


class DatasetIntegrityError(ValueError):
    """A dataset file is corrupt: bad gzip stream, IDX header or checksum."""


class _IdxFile(NamedTuple):
    key: str
    filename: str
    magic: int  # 0x0801 = unsigned bytes, 1 dim; 0x0803 = unsigned bytes, 3 dims
    shape: tuple
    md5: str  # of the uncompressed IDX bytes, so any mirror's gzip level works


MNIST_FILES = (
    _IdxFile(
        "train_images",
        "train-images-idx3-ubyte.gz",
        0x00000803,
        (60000, 28, 28),
        "6bbc9ace898e44ae57da46a324031adb",
    ),
    _IdxFile(
        "train_labels",
        "train-labels-idx1-ubyte.gz",
        0x00000801,
        (60000,),
        "a25bea736e30d166cdddb491f175f624",
    ),
    _IdxFile(
        "test_images",
        "t10k-images-idx3-ubyte.gz",
        0x00000803,
        (10000, 28, 28),
        "2646ac647ad5339dbf082846283269ea",
    ),
    _IdxFile(
        "test_labels",
        "t10k-labels-idx1-ubyte.gz",
        0x00000801,
        (10000,),
        "27ae3e4e09519cfbb04c329615203637",
    ),
)

MNIST_DESCR = """\
.. _mnist_dataset:

MNIST handwritten digits
------------------------

**Data Set Characteristics:**

:Number of Instances: 60,000 training and 10,000 test images
:Number of Attributes: 784 (28 x 28 grey-level pixels, row-major)
:Attribute Information: pixel intensity scaled from 0..255 to [0, 1], float32
:Target: digit class 0..9, int64
:Creator: Yann LeCun, Corinna Cortes and Christopher J. C. Burges
:License: Creative Commons Attribution-Share Alike 3.0

The canonical split of the MNIST database, a subset of NIST Special Databases
1 and 3 with digits size-normalised to 20 x 20 and centred by centre of mass
in a 28 x 28 field. The training writers are disjoint from the test writers,
so keep the split as given instead of reshuffling.

The four IDX files (``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
``t10k-labels-idx1-ubyte.gz``) are checked against the MD5 of their
uncompressed content on every load.

.. rubric:: References

- Y. LeCun, L. Bottou, Y. Bengio and P. Haffner (1998). Gradient-based
  learning applied to document recognition. Proceedings of the IEEE,
  86(11), 2278-2324.
"""


def _env(name):
    # An exported-but-empty variable is treated as unset, as shells make that easy.
    return os.environ.get(name) or None


def get_data_home(data_home=None):
    """Return the path of the SNLNN data cache.

    Datasets that have to be downloaded are kept in a sub-folder of this
    directory (MNIST in ``<data_home>/mnist``). The directory is not created
    here; loaders create it when they first write to it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The path to use. By default it is ``$SNLNN_DATA_HOME`` if set, else
        ``$XDG_CACHE_HOME/snlnn`` if set, else ``~/.cache/snlnn``.

    Returns
    -------
    data_home : str
        The absolute path of the data cache, with ``~`` expanded.

    Examples
    --------
    >>> import os
    >>> from reservoir.datasets import get_data_home
    >>> get_data_home(os.path.join("~", "snlnn_data")) == os.path.expanduser(
    ...     os.path.join("~", "snlnn_data")
    ... )
    True
    """
    if data_home is None:
        data_home = _env("SNLNN_DATA_HOME")
    if data_home is None:
        xdg_cache = _env("XDG_CACHE_HOME")
        if xdg_cache is not None:
            data_home = os.path.join(xdg_cache, "snlnn")
        else:
            data_home = os.path.join("~", ".cache", "snlnn")
    return os.path.abspath(os.path.expanduser(os.fspath(data_home)))


def _resolve_mnist_dir(data_dir):
    """Return ``(directory, where_from, is_cache)`` following the lookup order."""
    if data_dir is not None:
        return (
            os.path.abspath(os.path.expanduser(os.fspath(data_dir))),
            "the data_dir argument",
            False,
        )
    env_dir = _env("SNLNN_MNIST_DIR")
    if env_dir is not None:
        return os.path.abspath(os.path.expanduser(env_dir)), "$SNLNN_MNIST_DIR", False
    return os.path.join(get_data_home(), "mnist"), "the SNLNN cache directory", True


def _read_idx_gz(path, spec, name=None):
    """Decompress, parse and verify one IDX file; return a read-only uint8 array.

    Raises DatasetIntegrityError naming ``name`` (default ``path``) on any
    corruption, so a bad file is never handed back to the caller.
    """
    name = path if name is None else name
    with open(path, "rb") as f:
        compressed = f.read()
    try:
        raw = gzip.decompress(compressed)
    except EOFError as exc:
        raise DatasetIntegrityError(
            f"{name}: gzip stream ends early; the file is truncated ({exc})."
        ) from None
    except (OSError, zlib.error) as exc:
        raise DatasetIntegrityError(f"{name}: not a valid gzip file ({exc}).") from None

    if len(raw) < 4:
        raise DatasetIntegrityError(
            f"{name}: only {len(raw)} bytes after decompression, "
            "too short for an IDX header."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != spec.magic:
        raise DatasetIntegrityError(
            f"{name}: IDX magic number is 0x{magic:08x}, expected 0x{spec.magic:08x}; "
            "this is not the expected MNIST file."
        )
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetIntegrityError(f"{name}: IDX header is truncated.")
    shape = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    if shape != spec.shape:
        raise DatasetIntegrityError(
            f"{name}: IDX header gives shape {shape}, expected {spec.shape}."
        )
    expected_size = header_size + prod(shape)
    if len(raw) != expected_size:
        raise DatasetIntegrityError(
            f"{name}: {len(raw)} bytes after decompression, the IDX header "
            f"implies {expected_size}; the file is truncated or padded."
        )
    # The header can be intact while pixels or labels are not.
    digest = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    if digest != spec.md5:
        raise DatasetIntegrityError(
            f"{name}: MD5 checksum of the uncompressed data is {digest}, "
            f"expected {spec.md5}; the file is corrupt or not canonical MNIST."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _download(base_url, data_dir, spec):
    """Fetch one file into ``data_dir``, verify it, then move it into place.

    The data goes to a hidden temporary file in ``data_dir`` itself so that
    ``os.replace`` is an atomic rename: a reader never sees a partial file,
    and a failed or corrupt download leaves nothing behind.
    """
    url = base_url.rstrip("/") + "/" + spec.filename
    target = os.path.join(data_dir, spec.filename)
    fd, tmp_path = tempfile.mkstemp(
        prefix=f".{spec.filename}.", suffix=".part", dir=data_dir
    )
    try:
        with os.fdopen(fd, "wb") as tmp:
            # Some mirrors refuse urllib's default user agent.
            request = urllib.request.Request(url, headers={"User-Agent": "snlnn"})
            try:
                with urllib.request.urlopen(
                    request, timeout=_DOWNLOAD_TIMEOUT
                ) as response:
                    shutil.copyfileobj(response, tmp, 1 << 20)
            except (OSError, HTTPException) as exc:
                # URLError, HTTPError and timeouts are OSErrors; a dropped
                # connection mid-body is an HTTPException.
                raise OSError(
                    f"Could not download {url}: {exc}. Check the network, or set "
                    "base_url / $SNLNN_MNIST_URL to a reachable MNIST mirror, or "
                    "put the four files in a directory and pass it as data_dir."
                ) from exc
        array = _read_idx_gz(
            tmp_path, spec, name=f"{spec.filename} downloaded from {url}"
        )
        # mkstemp makes the file private (0600); data files are meant to be shared.
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    except BaseException:
        try:
            os.remove(tmp_path)
        except FileNotFoundError:
            pass
        raise
    return array


def load_mnist(data_dir=None, *, download=True, base_url=None, return_X_y=False):
    """Load the MNIST handwritten digits with the canonical 60,000/10,000 split.

    The four standard IDX gzip files are looked for in, in order: the
    ``data_dir`` argument, the directory named by ``$SNLNN_MNIST_DIR``, then
    the cache directory ``<get_data_home()>/mnist``. Files missing from the
    chosen directory are downloaded into it when ``download=True``.

    Every file is checked on every load (gzip stream, IDX magic number and
    dimensions, and the MD5 of the uncompressed content), so a corrupt file
    is never used:

    - a download is written to a temporary file, verified, and only then
      renamed into place; a corrupt download is deleted and raises;
    - a corrupt file in the cache directory is deleted and, if
      ``download=True``, downloaded once more (with a warning);
    - a corrupt file in a directory you chose (``data_dir`` or
      ``$SNLNN_MNIST_DIR``) raises and is left untouched, since it is your
      data rather than the cache's.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        Directory holding (or to receive) the four MNIST files. If None, use
        ``$SNLNN_MNIST_DIR``, else ``<get_data_home()>/mnist``.
    download : bool, default=True
        If True, download missing files. If False, raise FileNotFoundError
        when any file is missing.
    base_url : str, default=None
        URL of the directory the files are downloaded from. If None, use
        ``$SNLNN_MNIST_URL``, else a public mirror
        (``https://storage.googleapis.com/cvdf-datasets/mnist/``).
        ``file://`` URLs work too.
    return_X_y : bool, default=False
        If True, return ``(X_train, y_train, X_test, y_test)`` instead of a
        Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        X_train : ndarray of shape (60000, 784), dtype float32
            Training images, one flattened 28 x 28 image per row, in [0, 1].
        y_train : ndarray of shape (60000,), dtype int64
            Training labels, 0 to 9.
        X_test : ndarray of shape (10000, 784), dtype float32
            Test images, in [0, 1].
        y_test : ndarray of shape (10000,), dtype int64
            Test labels, 0 to 9.
        DESCR : str
            Description of the dataset.

    (X_train, y_train, X_test, y_test) : tuple of ndarray
        Returned instead of the Bunch if ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If files are missing and ``download=False``.
    DatasetIntegrityError
        A subclass of ValueError, if a file or a download is corrupt.
    OSError
        If a download fails.

    Examples
    --------
    >>> from reservoir.datasets import load_mnist
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.X_train.shape, mnist.X_train.dtype  # doctest: +SKIP
    ((60000, 784), dtype('float32'))
    >>> X_train, y_train, X_test, y_test = load_mnist(
    ...     "/data/mnist", download=False, return_X_y=True
    ... )  # doctest: +SKIP
    >>> y_train[:5]  # doctest: +SKIP
    array([5, 0, 4, 1, 9])
    """
    data_dir, where_from, is_cache = _resolve_mnist_dir(data_dir)

    raw = {}
    missing = []
    for spec in MNIST_FILES:
        path = os.path.join(data_dir, spec.filename)
        if not os.path.isfile(path):
            missing.append(spec)
            continue
        try:
            raw[spec.key] = _read_idx_gz(path, spec)
        except DatasetIntegrityError as exc:
            if not is_cache:
                raise DatasetIntegrityError(
                    f"{exc} It was found in {data_dir} (from {where_from}) and is "
                    "left as is: delete or replace it, then load again."
                ) from None
            # The cache is ours to repair, but only by a fresh download.
            os.remove(path)
            if not download:
                raise DatasetIntegrityError(
                    f"{exc} The cached copy was deleted; call "
                    "load_mnist(download=True) to fetch it again."
                ) from None
            warnings.warn(
                f"{exc} Deleted the cached copy and downloading it again.",
                stacklevel=2,
            )
            missing.append(spec)

    if missing:
        url = base_url or _env("SNLNN_MNIST_URL") or DEFAULT_MNIST_URL
        if not download:
            names = ", ".join(spec.filename for spec in missing)
            raise FileNotFoundError(
                f"MNIST files missing from {data_dir} (chosen from {where_from}): "
                f"{names}. Call load_mnist(download=True) to download them from "
                f"{url}, or copy the files there, or pass data_dir= (or set "
                "$SNLNN_MNIST_DIR) to a directory that has them."
            )
        os.makedirs(data_dir, exist_ok=True)
        for spec in missing:
            raw[spec.key] = _download(url, data_dir, spec)

    # Divide in place in float32: one 188 MB allocation instead of a float64 detour.
    X_train = raw["train_images"].reshape(-1, 28 * 28).astype(np.float32)
    X_train /= 255
    X_test = raw["test_images"].reshape(-1, 28 * 28).astype(np.float32)
    X_test /= 255
    y_train = raw["train_labels"].astype(np.int64)
    y_test = raw["test_labels"].astype(np.int64)

    if return_X_y:
        return X_train, y_train, X_test, y_test
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        DESCR=MNIST_DESCR,
    )
