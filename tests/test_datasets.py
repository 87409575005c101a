import functools
import gzip
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from sklearn.datasets import load_digits

from reservoir.datasets import get_data_home, load_digits_sequences, load_mnist
from reservoir.datasets._mnist import DatasetIntegrityError

MNIST_FILENAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Never read the developer's settings, never write to the real ~/.cache."""
    for name in ("SNLNN_MNIST_DIR", "SNLNN_MNIST_URL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    data_home = tmp_path / "data_home"
    monkeypatch.setenv("SNLNN_DATA_HOME", str(data_home))
    # A proxy set in the environment would otherwise receive the local requests.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return data_home


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_mnist(mnist_dir, download=False)


class _CountingHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):
        pass  # keep pytest output clean


@pytest.fixture
def serve():
    """Factory: serve a directory over HTTP on 127.0.0.1; returns (server, url)."""
    running = []

    def start(directory):
        handler = functools.partial(_CountingHandler, directory=str(directory))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.requests = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread))
        return server, f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _copy_mnist(src, dst):
    dst.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILENAMES:
        shutil.copyfile(src / name, dst / name)
    return dst


def _rewrite_idx(path, edit):
    """Decompress, edit the raw IDX bytes, recompress: a valid gzip, bad content."""
    raw = bytearray(gzip.decompress(path.read_bytes()))
    edit(raw)
    path.write_bytes(gzip.compress(bytes(raw)))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_crc(path):
    # The gzip trailer is CRC32 then size; flipping the CRC is a sure gzip error.
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_label(path):
    def edit(raw):
        raw[8 + 123] = (raw[8 + 123] + 1) % 10  # still a valid digit

    _rewrite_idx(path, edit)


def _bad_magic(path):
    def edit(raw):
        raw[3] = 3  # claims 3 dimensions: an images header on a labels file

    _rewrite_idx(path, edit)


def _padded(path):
    _rewrite_idx(path, lambda raw: raw.extend(b"\x00" * 16))


CORRUPTIONS = [
    pytest.param(_truncate, "truncated", id="truncated-gzip"),
    pytest.param(_flip_crc, "not a valid gzip", id="bad-gzip-crc"),
    pytest.param(_flip_label, "MD5 checksum", id="flipped-label-byte"),
    pytest.param(_bad_magic, "magic number", id="bad-idx-magic"),
    pytest.param(_padded, "truncated or padded", id="wrong-idx-size"),
]


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


# --- loading from a local directory -------------------------------------------------


def test_load_mnist_from_directory(mnist):
    assert mnist.X_train.shape == (60000, 784)
    assert mnist.X_test.shape == (10000, 784)
    assert mnist.y_train.shape == (60000,)
    assert mnist.y_test.shape == (10000,)
    for X in (mnist.X_train, mnist.X_test):
        assert X.dtype == np.float32
        assert X.flags.c_contiguous
        assert X.min() == 0.0 and X.max() == 1.0
    for y in (mnist.y_train, mnist.y_test):
        assert y.dtype == np.int64
        np.testing.assert_array_equal(np.unique(y), np.arange(10))
    assert mnist.y_train[0] == 5
    assert mnist.y_test[0] == 7
    # Documented class counts of the canonical split.
    assert np.bincount(mnist.y_train)[1] == 6742
    assert np.bincount(mnist.y_test)[5] == 892
    assert "MNIST" in mnist.DESCR


def test_pixels_are_raw_bytes_over_255(mnist, mnist_dir):
    raw = gzip.decompress((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    first_image = np.frombuffer(raw, dtype=np.uint8, offset=16, count=784)
    np.testing.assert_array_equal(mnist.X_test[0], first_image / np.float32(255))


def test_env_var_directory(mnist, mnist_dir, monkeypatch):
    monkeypatch.setenv("SNLNN_MNIST_DIR", str(mnist_dir))
    X_train, y_train, X_test, y_test = load_mnist(download=False, return_X_y=True)
    np.testing.assert_array_equal(y_train, mnist.y_train)
    np.testing.assert_array_equal(X_test, mnist.X_test)


def test_data_dir_argument_beats_env_var(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv("SNLNN_MNIST_DIR", str(mnist_dir))
    empty = tmp_path / "empty"
    with pytest.raises(FileNotFoundError, match="the data_dir argument"):
        load_mnist(empty, download=False)


def test_missing_files_without_download(tmp_path, monkeypatch):
    empty = tmp_path / "nothing_here"
    monkeypatch.setenv("SNLNN_MNIST_DIR", str(empty))
    with pytest.raises(FileNotFoundError) as excinfo:
        load_mnist(download=False)
    message = str(excinfo.value)
    assert str(empty) in message
    assert "$SNLNN_MNIST_DIR" in message
    assert "download=True" in message
    for name in MNIST_FILENAMES:
        assert name in message
    assert not empty.exists()  # download=False never creates anything


def test_cache_directory_is_default(isolated_env):
    with pytest.raises(FileNotFoundError, match="cache directory") as excinfo:
        load_mnist(download=False)
    assert str(isolated_env / "mnist") in str(excinfo.value)


def test_get_data_home_lookup_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SNLNN_DATA_HOME")
    assert get_data_home() == str(tmp_path / "home" / ".cache" / "snlnn")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == str(tmp_path / "xdg" / "snlnn")
    monkeypatch.setenv("SNLNN_DATA_HOME", str(tmp_path / "snlnn"))
    assert get_data_home() == str(tmp_path / "snlnn")
    assert get_data_home(tmp_path / "explicit") == str(tmp_path / "explicit")
    assert get_data_home("~/d") == str(tmp_path / "home" / "d")
    assert not (tmp_path / "snlnn").exists()  # a getter creates nothing


def test_bad_file_in_user_directory_raises_and_is_kept(tmp_path, mnist_dir, serve):
    user_dir = _copy_mnist(mnist_dir, tmp_path / "user")
    _flip_label(user_dir / TRAIN_LABELS)
    corrupted = (user_dir / TRAIN_LABELS).read_bytes()
    server, url = serve(mnist_dir)
    with pytest.raises(DatasetIntegrityError, match=TRAIN_LABELS + ".*MD5.*left as is"):
        load_mnist(user_dir, base_url=url)
    assert (user_dir / TRAIN_LABELS).read_bytes() == corrupted
    assert server.requests == []


# --- downloading --------------------------------------------------------------------


def test_download_verifies_and_reuses_cache(
    mnist, mnist_dir, isolated_env, serve, monkeypatch
):
    server, url = serve(mnist_dir)
    monkeypatch.setenv("SNLNN_MNIST_URL", url)
    cache = isolated_env / "mnist"

    X_train, y_train, X_test, y_test = load_mnist(return_X_y=True)

    assert sorted(server.requests) == sorted("/" + n for n in MNIST_FILENAMES)
    for name in MNIST_FILENAMES:
        assert (cache / name).read_bytes() == (mnist_dir / name).read_bytes()
    assert _leftovers(cache) == []
    np.testing.assert_array_equal(X_train, mnist.X_train)
    np.testing.assert_array_equal(y_test, mnist.y_test)

    again = load_mnist()
    assert len(server.requests) == 4  # served from the cache, no new request
    np.testing.assert_array_equal(again.y_train, mnist.y_train)


@pytest.mark.parametrize("corrupt, problem", CORRUPTIONS)
def test_corrupt_download_is_rejected_and_deleted(
    corrupt, problem, tmp_path, mnist_dir, serve
):
    mirror = _copy_mnist(mnist_dir, tmp_path / "mirror")
    corrupt(mirror / TRAIN_LABELS)
    server, url = serve(mirror)
    target = tmp_path / "target"

    with pytest.raises(DatasetIntegrityError, match=problem) as excinfo:
        load_mnist(target, base_url=url)

    message = str(excinfo.value)
    assert TRAIN_LABELS in message and url in message
    assert not (target / TRAIN_LABELS).exists()
    assert _leftovers(target) == []
    # Files verified before the bad one are good and worth keeping.
    assert (target / MNIST_FILENAMES[0]).exists()


def test_bad_cached_file_is_downloaded_once_more(mnist, mnist_dir, isolated_env, serve):
    cache = _copy_mnist(mnist_dir, isolated_env / "mnist")
    _truncate(cache / TRAIN_LABELS)
    server, url = serve(mnist_dir)

    with pytest.warns(UserWarning, match="truncated.*downloading it again"):
        data = load_mnist(base_url=url)

    assert server.requests == ["/" + TRAIN_LABELS]
    repaired = (cache / TRAIN_LABELS).read_bytes()
    assert repaired == (mnist_dir / TRAIN_LABELS).read_bytes()
    np.testing.assert_array_equal(data.y_train, mnist.y_train)


def test_bad_cached_file_without_download_is_deleted(mnist_dir, isolated_env):
    cache = _copy_mnist(mnist_dir, isolated_env / "mnist")
    _bad_magic(cache / TRAIN_LABELS)
    with pytest.raises(DatasetIntegrityError, match="magic.*download=True"):
        load_mnist(download=False)
    assert not (cache / TRAIN_LABELS).exists()


def test_download_failure_is_a_clear_oserror(tmp_path, serve):
    (tmp_path / "empty_mirror").mkdir()
    server, url = serve(tmp_path / "empty_mirror")  # every request is a 404
    target = tmp_path / "target"
    with pytest.raises(OSError, match="Could not download .*" + MNIST_FILENAMES[0]):
        load_mnist(target, base_url=url)
    assert os.listdir(target) == []


# --- digits as sequences ------------------------------------------------------------


def test_load_digits_sequences():
    digits = load_digits_sequences()
    reference = load_digits()
    assert digits.data.shape == (1797, 8, 8)
    assert digits.data.dtype == np.float32
    assert digits.data.min() == 0.0 and digits.data.max() == 1.0
    # Time step t is image row t.
    np.testing.assert_array_equal(digits.data[5, 2], reference.images[5, 2] / 16)
    np.testing.assert_array_equal(digits.target, reference.target)
    assert digits.target.dtype == np.int64
    np.testing.assert_array_equal(np.unique(digits.target), np.arange(10))
    assert "time steps" in digits.DESCR


def test_load_digits_sequences_return_X_y():
    X, y = load_digits_sequences(return_X_y=True)
    digits = load_digits_sequences()
    np.testing.assert_array_equal(X, digits.data)
    np.testing.assert_array_equal(y, digits.target)


def test_mnist_dir_fixture_is_absolute(mnist_dir):
    # Examples run in a temporary working directory: a relative path would
    # point nowhere there.
    assert mnist_dir.is_absolute()
