"""Drawing on the page's canvases: the picture, and the detections over it."""

from __future__ import annotations

import js
from pyscript.ffi import to_js

from picture import Picture
from results import Detection

_READ_OFTEN = to_js({"willReadFrequently": True})


def new_canvas(width: int, height: int):
    """A canvas of the app's own (an OffscreenCanvas: it works in a worker and on the page alike)."""
    return js.OffscreenCanvas.new(width, height)


def picture_context(canvas):
    """The 2-D context of the picture canvas, kept in CPU memory: tf.js reads its pixels every frame."""
    return canvas.getContext("2d", _READ_OFTEN)


def show_picture(canvas, picture: Picture) -> None:
    """Put a Picture's pixels on a canvas, resizing the canvas to the picture."""
    canvas.width, canvas.height = picture.width, picture.height
    pixels = js.Uint8ClampedArray.new(len(picture.rgba))
    pixels.assign(picture.rgba)
    picture_context(canvas).putImageData(js.ImageData.new(pixels, picture.width, picture.height), 0, 0)


def show_bitmap(canvas, bitmap, mirrored: bool = False) -> None:
    """Draw an ImageBitmap (a demo photo, a camera frame; closed here) onto a canvas of its size,
    mirrored like a mirror if asked."""
    width, height = bitmap.width, bitmap.height
    if canvas.width != width or canvas.height != height:
        canvas.width, canvas.height = width, height
    ctx = picture_context(canvas)
    ctx.save()
    if mirrored:
        ctx.setTransform(-1, 0, 0, 1, width, 0)
    ctx.drawImage(bitmap, 0, 0, width, height)
    ctx.restore()
    bitmap.close()


def show_rgba(canvas, values, width: int, height: int) -> None:
    """Put RGBA values (a JS typed array, 0…255) on a canvas of that size; the browser converts them."""
    canvas.width, canvas.height = width, height
    pixels = js.Uint8ClampedArray.new(values)
    canvas.getContext("2d").putImageData(js.ImageData.new(pixels, width, height), 0, 0)


def draw_detections(canvas, detections: list[Detection], colors: list[str], scale: float) -> None:
    """Clear the overlay canvas and draw each detection's box with its label and score.

    Boxes are in pixels of the source image; `scale` maps them to canvas pixels.
    """
    ctx = canvas.getContext("2d")
    width = canvas.width
    ctx.clearRect(0, 0, width, canvas.height)
    line = max(2.0, max(width, canvas.height) / 320)
    font_px = round(max(12.0, line * 6))
    ctx.font = f"600 {font_px}px system-ui, sans-serif"
    ctx.lineWidth = line
    ctx.textBaseline = "bottom"
    for det in detections:
        xmin, ymin, xmax, ymax = (v * scale for v in det.box)
        color = colors[det.class_id]
        ctx.strokeStyle = color
        ctx.strokeRect(xmin, ymin, xmax - xmin, ymax - ymin)
        text = f"{det.label} {det.score:.2f}"
        text_width = ctx.measureText(text).width + 2 * line
        top = ymin if ymin > font_px + line else ymax + font_px + line  # above the box, else below
        left = max(0.0, min(xmin - line / 2, width - text_width))  # inside the canvas
        ctx.fillStyle = color
        ctx.fillRect(left, top - font_px - line, text_width, font_px + line)
        ctx.fillStyle = "#ffffff"
        ctx.fillText(text, left + line, top - line / 2)


async def thumbnail_url(canvas, side: int) -> str:
    """A small JPEG of a canvas (its long side `side` px), as a blob URL."""
    scale = side / max(canvas.width, canvas.height)
    small = new_canvas(max(1, round(canvas.width * scale)), max(1, round(canvas.height * scale)))
    small.getContext("2d").drawImage(canvas, 0, 0, small.width, small.height)
    return js.URL.createObjectURL(await small.convertToBlob(to_js({"type": "image/jpeg", "quality": 0.8})))


async def composite_png(picture_canvas, overlay_canvas) -> str:
    """The picture with its detections (or its stylized version) drawn in, as a PNG blob URL."""
    out = new_canvas(picture_canvas.width, picture_canvas.height)
    ctx = out.getContext("2d")
    ctx.drawImage(picture_canvas, 0, 0)
    ctx.drawImage(overlay_canvas, 0, 0)
    return js.URL.createObjectURL(await out.convertToBlob(to_js({"type": "image/png"})))
