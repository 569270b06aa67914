"""Test inputs made from real photos: every awkward image format the app must take or refuse."""

from __future__ import annotations

import base64
import functools
import io
import json
import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from pylens_build.models import demo_photos, fetch_photos
from pylens_build.project import BUILD

DATA = Path(__file__).resolve().parent / "data"
# The real photos the tests read: the site's demos, then those of tests/data/photos.json.
PHOTO_SOURCES = demo_photos() + json.loads((DATA / "photos.json").read_text())["photos"]
PHOTOS = [photo["file"] for photo in PHOTO_SOURCES]


@functools.cache
def photos_dir() -> Path:
    """The folder of the test photos, fetched by URL and sha256 (or from IMAGE_MIRROR) on first use,
    so that collecting the tests needs none of them; one that cannot be had is a SetupError."""
    return fetch_photos(PHOTO_SOURCES, BUILD / "photos")


def photo_path(name: str) -> Path:
    return photos_dir() / name


def photo_bytes(name: str) -> bytes:
    return photo_path(name).read_bytes()


def photo(name: str) -> Image.Image:
    return Image.open(photo_path(name))


def reference() -> dict:
    """What the original JavaScript pipeline detects on each test photo (tests/data, with its provenance)."""
    return json.loads((DATA / "face_mask_js_reference.json").read_text())["images"]


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


# EXIF orientation -> the stored pixels made from an upright picture: the inverse of the turn or
# mirror that the tag's value (the EXIF standard's Orientation, 0x0112) says shows them upright.
# Written with numpy rather than with the Pillow that the app reads them with.
STORED_FROM_UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left to right
    3: lambda a: a[::-1, ::-1],  # turned half a turn
    4: lambda a: a[::-1],  # mirrored top to bottom
    5: lambda a: a.transpose(1, 0, 2),  # mirrored about the top-left to bottom-right diagonal
    6: lambda a: np.rot90(a, 1),  # shown turned a quarter clockwise, so stored a quarter anticlockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # mirrored about the other diagonal
    8: lambda a: np.rot90(a, -1),  # shown turned a quarter anticlockwise
}


def with_orientation(img: Image.Image, orientation: int, quality: int = 95) -> bytes:
    """A JPEG whose stored pixels are `img` turned so that EXIF `orientation` shows it upright again."""
    stored = Image.fromarray(np.ascontiguousarray(STORED_FROM_UPRIGHT[orientation](np.asarray(img.convert("RGB")))))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=quality, exif=exif)


def animated_gif(first: Image.Image, second: Image.Image) -> bytes:
    frames = [first.convert("RGB").quantize(256), second.convert("RGB").resize(first.size).quantize(256)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


@functools.cache
def huge_jpeg(width: int = 9000, height: int = 7000) -> bytes:
    """A photo scaled up to width x height."""
    return encode(photo("aizoo_demo.jpg").convert("RGB").resize((width, height), Image.Resampling.BILINEAR),
                  "JPEG", quality=80)


@functools.cache
def rgb(name: str) -> Image.Image:
    """A test photo in RGB."""
    return photo(name).convert("RGB")


def grey_rgb(img: Image.Image) -> np.ndarray:
    """The RGB pixels of a photo shown in grey."""
    return np.repeat(np.asarray(img.convert("L"))[..., None], 3, axis=2)


def see_through(img: Image.Image, alpha: int) -> Image.Image:
    out = img.convert("RGBA")
    out.putalpha(Image.new("L", img.size, alpha))
    return out


def over_white(img: Image.Image, alpha: int) -> np.ndarray:
    """The RGB pixels of a photo with opacity alpha shown over white."""
    return (np.asarray(img) * (alpha / 255) + 255 * (1 - alpha / 255)).round().astype(np.uint8)


# Images the app must read, each the aizoo demo photo (in RGB) made awkward: in grey, see-through,
# in a palette, at 16 bits, and so on. Name -> recipe for (bytes, the RGB pixels a correct reader shows).
AWKWARD_IMAGES: dict[str, Callable[[Image.Image], tuple[bytes, np.ndarray]]] = {
    "greyscale.png": lambda base: (encode(base.convert("L"), "PNG"), grey_rgb(base)),
    "greyscale.jpg": lambda base: (encode(base.convert("L"), "JPEG", quality=95), grey_rgb(base)),
    "alpha.png": lambda base: (encode(see_through(base, 200), "PNG"), over_white(base, 200)),
    "greyscale-alpha.png": lambda base: (encode(base.convert("LA"), "PNG"), grey_rgb(base)),
    "palette.png": lambda base: (encode(base.quantize(256), "PNG"), np.asarray(base)),
    "palette-transparent.png": lambda base: (encode(base.quantize(255), "PNG", transparency=0), np.asarray(base)),
    "grey16.png": lambda base: (encode(Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257), "PNG"),
                                grey_rgb(base)),
    "rgb16.png": lambda base: (png_rgb16(np.asarray(base)), np.asarray(base)),
    "cmyk.jpg": lambda base: (encode(base.convert("CMYK"), "JPEG", quality=95), np.asarray(base)),
    "animated.gif": lambda base: (animated_gif(base, rgb("fst_stata.jpg")), np.asarray(base)),
    "webp.webp": lambda base: (encode(base, "WEBP", quality=95), np.asarray(base)),
    "bmp.bmp": lambda base: (encode(base, "BMP"), np.asarray(base)),
}


@functools.cache
def awkward_image(name: str) -> tuple[bytes, np.ndarray]:
    """An image of AWKWARD_IMAGES: its bytes and the RGB pixels a correct reader shows."""
    return AWKWARD_IMAGES[name](rgb("aizoo_demo.jpg"))


# Files the app must refuse: name -> (a recipe for the bytes, a phrase the message must contain).
BROKEN_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty.jpg": (lambda: b"", "is empty"),
    "notes.txt": (lambda: b"these are not pixels\n" * 10, "not an image"),
    "fake.png": (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not an image"),
    "truncated.jpg": (lambda: photo_bytes("aizoo_demo.jpg")[: len(photo_bytes("aizoo_demo.jpg")) // 3],
                      "truncated or damaged"),
    "truncated.png": (lambda: encode(photo("fmd_demo2.jpg"), "PNG")[:5000], "truncated or damaged"),
}


def letterboxed(name: str, size: tuple[int, int]) -> Image.Image:
    """A test photo fitted into `size`, centred on black."""
    frame = Image.new("RGB", size, (0, 0, 0))
    img = photo(name).convert("RGB")
    img.thumbnail(size)
    frame.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2))
    return frame


def y4m_video(path: Path, names: list[str], frames_each: int = 15, size=(640, 480), fps: int = 15) -> Path:
    """An uncompressed Y4M video (4:2:0) of the given photos, each letterboxed to `size` and shown for
    `frames_each` frames: what Chromium's fake camera plays with --use-file-for-fake-video-capture."""
    width, height = size
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for name in names:
            y, cb, cr = letterboxed(name, size).convert("YCbCr").split()
            planes = y.tobytes() + b"".join(
                p.resize((width // 2, height // 2), Image.Resampling.BOX).tobytes() for p in (cb, cr))
            for _ in range(frames_each):
                out.write(b"FRAME\n" + planes)
    return path


@dataclass(frozen=True)
class Variation:
    """A new photo made from test photos, and where each source photo's pixels went in it."""

    image: Image.Image
    placements: tuple[tuple[str, Callable[[float, float], tuple[float, float]]], ...]  # (source photo, point map)

    def faces(self, reference: dict) -> list[dict]:
        """The faces the outside reference gives for the source photos, where they are in this photo."""
        return [face for name, move in self.placements for face in placed_faces(reference, name, move)]


def placed_faces(reference: dict, name: str, move: Callable[[float, float], tuple[float, float]]) -> list[dict]:
    """The faces the outside reference gives for a photo, moved by a point map (each box the
    bounding box of its moved corners)."""
    faces = []
    for face in reference[name]["detections"]:
        x0, y0, x1, y1 = face["box"]
        xs, ys = zip(*(move(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))), strict=True)
        faces.append({**face, "box": [min(xs), min(ys), max(xs), max(ys)]})
    return faces


def scaled(sx: float, sy: float, dx: float = 0, dy: float = 0) -> Callable[[float, float], tuple[float, float]]:
    return lambda x, y: (x * sx + dx, y * sy + dy)


def rotated(size: tuple[int, int], new_size: tuple[int, int], degrees: float):
    """The point map of Image.rotate(degrees, expand=True): anticlockwise about the centre."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    (cx, cy), (nx, ny) = (size[0] / 2, size[1] / 2), (new_size[0] / 2, new_size[1] / 2)
    return lambda x, y: (nx + (x - cx) * cos + (y - cy) * sin, ny - (x - cx) * sin + (y - cy) * cos)


def collage() -> Variation:
    """The mask photo and the demo photo, shrunk, side by side on a plain background."""
    demo, mask = rgb("aizoo_demo.jpg"), rgb("fmd_demo2.jpg")  # 520×686, 464×330
    canvas = Image.new("RGB", (1000, 700), (90, 110, 130))
    canvas.paste(mask, (20, 200))
    canvas.paste(demo.resize((480, 633)), (500, 40))
    return Variation(canvas, (("fmd_demo2.jpg", scaled(1, 1, 20, 200)),
                              ("aizoo_demo.jpg", scaled(480 / 520, 633 / 686, 500, 40))))


def face_turned() -> Variation:
    face = rgb("fst_face.jpg")  # 1279×959
    turned = face.rotate(12, expand=True, fillcolor=(255, 255, 255))
    return Variation(turned, (("fst_face.jpg", rotated(face.size, turned.size, 12)),))


def face_wide() -> Variation:
    face = rgb("fst_face.jpg")
    wide = ImageOps.pad(face, (2400, 900), color=(20, 20, 20))  # scaled to 900 high, centred
    scale = 900 / face.height
    return Variation(wide, (("fst_face.jpg", scaled(scale, scale, (wide.width - face.width * scale) / 2)),))


def demo_as(make: Callable[[Image.Image], Image.Image], move=None) -> Callable[[], Variation]:
    """A variation of the demo photo; move is its point map (default: the pixels stay where they were)."""
    return lambda: Variation(make(rgb("aizoo_demo.jpg")), (("aizoo_demo.jpg", move or scaled(1, 1)),))


# New photos made from the test photos: mirrored, cropped, rescaled, rotated, re-lit, combined.
VARIATIONS: dict[str, Callable[[], Variation]] = {
    "demo-mirrored": demo_as(ImageOps.mirror, scaled(-1, 1, 520)),
    "demo-top-crop": demo_as(lambda demo: demo.crop((0, 0, 520, 300))),
    "demo-small": demo_as(lambda demo: demo.resize((260, 343), Image.Resampling.LANCZOS),
                          scaled(260 / 520, 343 / 686)),
    "demo-large": demo_as(lambda demo: demo.resize((1560, 2058), Image.Resampling.BICUBIC), scaled(3, 3)),
    "demo-dark": demo_as(lambda demo: ImageEnhance.Brightness(demo).enhance(0.6)),
    "face-rotated": face_turned,
    "face-wide": face_wide,
    "collage": collage,
    "mask-contrast": lambda: Variation(ImageEnhance.Contrast(rgb("fmd_demo2.jpg")).enhance(1.5),
                                       (("fmd_demo2.jpg", scaled(1, 1)),)),
}


@functools.cache
def variation(name: str) -> Variation:
    return VARIATIONS[name]()


def png_array(result: dict) -> np.ndarray:
    assert "error" not in result, result
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(result["png"]))))


def jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()


def image_bytes(name: str) -> bytes:
    """A test photo's bytes, or a JPEG of a photo made from them."""
    return photo_bytes(name) if name in PHOTOS else jpeg(variation(name).image)
