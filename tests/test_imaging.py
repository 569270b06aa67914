"""Image intake under CPython with the same Pillow version as in Pyodide."""

import io
import zlib

import numpy as np
import pytest
from PIL import Image

import samples
from imaging import ImageError, load_picture


def pixels(picture):
    return np.frombuffer(picture.rgba, np.uint8).reshape(picture.height, picture.width, 4)


def test_jpeg_becomes_opaque_rgba_of_its_size():
    data = samples.photo_bytes("aizoo_demo.jpg")
    picture = load_picture(data)
    assert (picture.width, picture.height) == (picture.source_width, picture.source_height) == (520, 686)
    assert len(picture.rgba) == 520 * 686 * 4
    assert np.all(pixels(picture)[..., 3] == 255)


def channel_differences(got: np.ndarray, expected: np.ndarray) -> list[float]:
    """Mean absolute difference of each colour channel (red, green, blue)."""
    return [float(np.abs(got[..., c].astype(int) - expected[..., c].astype(int)).mean()) for c in range(3)]


@pytest.mark.parametrize("name", sorted(samples.AWKWARD_IMAGES))
def test_awkward_formats_are_read_as_the_photo_in_colour(name):
    data, looks = samples.awkward_image(name)
    picture = load_picture(data, name)
    assert (picture.width, picture.height) == (picture.source_width, picture.source_height) == (520, 686)
    # Channel by channel (swapped red and blue differ by about 23): lossy encodings and palettes
    # change each by less than 3.
    assert max(channel_differences(pixels(picture)[..., :3], looks)) < 3


def test_sixteen_bit_png_is_scaled_not_clipped():
    grey16 = Image.fromarray(np.full((8, 8), 32768, np.uint16))
    picture = load_picture(samples.encode(grey16, "PNG"))
    assert np.all(np.abs(pixels(picture)[..., :3].astype(int) - 127) <= 1)


def test_alpha_is_composited_over_white():
    clear = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert np.all(pixels(load_picture(samples.encode(clear, "PNG")))[..., :3] == 255)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    upright = samples.photo("fmd_demo2.jpg").convert("RGB")
    picture = load_picture(samples.with_orientation(upright, orientation))
    assert (picture.width, picture.height) == (picture.source_width, picture.source_height) == upright.size
    assert max(channel_differences(pixels(picture)[..., :3], np.asarray(upright))) < 3


def test_phone_photo_over_4096_pixels_is_turned_upright_at_4096():
    upright = samples.photo("fmd_demo2.jpg").convert("RGB").resize((4500, 6000), Image.Resampling.BILINEAR)
    picture = load_picture(samples.with_orientation(upright, 6, quality=85))
    assert (picture.source_width, picture.source_height) == (4500, 6000)
    assert (picture.width, picture.height) == (3072, 4096)
    expected = np.asarray(upright.resize((3072, 4096), Image.Resampling.BILINEAR))
    assert max(channel_differences(pixels(picture)[..., :3], expected)) < 3


def test_animated_gif_gives_its_first_frame():
    first = samples.photo("aizoo_demo.jpg").convert("RGB")
    picture = load_picture(samples.animated_gif(first, samples.photo("fst_stata.jpg")))
    diff = np.abs(pixels(picture)[..., :3].astype(int) - np.asarray(first, int))
    assert diff.mean() < 12


def test_huge_image_is_decoded_at_a_working_size_but_reported_at_its_own():
    picture = load_picture(samples.huge_jpeg())
    assert (picture.source_width, picture.source_height) == (9000, 7000)
    # Decoded at 4096 pixels on its long side, the other in proportion.
    assert (picture.width, picture.height) == (4096, round(4096 * 7000 / 9000))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header says width x height, with no pixels after it."""
    header_only = io.BytesIO()
    Image.new("L", (1, 1)).save(header_only, "PNG")
    data = bytearray(header_only.getvalue())
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


def test_too_many_pixels_is_refused_before_decoding():
    with pytest.raises(ImageError, match="largest image this app opens"):
        load_picture(png_header(20000, 20000), "big.png")  # so many that Pillow itself refuses


def test_the_pixel_limit_is_the_apps_at_a_size_pillow_accepts():
    # 121 megapixels: under Pillow's own refusal (about 179), over the app's 120.
    assert 11000 * 11000 < 2 * Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError, match=r"big.png is 11000×11000 pixels; the largest image this app opens is 120 "):
        load_picture(png_header(11000, 11000), "big.png")
    # 119.9 megapixels pass the limit and are decoded: this header has no pixels to decode.
    with pytest.raises(ImageError, match="truncated or damaged"):
        load_picture(png_header(10900, 11000), "big.png")


@pytest.mark.parametrize("name", sorted(samples.BROKEN_FILES))
def test_broken_files_get_a_specific_message(name):
    make, phrase = samples.BROKEN_FILES[name]
    data = make()
    with pytest.raises(ImageError, match=phrase) as info:
        load_picture(data, name)
    assert name in str(info.value)
