"""Test inputs made from real photos: every awkward image format the app must take or refuse."""

from __future__ import annotations

import functools
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared folder with the test photos and reference results (SHARED_DIR, else ../shared)."""
    path = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
    if not (path / "references" / "face_mask_js_reference.json").is_file():
        raise RuntimeError(f"The test photos and references were not found in {path}; set SHARED_DIR.")
    return path


def photo(name: str) -> Image.Image:
    return Image.open(shared_dir() / "images" / name)


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def png_rgb16(rgb8: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one), with each 8-bit value v stored as v * 257."""
    height, width, _ = rgb8.shape
    samples = (rgb8.astype(">u2") * 257).reshape(height, width * 3)
    raw = b"".join(b"\x00" + row.tobytes() for row in samples)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def with_orientation(img: Image.Image, orientation: int) -> bytes:
    """A JPEG whose stored pixels are `img` turned so that EXIF `orientation` shows it upright again."""
    stored = {
        3: img.transpose(Image.Transpose.ROTATE_180),
        6: img.transpose(Image.Transpose.ROTATE_90),
        8: img.transpose(Image.Transpose.ROTATE_270),
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif)


def animated_gif(first: Image.Image, second: Image.Image) -> bytes:
    frames = [first.convert("RGB").quantize(256), second.convert("RGB").resize(first.size).quantize(256)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


@functools.cache
def huge_jpeg(width: int = 9000, height: int = 7000) -> bytes:
    """A photo scaled up to width x height."""
    return encode(photo("aizoo_demo.jpg").convert("RGB").resize((width, height), Image.Resampling.BILINEAR),
                  "JPEG", quality=80)


@functools.cache
def awkward_images() -> dict[str, bytes]:
    """Images the app must read: name -> bytes. Each shows the aizoo demo photo or a part of it."""
    base = photo("aizoo_demo.jpg").convert("RGB")
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.new("L", base.size, 200))
    return {
        "greyscale.png": encode(base.convert("L"), "PNG"),
        "greyscale.jpg": encode(base.convert("L"), "JPEG", quality=95),
        "alpha.png": encode(rgba, "PNG"),
        "greyscale-alpha.png": encode(base.convert("LA"), "PNG"),
        "palette.png": encode(base.quantize(256), "PNG"),
        "palette-transparent.png": encode(base.quantize(255), "PNG", transparency=0),
        "grey16.png": encode(Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257), "PNG"),
        "rgb16.png": png_rgb16(np.asarray(base)),
        "cmyk.jpg": encode(base.convert("CMYK"), "JPEG", quality=95),
        "animated.gif": animated_gif(base, photo("fst_stata.jpg")),
        "webp.webp": encode(base, "WEBP", quality=95),
        "bmp.bmp": encode(base, "BMP"),
    }


def broken_files() -> dict[str, tuple[bytes, str]]:
    """Files the app must refuse: name -> (bytes, a phrase the message must contain)."""
    jpeg = (shared_dir() / "images" / "aizoo_demo.jpg").read_bytes()
    return {
        "empty.jpg": (b"", "is empty"),
        "notes.txt": (b"these are not pixels\n" * 10, "not an image"),
        "fake.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not an image"),
        "truncated.jpg": (jpeg[: len(jpeg) // 3], "truncated or damaged"),
        "truncated.png": (encode(photo("fmd_demo2.jpg"), "PNG")[:5000], "truncated or damaged"),
    }


def y4m_video(path: Path, names: list[str], frames_each: int = 15, size=(640, 480), fps: int = 15) -> Path:
    """An uncompressed Y4M video (4:2:0) of the given photos, each letterboxed to `size` and shown for
    `frames_each` frames: what Chromium's fake camera plays with --use-file-for-fake-video-capture."""
    width, height = size
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for name in names:
            frame = Image.new("RGB", size, (0, 0, 0))
            img = photo(name).convert("RGB")
            img.thumbnail(size)
            frame.paste(img, ((width - img.width) // 2, (height - img.height) // 2))
            y, cb, cr = frame.convert("YCbCr").split()
            planes = y.tobytes() + b"".join(
                p.resize((width // 2, height // 2), Image.Resampling.BOX).tobytes() for p in (cb, cr))
            for _ in range(frames_each):
                out.write(b"FRAME\n" + planes)
    return path


@functools.cache
def variations() -> dict[str, Image.Image]:
    """New photos made from the test photos: mirrored, cropped, rescaled, rotated, re-lit."""
    demo = photo("aizoo_demo.jpg").convert("RGB")
    face = photo("fst_face.jpg").convert("RGB")
    mask = photo("fmd_demo2.jpg").convert("RGB")
    canvas = Image.new("RGB", (1200, 700), (90, 110, 130))
    canvas.paste(mask, (30, 200))
    canvas.paste(demo.resize((400, 528)), (700, 100))
    return {
        "demo-mirrored": ImageOps.mirror(demo),
        "demo-top-crop": demo.crop((0, 0, 520, 300)),
        "demo-small": demo.resize((260, 343), Image.Resampling.LANCZOS),
        "demo-large": demo.resize((1560, 2058), Image.Resampling.BICUBIC),
        "demo-dark": ImageEnhance.Brightness(demo).enhance(0.6),
        "face-rotated": face.rotate(12, expand=True, fillcolor=(255, 255, 255)),
        "face-wide": ImageOps.pad(face, (2400, 900), color=(20, 20, 20)),
        "collage": canvas,
        "mask-contrast": ImageEnhance.Contrast(mask).enhance(1.5),
    }
