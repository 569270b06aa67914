"""Image intake with Pillow: bytes from a file, a drop or a paste become upright RGBA pixels.

Pure Python (Pillow, numpy): runs the same in Pyodide and CPython. The page imports it only when
a picture needs decoding, Pillow then loading (see py/intake.py: decode_picture).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from picture import ImageError, Picture

# Larger images are decoded at a reduced size: the detector sees 260x260 anyway, and
# a canvas and a pixel tensor of the full size would cost several hundred megabytes.
MAX_WORKING_SIDE = 4096
# Beyond this many pixels an image is refused rather than decoded (a decompression bomb).
MAX_PIXELS = 120_000_000
EXIF_ORIENTATION = 0x0112
_LARGEST = f"the largest image this app opens is {MAX_PIXELS // 1_000_000} megapixels"


def _open(data: bytes, name: str) -> Image.Image:
    if not data:
        raise ImageError(f"{name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(
            f"{name} is not an image this app can read. Use a JPEG, PNG, GIF, WebP or BMP file."
        ) from None
    except Image.DecompressionBombError:  # far beyond MAX_PIXELS: Pillow refuses before we can
        raise ImageError(f"{name} has too many pixels; {_LARGEST}.") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; transparency is composited over white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit (and 32-bit integer) greyscale: scale to 8 bits instead of clipping at 255.
        grey = np.asarray(img, dtype=np.uint32)
        peak = 65535 if img.mode.startswith("I;16") or grey.max() > 255 else 255
        img = Image.fromarray((grey * 255 // peak).astype(np.uint8), "L")
    elif img.mode == "F":
        img = Image.fromarray(np.clip(np.asarray(img), 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info or img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def load_picture(data: bytes, name: str = "The file") -> Picture:
    """Decode image bytes into an upright, opaque Picture (EXIF orientation applied, first frame only)."""
    img = _open(data, name)
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name} is {width}×{height} pixels; {_LARGEST}.")
    try:
        long_side = max(width, height)
        if long_side > MAX_WORKING_SIDE and img.format == "JPEG":
            scale = MAX_WORKING_SIDE / long_side
            img.draft("RGB", (round(width * scale), round(height * scale)))  # decode at 1/2, 1/4 or 1/8
        img.load()
        quarter_turn = img.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8)
        source_size = (height, width) if quarter_turn else (width, height)
        rgb = _to_rgb(ImageOps.exif_transpose(img))
        if max(rgb.size) > MAX_WORKING_SIDE:
            rgb.thumbnail((MAX_WORKING_SIDE, MAX_WORKING_SIDE), Image.Resampling.BILINEAR)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{name} could not be decoded: it is truncated or damaged ({exc}).") from None
    return Picture(
        rgba=rgb.convert("RGBA").tobytes(),
        width=rgb.width,
        height=rgb.height,
        source_width=source_size[0],
        source_height=source_size[1],
    )


def png_bytes(values: np.ndarray, mode: str) -> bytes:
    """uint8 pixels ([H, W] for mode "L", [H, W, 3] for "RGB") as a PNG file's bytes."""
    out = io.BytesIO()
    Image.fromarray(values, mode).save(out, "PNG")
    return out.getvalue()
