"""Pixel arrays in numpy, for the hosts that have no GPU to resize on (CPython). Pure numpy.

The page resizes with tf.js (tf.image.resizeBilinear) or the canvas; `resize_bilinear` samples
where tf.image.resizeBilinear does with its default options, and tests/test_pixels.py holds the two equal.
"""

from __future__ import annotations

import numpy as np


def _taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output index: the two source indices it blends and the weight of the second.
    Output pixel i reads source position i × size_in / size_out (no half-pixel offset, as tf.js)."""
    position = np.arange(size_out, dtype=np.float32) * np.float32(size_in / size_out)
    low = np.floor(position).astype(np.int64)
    return low, np.minimum(low + 1, size_in - 1), (position - low).astype(np.float32)[:, None]


def resize_bilinear(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """[H, W, C] pixels -> [height, width, C] float32, bilinear as tf.image.resizeBilinear
    (align_corners and half_pixel_centers off)."""
    top, bottom, dy = _taps(pixels.shape[0], height)
    left, right, dx = _taps(pixels.shape[1], width)
    # Only the rows and columns sampled are taken, then made float: a large photo is not copied whole.
    upper, lower = (pixels[rows][:, np.r_[left, right]].astype(np.float32) for rows in (top, bottom))
    taken = upper + (lower - upper) * dy[:, :, None]
    return taken[:, :width] + (taken[:, width:] - taken[:, :width]) * dx[None]


def model_input(rgb: np.ndarray, height: int, width: int, scale: float) -> np.ndarray:
    """[H, W, 3] RGB 0…255 -> a network's [1, height, width, 3] float32 input: resized bilinearly
    and divided by `scale`."""
    return (resize_bilinear(rgb, height, width) / np.float32(scale))[None]


def fit_within(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(height, width) of an image made at most `max_side` pixels on its long side: its own when it
    already is, else scaled down, at least 1 pixel on each side."""
    scale = min(1.0, max_side / max(height, width))
    return (height, width) if scale == 1.0 else (max(1, round(height * scale)), max(1, round(width * scale)))


def rgb_array(rgba: bytes, width: int, height: int) -> np.ndarray:
    """Opaque RGBA bytes (a Picture's) -> [height, width, 3] uint8 RGB."""
    return np.frombuffer(rgba, np.uint8).reshape(height, width, 4)[:, :, :3]
