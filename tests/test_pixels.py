"""The numpy resize of the CPython host (py/pixels.py) against tf.js's tf.image.resizeBilinear, which
the page runs: the same samples, on a real photo, shrunk and enlarged to odd sizes."""

import numpy as np
import pytest

import samples
from pixels import resize_bilinear, rgb_array


@pytest.mark.parametrize("size", [(260, 260), (37, 55), (150, 301)])
def test_numpy_resize_matches_tfjs(tfjs_page, size):
    rgb = np.asarray(samples.photo("fmd_demo2.jpg").convert("RGB"))[:97, :131]
    want = np.array(tfjs_page.evaluate(
        """([data, shape, size]) => tf.tidy(() => Array.from(
            tf.image.resizeBilinear(tf.tensor3d(data, shape, 'float32'), size).dataSync()))""",
        [rgb.ravel().tolist(), list(rgb.shape), list(size)]), np.float32).reshape(*size, 3)
    got = resize_bilinear(rgb, *size)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-3


def test_rgb_array_drops_alpha():
    rgba = bytes([1, 2, 3, 255, 4, 5, 6, 255])
    assert rgb_array(rgba, 2, 1).tolist() == [[[1, 2, 3], [4, 5, 6]]]
