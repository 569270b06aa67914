"""A decoded picture, and the error for bytes that are not one: what the page and the decoder
(py/imaging.py, with Pillow) share. Free of Pillow, so that the page does not wait for it to start."""

from __future__ import annotations

from dataclasses import dataclass


class ImageError(ValueError):
    """The bytes cannot be used as an image; the message says why, for a person."""


@dataclass(frozen=True)
class Picture:
    """Upright pixels ready for a canvas.

    rgba: width * height * 4 bytes, opaque; width, height: the working size (long side at most
    imaging.MAX_WORKING_SIDE); source_width, source_height: the upright size of the original image,
    in whose pixels detections are reported.
    """

    rgba: bytes
    width: int
    height: int
    source_width: int
    source_height: int
