"""Segment and stylize: a person mask and a fast style transfer, blended by the mask, all on the device.

Pixels stay in tf.js tensors from capture to the canvas: resizing, normalising, thresholding,
feathering and blending are tf.js operations called from here, and only the final image is
drawn. Every function that makes tensors is called inside
`tfbridge.tensor_scope` by its caller, which keeps what it returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tfbridge
from cards import ModelCard, SegmenterCard, StyleCard
from tfbridge import js_value, tf

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


class CardModel:
    """A tf.js model with the card that describes it."""

    def __init__(self, card: ModelCard, model) -> None:
        self.card = card
        self.model = model

    @classmethod
    async def load(cls, card: ModelCard, models_url: str, on_progress: Callable[[int, int | None], None]):
        return cls(card, await tfbridge.load_model(card, models_url, on_progress))


class Segmenter(CardModel):
    """A person segmentation model from its card: pixels in, person probability out."""

    card: SegmenterCard

    def person_probability(self, pixels):
        """[H, W, 3] RGB 0…255 -> [H, W, 1] person probability: the image resized bilinearly to the
        model's input and scaled, the model, its person channel, resized bilinearly back."""
        card = self.card
        height, width = pixels.shape[0], pixels.shape[1]
        batch = tf().image.resizeBilinear(pixels, js_value([card.input_height, card.input_width]))
        scores = tfbridge.model_outputs(self.model, batch.div(card.input_scale).expandDims(0), card)[0]
        if card.activation == "softmax":
            scores = tf().softmax(scores)
        person = scores.slice(js_value([0, 0, 0, card.person_channel]), js_value([1, -1, -1, 1])).squeeze(js_value([0]))
        return tf().image.resizeBilinear(person, js_value([height, width]))


class Stylizer(CardModel):
    """A fast style transfer network from its card: RGB 0…255 in, stylized RGB 0…255 out."""

    card: StyleCard

    def stylize(self, pixels, max_side: int):
        """[H, W, 3] RGB 0…255 -> stylized [H, W, 3]. An image whose long side is at most `max_side`
        is stylized at its own size; a larger one at `max_side`, then resized back."""
        height, width = pixels.shape[0], pixels.shape[1]
        scale = min(1.0, max_side / max(height, width))
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        small = pixels if scale == 1.0 else tf().image.resizeBilinear(pixels, js_value(list(size)))
        # The network's output is 4·⌈h/4⌉ × 4·⌈w/4⌉: keep the part that matches the input.
        out = tfbridge.model_outputs(self.model, small.expandDims(0), self.card)[0]
        out = out.slice(js_value([0, 0, 0, 0]), js_value([1, size[0], size[1], 3])).squeeze(js_value([0]))
        return out if scale == 1.0 else tf().image.resizeBilinear(out, js_value([height, width]))


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
    tint = tf().tensor1d(js_value(list(MASK_TINT)))
    return blend(image, tf().broadcastTo(tint, image.shape), probability.mul(0.5))


def to_rgba(image):
    """Float RGB 0…255 -> int32 RGBA, opaque: what a canvas's ImageData holds."""
    rgb = image.clipByValue(0, 255).round().cast("int32")
    return tf().pad(rgb, js_value([[0, 0], [0, 0], [0, 1]]), 255)
