"""Segment and stylize: a person mask and a fast style transfer, blended by the mask, all on the device.

Pixels stay in tf.js tensors from capture to the canvas: resizing, normalising, thresholding,
feathering and blending are tf.js operations called from here, and only the final image is
drawn. Every function that makes tensors is called inside
`tfbridge.tensor_scope` by its caller, which keeps what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyscript.ffi import to_js

import tfbridge
from cards import SegmenterCard, StyleCard
from model import CardModel
from tfbridge import tf

TARGETS = ("person", "background", "whole")
MASK_TINT = (255.0, 0.0, 200.0)  # the "show mask" overlay colour


@dataclass
class BlendSettings:
    """What the view's controls say: where the style goes and how the mask is shaped."""

    target: str = "person"  # person, background or whole
    strength: float = 1.0  # 0 = the original, 1 = fully stylized
    threshold: float = 0.5  # person probability at the middle of the mask's edge
    feather: float = 0.2  # width of the edge in probability: 0 = a hard edge
    style_side: int = 256  # style transfer's working resolution (long side, pixels)
    show_mask: bool = False


class Segmenter(CardModel):
    """A person segmentation model from its card: pixels in, person probability out."""

    card: SegmenterCard

    def input_batch(self, pixels):
        """[H, W, 3] RGB 0…255 -> the model's [1, h, w, 3] input: resized bilinearly and scaled."""
        card = self.card
        resized = tf().image.resizeBilinear(pixels, to_js([card.input_height, card.input_width]))
        return resized.div(card.input_scale).expandDims(0)

    def person_probability(self, pixels):
        """[H, W, 3] RGB 0…255 -> [H, W, 1] person probability: the model on `input_batch`, its
        person channel, resized bilinearly back."""
        card = self.card
        height, width = pixels.shape[0], pixels.shape[1]
        scores = tfbridge.model_outputs(self.model, self.input_batch(pixels), card)[0]
        if card.activation == "softmax":
            scores = tf().softmax(scores)
        person = scores.slice(to_js([0, 0, 0, card.person_channel]), to_js([1, -1, -1, 1])).squeeze(to_js([0]))
        return tf().image.resizeBilinear(person, to_js([height, width]))


class Stylizer(CardModel):
    """A fast style transfer network from its card: RGB 0…255 in, stylized RGB 0…255 out."""

    card: StyleCard

    def input_batch(self, pixels, max_side: int):
        """[H, W, 3] RGB 0…255 -> the model's [1, h, w, 3] input: the image itself when its long side
        is at most `max_side`, else resized bilinearly to `max_side` on the long side."""
        height, width = pixels.shape[0], pixels.shape[1]
        scale = min(1.0, max_side / max(height, width))
        if scale == 1.0:
            return pixels.expandDims(0)
        size = [max(1, round(height * scale)), max(1, round(width * scale))]
        return tf().image.resizeBilinear(pixels, to_js(size)).expandDims(0)

    def stylize(self, pixels, max_side: int):
        """[H, W, 3] RGB 0…255 -> stylized [H, W, 3], the network run on `input_batch` and its
        output resized back when the input was made smaller."""
        height, width = pixels.shape[0], pixels.shape[1]
        batch = self.input_batch(pixels, max_side)
        small_height, small_width = batch.shape[1], batch.shape[2]
        # The network's output is 4·⌈h/4⌉ × 4·⌈w/4⌉: keep the part that matches the input.
        out = tfbridge.model_outputs(self.model, batch, self.card)[0]
        out = out.slice(to_js([0, 0, 0, 0]), to_js([1, small_height, small_width, 3])).squeeze(to_js([0]))
        if (small_height, small_width) == (height, width):
            return out
        return tf().image.resizeBilinear(out, to_js([height, width]))


def style_weight(probability, settings: BlendSettings):
    """[H, W, 1] person probability -> [H, W, 1] share of the stylized image at each pixel: the
    person (or the background) with an edge that ramps from 0 to 1 over `feather` around
    `threshold`, times `strength`."""
    if settings.feather > 0:
        low = settings.threshold - settings.feather / 2
        person = probability.sub(low).div(settings.feather).clipByValue(0, 1)
    else:
        person = probability.greaterEqual(settings.threshold).cast("float32")
    weight = person if settings.target == "person" else tf().onesLike(person).sub(person)
    return weight.mul(settings.strength)


def blend(original, stylized, weight):
    """original + weight · (stylized − original), per pixel; weight [H, W, 1] or a number."""
    return original.add(stylized.sub(original).mul(weight))


def tint_mask(image, probability):
    """The image with the person tinted, for the "show mask" overlay."""
    tint = tf().tensor1d(to_js(list(MASK_TINT)))
    return blend(image, tf().broadcastTo(tint, image.shape), probability.mul(0.5))


def to_rgba(image):
    """Float RGB 0…255 -> int32 RGBA, opaque: what a canvas's ImageData holds."""
    rgb = image.clipByValue(0, 255).round().cast("int32")
    return tf().pad(rgb, to_js([[0, 0], [0, 0], [0, 1]]), 255)
