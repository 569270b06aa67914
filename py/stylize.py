"""Segment and stylize: a person mask and a fast style transfer, blended by the mask, all on the device.

Pixels stay in tf.js tensors from capture to the canvas: resizing, normalising, thresholding,
feathering and blending are tf.js operations called from here, and only the final image is
drawn. The networks' calls (`person_probability`, `stylize`) are awaited and return tensors their
caller disposes; every other function that makes tensors is called inside
`tfbridge.tensor_scope` by its caller, which keeps what it returns. py/masks.py does the same
steps on numpy arrays for CPython.
"""

from __future__ import annotations

from pyscript.ffi import to_js

import tfbridge
from cards import SegmenterCard, StyleCard
from masks import BlendSettings
from model import CardModel
from pixels import fit_within
from tfbridge import tf

MASK_TINT = (255.0, 0.0, 200.0)  # the "show mask" overlay colour


class Segmenter(CardModel):
    """A person segmentation model from its card: pixels in, person probability out."""

    card: SegmenterCard

    def input_batch(self, pixels):
        """[H, W, 3] RGB 0…255 -> the model's [1, h, w, 3] input: resized bilinearly and scaled."""
        card = self.card
        resized = tf().image.resizeBilinear(pixels, to_js([card.input_height, card.input_width]))
        return resized.div(card.input_scale).expandDims(0)

    async def person_probability(self, pixels):
        """[H, W, 3] RGB 0…255 -> [H, W, 1] person probability (the caller disposes it): the model on
        `input_batch`, its person channel, resized bilinearly back."""
        card = self.card
        height, width = pixels.shape[0], pixels.shape[1]
        outputs = await self.outputs(lambda: self.input_batch(pixels))
        with tfbridge.tensor_scope():
            scores = tf().softmax(outputs[0]) if card.activation == "softmax" else outputs[0]
            person = scores.slice(to_js([0, 0, 0, card.person_channel]), to_js([1, -1, -1, 1])).squeeze(to_js([0]))
            probability = tf().keep(tf().image.resizeBilinear(person, to_js([height, width])))
        tfbridge.dispose(outputs)
        return probability


class Stylizer(CardModel):
    """A fast style transfer network from its card: RGB 0…255 in, stylized RGB 0…255 out."""

    card: StyleCard

    def input_batch(self, pixels, max_side: int):
        """[H, W, 3] RGB 0…255 -> the model's [1, h, w, 3] input, resized bilinearly to at most
        `max_side` on the long side (pixels.fit_within)."""
        height, width = pixels.shape[0], pixels.shape[1]
        size = fit_within(height, width, max_side)
        if size == (height, width):
            return pixels.expandDims(0)
        return tf().image.resizeBilinear(pixels, to_js(list(size))).expandDims(0)

    async def stylize(self, pixels, max_side: int):
        """[H, W, 3] RGB 0…255 -> stylized [H, W, 3] (the caller disposes it), the network run on
        `input_batch` and its output resized back when the input was made smaller."""
        height, width = pixels.shape[0], pixels.shape[1]
        small_height, small_width = fit_within(height, width, max_side)
        outputs = await self.outputs(lambda: self.input_batch(pixels, max_side))
        with tfbridge.tensor_scope():
            # The network's output is 4·⌈h/4⌉ × 4·⌈w/4⌉: keep the part that matches the input.
            out = outputs[0].slice(to_js([0, 0, 0, 0]), to_js([1, small_height, small_width, 3])).squeeze(to_js([0]))
            if (small_height, small_width) != (height, width):
                out = tf().image.resizeBilinear(out, to_js([height, width]))
            stylized = tf().keep(out)
        tfbridge.dispose(outputs)
        return stylized


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


class KeptOutputs:
    """The still picture's network outputs, kept so that a change of the mask's shape, the target or
    the strength only blends again: kind ("pixels", "probability", "stylized") -> (key, tensor), the
    key saying what the output depends on, the picture's serial first."""

    def __init__(self) -> None:
        self.outputs: dict[str, tuple[tuple, object]] = {}

    def holds(self, kind: str, key: tuple) -> bool:
        return kind in self.outputs and self.outputs[kind][0] == key

    async def output(self, kind: str, key: tuple | None, compute, made: list) -> tuple[object, bool]:
        """The output of a kind and whether it was kept: the one kept, while its key holds, else
        `compute()`'s (a coroutine), kept under `key`, or added to `made` when there is none (not a still)."""
        if key is not None and self.holds(kind, key):
            return self.outputs[kind][1], True
        tensor = await compute()
        if key is not None:
            self.keep(kind, key, tensor)
        else:
            made.append(tensor)
        return tensor, False

    def keep(self, kind: str, key: tuple, tensor) -> None:
        if kind in self.outputs:
            self.outputs[kind][1].dispose()
        self.outputs[kind] = (key, tfbridge.tf().keep(tensor))

    def keep_only(self, still: int | None) -> None:
        """Drop them if they are of another picture than `still`."""
        if any(key[0] != still for key, _ in self.outputs.values()):
            self.drop()

    def drop(self) -> None:
        for _, tensor in self.outputs.values():
            tensor.dispose()
        self.outputs.clear()
