"""Fast style transfer in CPython: bytes -> upright pixels (py/imaging.py) -> the network at most
`max_side` on the long side (py/pixels.py) -> onnxruntime -> resized back, as the page's Stylizer
does with tf.js (py/stylize.py). The whole picture only: a person mask needs a segmenter, which has
no ONNX model yet."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from imaging import load_picture
from picture import ImageError
from pixels import fit_within, resize_bilinear, rgb_array

from ..project import SetupError
from .engine import OnnxNetwork, onnx_model


def stylize(network: OnnxNetwork, data: bytes, name: str, max_side: int) -> np.ndarray:
    """The picture in the network's style: [H, W, 3] uint8 RGB at the upright picture's size.
    Raises picture.ImageError for bytes that are no usable image."""
    picture = load_picture(data, name)
    rgb = rgb_array(picture.rgba, picture.width, picture.height)
    height, width = rgb.shape[:2]
    small = fit_within(height, width, max_side)
    batch = (rgb.astype(np.float32) if small == (height, width) else resize_bilinear(rgb, *small))[None]
    # The network's output is 4·⌈h/4⌉ × 4·⌈w/4⌉: keep the part that matches the input.
    out = network.run(batch)[0][0, :small[0], :small[1]]
    if small != (height, width):
        out = resize_bilinear(out, height, width)
    return np.clip(out, 0, 255).round().astype(np.uint8)


def stylized_png(card, backend: str, data: bytes, name: str, max_side: int) -> tuple[bytes, tuple[int, int]]:
    """`build.py stylize`'s PNG of an image in a style card's style, and its size; SetupError saying
    why for bytes that are no usable image."""
    try:
        rgb = stylize(OnnxNetwork(card, onnx_model(card), backend), data, name, max_side)
    except ImageError as exc:
        raise SetupError(str(exc)) from None
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, "PNG")
    return out.getvalue(), (rgb.shape[1], rgb.shape[0])
