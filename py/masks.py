"""A person mask and the blend by it, on numpy arrays: the settings of the blend, the segmenter's
input batch, its output as a person probability, the style's share at each pixel and the blend.
CPython runs these steps; the page runs the same steps as tf.js operations on the device
(py/stylize.py), and tests/test_cpython.py holds the two hosts' masks and pictures equal. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cards import SegmenterCard
from pixels import model_input, resize_bilinear

TARGETS = ("person", "background", "whole")


@dataclass
class BlendSettings:
    """What the view's controls say: where the style goes and how the mask is shaped."""

    target: str = "person"  # person, background or whole
    strength: float = 1.0  # 0 = the original, 1 = fully stylized
    threshold: float = 0.5  # person probability at the middle of the mask's edge
    feather: float = 0.2  # width of the edge in probability: 0 = a hard edge
    style_side: int = 256  # style transfer's working resolution (long side, pixels)
    show_mask: bool = False


def input_batch(rgb: np.ndarray, card: SegmenterCard) -> np.ndarray:
    """[H, W, 3] RGB 0…255 -> the segmenter's [1, h, w, 3] float32 input."""
    return model_input(rgb, card.input_height, card.input_width, card.input_scale)


def person_probability(output: np.ndarray, card: SegmenterCard, height: int, width: int) -> np.ndarray:
    """The segmenter's [1, h, w, C] output -> [height, width, 1] person probability: the card's
    activation over the channels, its person channel, resized bilinearly to the picture."""
    scores = output[0]
    if card.activation == "softmax":
        exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores = exp / exp.sum(axis=-1, keepdims=True)
    channel = card.person_channel
    return resize_bilinear(scores[:, :, channel:channel + 1], height, width)


def style_weight(probability: np.ndarray, settings: BlendSettings) -> np.ndarray:
    """[H, W, 1] person probability -> [H, W, 1] share of the stylized image at each pixel: the
    person (or the background) with an edge that ramps from 0 to 1 over `feather` around
    `threshold`, times `strength`."""
    if settings.feather > 0:
        low = settings.threshold - settings.feather / 2
        person = np.clip((probability - np.float32(low)) / np.float32(settings.feather), 0, 1)
    else:
        person = (probability >= settings.threshold).astype(np.float32)
    weight = person if settings.target == "person" else 1 - person
    return weight * np.float32(settings.strength)


def blend(original: np.ndarray, stylized: np.ndarray, weight) -> np.ndarray:
    """original + weight · (stylized − original), per pixel; weight [H, W, 1] or a number."""
    return original + (stylized - original) * weight
