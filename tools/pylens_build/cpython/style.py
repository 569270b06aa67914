"""Segment and stylize in CPython: bytes -> upright pixels (py/imaging.py) -> onnxruntime for the
segmenter (its input and its person probability: py/masks.py) and for the style network (at most
`max_side` on the long side: py/pixels.py) -> the blend by the mask (py/masks.py). The page's
Segmenter, Stylizer and blend do the same steps with tf.js (py/stylize.py)."""

from __future__ import annotations

import numpy as np

import masks
from imaging import load_picture, png_bytes
from masks import BlendSettings
from picture import ImageError
from pixels import fit_within, resize_bilinear, rgb_array

from ..project import SetupError
from .engine import OnnxNetwork, onnx_model


def picture_rgb(data: bytes, name: str) -> np.ndarray:
    """Image bytes -> the upright picture as [H, W, 3] uint8 RGB; SetupError saying why for bytes
    that are no usable image."""
    try:
        picture = load_picture(data, name)
    except ImageError as exc:
        raise SetupError(str(exc)) from None
    return rgb_array(picture.rgba, picture.width, picture.height)


def person_probability(segmenter: OnnxNetwork, rgb: np.ndarray) -> np.ndarray:
    """[H, W, 3] RGB -> [H, W, 1] float32 person probability."""
    card = segmenter.card
    output = segmenter.run(masks.input_batch(rgb, card))[0]
    return masks.person_probability(output, card, rgb.shape[0], rgb.shape[1])


def stylize(network: OnnxNetwork, rgb: np.ndarray, max_side: int) -> np.ndarray:
    """[H, W, 3] RGB -> the network's float32 picture of it at the same size, the network run at
    most `max_side` pixels on the long side."""
    height, width = rgb.shape[:2]
    small = fit_within(height, width, max_side)
    batch = (rgb.astype(np.float32) if small == (height, width) else resize_bilinear(rgb, *small))[None]
    # The network's output is 4·⌈h/4⌉ × 4·⌈w/4⌉: keep the part that matches the input.
    out = network.run(batch)[0][0, :small[0], :small[1]]
    return out if small == (height, width) else resize_bilinear(out, height, width)


def stylized(stylizer: OnnxNetwork, rgb: np.ndarray, settings: BlendSettings,
             segmenter: OnnxNetwork | None = None) -> np.ndarray:
    """[H, W, 3] RGB -> [H, W, 3] uint8: stylized at `settings.style_side`, blended into the picture by
    the segmenter's person mask as `settings` shape it (the whole picture needs no segmenter)."""
    original = rgb.astype(np.float32)
    styled = stylize(stylizer, rgb, settings.style_side) if settings.strength > 0 else original
    if settings.target == "whole":
        weight = np.float32(settings.strength)
    else:
        weight = masks.style_weight(person_probability(segmenter, rgb), settings)
    return np.clip(masks.blend(original, styled, weight), 0, 255).round().astype(np.uint8)


def mask_png(card, backend: str, data: bytes, name: str) -> tuple[bytes, tuple[int, int]]:
    """`build.py segment`'s 8-bit PNG of the person probability × 255, and its size."""
    rgb = picture_rgb(data, name)
    probability = person_probability(OnnxNetwork(card, onnx_model(card), backend), rgb)
    grey = np.round(probability[:, :, 0] * 255).astype(np.uint8)
    return png_bytes(grey, "L"), (rgb.shape[1], rgb.shape[0])


def stylized_png(card, backend: str, data: bytes, name: str, max_side: int, target: str = "whole",
                 segmenter_card=None) -> tuple[bytes, tuple[int, int]]:
    """`build.py stylize`'s PNG of an image in a style card's style (whole, or only the person or the
    background at the page's mask settings, by `segmenter_card`), and its size."""
    rgb = picture_rgb(data, name)
    segmenter = None if target == "whole" else OnnxNetwork(segmenter_card, onnx_model(segmenter_card), backend)
    out = stylized(OnnxNetwork(card, onnx_model(card), backend), rgb,
                   BlendSettings(target=target, style_side=max_side), segmenter)
    return png_bytes(out, "RGB"), (rgb.shape[1], rgb.shape[0])
