import numpy as np
import pytest
from scipy.ndimage import affine_transform
from sklearn.datasets import load_digits

from reservoir.preprocessing import deskew


def _reference(image):
    """The same deskew with scipy: moments, then a bilinear affine resampling."""
    image = np.asarray(image, dtype=np.float64)
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    total = image.sum()
    mean = np.array([(rows * image).sum(), (cols * image).sum()]) / total
    var_row = ((rows - mean[0]) ** 2 * image).sum() / total
    cov = ((rows - mean[0]) * (cols - mean[1]) * image).sum() / total
    shear = np.array([[1.0, 0.0], [cov / var_row, 1.0]])
    centre = (np.array(image.shape) - 1) / 2.0
    return affine_transform(
        image, shear, offset=mean - shear @ centre, order=1, mode="grid-constant", cval=0.0
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_scipy_affine_reference(dtype):
    X = load_digits().data[:50].astype(dtype)
    out = deskew(X)
    assert out.dtype == dtype and out.shape == X.shape
    expected = np.stack([_reference(x.reshape(8, 8)).ravel() for x in X])
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, expected, atol=tol * 16, rtol=0)


def test_rectangular_images():
    rng = np.random.default_rng(0)
    images = rng.random((7, 6, 9)) ** 4
    out = deskew(images.reshape(7, -1), image_shape=(6, 9))
    expected = np.stack([_reference(im).ravel() for im in images])
    np.testing.assert_allclose(out, expected, atol=1e-10, rtol=0)


def test_removes_a_shear_and_centres_the_mass():
    image = np.zeros((9, 9))
    for i in range(9):
        image[i, 1 + (8 - i) // 2] = 1.0  # a line slanted to the right, off centre
    out = deskew(image.reshape(1, -1)).reshape(9, 9)
    assert set(out.argmax(axis=1)) == {4}
    rows, cols = np.mgrid[:9, :9]
    assert abs((cols * out).sum() / out.sum() - 4.0) < 1e-9


def test_blank_image_stays_blank_and_input_is_not_modified():
    X = load_digits().data[:3].copy()
    X[1] = 0.0
    before = X.copy()
    out = deskew(X)
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(out[1], 0.0)
    assert np.isfinite(out).all()


@pytest.mark.parametrize(
    "X, kwargs, message",
    [
        (np.ones((2, 10)), {}, "not a square number"),
        (np.ones((2, 12)), {"image_shape": (3, 5)}, "does not match 12"),
        (-np.ones((2, 16)), {}, "non-negative"),
        (np.full((2, 16), np.nan), {}, "NaN"),
    ],
)
def test_bad_input_raises_a_clear_error(X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        deskew(X, **kwargs)
