"""The fast-style transform network evaluated directly from its formulas in numpy: the
independent reference that the TensorFlow rebuild in models/convert.py is checked against.
Slow and plain on purpose: convolutions as sums over kernel taps, the transposed
convolution as the scatter of each input pixel through the kernel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

EPSILON = 1e-3


def load_variables(folder: Path) -> list[np.ndarray]:
    manifest = json.loads((folder / "manifest.json").read_text())
    names = ["Variable"] + [f"Variable_{k}" for k in range(1, len(manifest))]
    return [np.fromfile(folder / manifest[n]["filename"], "<f4").reshape(manifest[n]["shape"]).astype(np.float64)
            for n in names]


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """x [H, W, in], w [kh, kw, in, out], SAME padding."""
    kh, kw = w.shape[:2]
    (top, bottom), (left, right) = same_padding(x.shape[0], kh, stride), same_padding(x.shape[1], kw, stride)
    xp = np.pad(x, ((top, bottom), (left, right), (0, 0)))
    out_h, out_w = -(-x.shape[0] // stride), -(-x.shape[1] // stride)
    y = np.zeros((out_h, out_w, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = xp[i:i + stride * out_h:stride, j:j + stride * out_w:stride]
            y += patch @ w[i, j]
    return y


def conv2d_transpose(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """x [H, W, in], w [kh, kw, out, in], SAME: the output is stride × the input in each axis.

    Each input pixel (r, c) adds x[r, c] · w[i, j] at (stride·r + i − top, stride·c + j − left),
    where top and left are the SAME padding of the convolution this transposes.
    """
    kh, kw = w.shape[:2]
    out_h, out_w = stride * x.shape[0], stride * x.shape[1]
    top, left = same_padding(out_h, kh, stride)[0], same_padding(out_w, kw, stride)[0]
    y = np.zeros((out_h + kh + stride, out_w + kw + stride, w.shape[2]))
    for i in range(kh):
        for j in range(kw):
            contribution = x @ w[i, j].T  # [H, W, out]
            y[i:i + stride * x.shape[0]:stride, j:j + stride * x.shape[1]:stride] += contribution
    return y[top:top + out_h, left:left + out_w]


def instance_norm(x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=(0, 1))
    var = x.var(axis=(0, 1))
    return scale * (x - mean) / np.sqrt(var + EPSILON) + shift


def stylize(variables: list[np.ndarray], image: np.ndarray) -> np.ndarray:
    """image [H, W, 3] RGB 0…255 -> stylized RGB 0…255, [4·⌈H/4⌉, 4·⌈W/4⌉, 3]."""
    v = variables

    def conv(x, k, stride, relu=True):
        y = instance_norm(conv2d(x, v[k], stride), v[k + 1], v[k + 2])
        return np.maximum(y, 0) if relu else y

    def up(x, k):
        return np.maximum(instance_norm(conv2d_transpose(x, v[k], 2), v[k + 1], v[k + 2]), 0)

    x = conv(image.astype(np.float64), 0, 1)
    x = conv(x, 3, 2)
    x = conv(x, 6, 2)
    for k in (9, 15, 21, 27, 33):
        x = x + conv(conv(x, k, 1), k + 3, 1, relu=False)
    x = up(up(x, 39), 42)
    y = conv(x, 45, 1, relu=False)
    return np.clip(np.tanh(y) * 150 + 127.5, 0, 255)
