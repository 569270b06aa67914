"""Segment & stylize: the masks and stylized images of the page's pipeline (which `build.py segment`
and `stylize` print), checked against plain tf.js and TensorFlow; the view as a person uses it."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import samples
from conftest import FOCUSABLE, RECORD_PAGE_STATE, assert_masks_agree, tab_order
from pylens_build.headless import HeadlessApp
from pylens_build.models import CONVERTER, ensure_convert_env, model_cards
from pylens_build.project import BUILD
from pylens_build.server import routes, serving
from samples import image_bytes, jpeg, png_array
from test_conversion import psnr

PLAIN_MASK = """async ([model, b64, h, w, inH, inW, channel, softmax]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    window.segmenters = window.segmenters || {};
    const net = window.segmenters[model] = window.segmenters[model]
        || await tf.loadGraphModel(`./models/${model}/${model}.json`);
    const mask = tf.tidy(() => {
        const input = tf.image.resizeBilinear(tf.tensor3d(bytes, [h, w, 3], 'int32'), [inH, inW]).div(255);
        let out = net.predict(input.expandDims(0));
        if (softmax) out = tf.softmax(out);
        const person = out.slice([0, 0, 0, channel], [1, -1, -1, 1]).squeeze([0]);
        return tf.image.resizeBilinear(person, [h, w]).greaterEqual(0.5);
    });
    const data = await mask.data();  // Uint8Array of 0 and 1
    mask.dispose();
    let text = '';
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return btoa(text);
}"""


def canvas_pixels(page, canvas_id: str) -> np.ndarray:
    """The RGB pixels on one of the page's canvases."""
    b64, height, width = page.evaluate("""id => {
        const c = document.getElementById(id);
        const rgba = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let text = '';
        for (let i = 0; i < rgba.length; i += 0x8000) text += String.fromCharCode(...rgba.subarray(i, i + 0x8000));
        return [btoa(text), c.height, c.width];
    }""", canvas_id)
    rgba = np.frombuffer(base64.b64decode(b64), np.uint8).reshape(height, width, 4)
    return np.ascontiguousarray(rgba[:, :, :3])


def picture_pixels(app, data: bytes, name: str) -> np.ndarray:
    """The upright RGB pixels the page decodes from an image (shown on its picture canvas)."""
    app.detect(data, name)
    return canvas_pixels(app.page, "picture")


@pytest.mark.parametrize("model", ["selfie", "meet"])
@pytest.mark.parametrize("name", sorted([*samples.PHOTOS, *samples.VARIATIONS]))
def test_mask_agrees_with_plain_tfjs(app, tfjs_page, model, name):
    assert_mask_agrees_with_plain_tfjs(app, tfjs_page, model, name, image_bytes(name))


def assert_mask_agrees_with_plain_tfjs(app, tfjs_page, model: str, name: str, data: bytes) -> None:
    """The app's person mask of an image against plain tf.js's, run on the same decoded pixels in
    tfjs_page (on its backend): IoU at least 0.95 at probability 0.5."""
    mask = png_array(app.on_image("segmentImage", data, name, model))
    rgb = picture_pixels(app, data, name)  # the same decoded pixels for both pipelines
    assert mask.shape == rgb.shape[:2] and mask.dtype == np.uint8  # 8-bit grey, at the image's size
    card = next(c for c in model_cards() if c.id == model)
    plain = np.frombuffer(base64.b64decode(tfjs_page.evaluate(PLAIN_MASK, [
        model, base64.b64encode(rgb.tobytes()).decode(), *rgb.shape[:2], card.input_height, card.input_width,
        card.person_channel, card.activation == "softmax"])), np.uint8).reshape(rgb.shape[:2]).astype(bool)
    assert_masks_agree(mask >= 128, plain, 0.95)  # probability × 255 at least 127.5


@pytest.fixture(scope="module")
def tensorflow_wave(tmp_path_factory) -> np.ndarray:
    """The wave checkpoint run in TensorFlow on fmd_demo2.jpg at its own size (464×330)."""
    folder = tmp_path_factory.mktemp("wave")
    rgb = np.asarray(samples.photo("fmd_demo2.jpg").convert("RGB"), np.float32)
    np.save(folder / "in.npy", rgb)
    subprocess.run([str(ensure_convert_env()), str(CONVERTER), "stylize",
                    str(BUILD / "sources" / "fast-style" / "wave"), str(folder / "in.npy"),
                    str(folder / "out.npy")], check=True, capture_output=True)
    return np.load(folder / "out.npy")[:rgb.shape[0], :rgb.shape[1]]


def test_stylize_at_native_size_agrees_with_tensorflow(app, tensorflow_wave):
    data = samples.photo_bytes("fmd_demo2.jpg")
    out = png_array(app.on_image("stylizeImage", data, "fmd_demo2.jpg", "style-wave", None, 1024))
    assert out.shape == (330, 464, 3)
    assert psnr(out, tensorflow_wave) >= 35


def test_person_and_background_masks_split_the_picture(app):
    data = samples.photo_bytes("fmd_demo2.jpg")
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64)
    mask = png_array(app.on_image("segmentImage", data, "m.jpg", "selfie")) / 255.0
    whole = png_array(app.on_image("stylizeImage", data, "m.jpg", "style-wave", None, 1024)).astype(np.float64)
    for target, region in (("person", mask > 0.9), ("background", mask < 0.1)):
        out = png_array(app.on_image("stylizeImage", data, "m.jpg", "style-wave", target, 1024)).astype(np.float64)
        assert np.abs(out - whole)[region].mean() < 2  # stylized where the mask says so
        assert np.abs(out - original)[~region & ((mask > 0.9) | (mask < 0.1))].mean() < 2  # untouched elsewhere


def fine_detail(rgb: np.ndarray) -> float:
    """The mean size of the Laplacian of an image's grey values."""
    grey = rgb.astype(np.float64).mean(axis=2)
    return float(np.abs(4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2]
                        - grey[1:-1, 2:]).mean())


def test_large_image_is_stylized_at_max_side_and_returned_at_its_size(app):
    photo = samples.photo("fst_face.jpg").convert("RGB")  # 1279×959
    data = jpeg(photo)
    small, larger = (png_array(app.on_image("stylizeImage", data, "face.jpg", "style-udnie", None, side))
                     for side in (320, 640))
    assert small.shape == larger.shape == (959, 1279, 3)
    assert np.abs(small.astype(np.float64) - np.asarray(photo, np.float64)).mean() > 10  # stylized
    assert fine_detail(small) * 1.5 < fine_detail(larger)  # run at 320 pixels and scaled up: coarser


@pytest.mark.parametrize("name", ["aizoo_demo.jpg", "fmd_demo2.jpg", "fst_face.jpg"])
def test_both_segmenters_cover_the_people_of_the_test_photos(app, reference, name):
    """The photos with faces: each segmenter's mask covers the middle of every face the outside
    reference finds, and the two masks agree."""
    data = samples.photo_bytes(name)
    masks = {model: png_array(app.on_image("segmentImage", data, name, model)) >= 128 for model in ("selfie", "meet")}
    for face in reference[name]["detections"]:
        x0, y0, x1, y1 = face["box"]
        dx, dy = (x1 - x0) // 4, (y1 - y0) // 4
        for model, mask in masks.items():
            assert mask[y0 + dy:y1 - dy, x0 + dx:x1 - dx].mean() >= 0.95, (model, face)
    both, either = masks["selfie"] & masks["meet"], masks["selfie"] | masks["meet"]
    assert both.sum() / either.sum() >= 0.8


def test_bad_input_is_an_error_not_a_crash(app):
    assert "is not an image" in app.on_image("segmentImage", b"hello", "notes.txt", "selfie")["error"]
    assert app.on_image("stylizeImage", jpeg(Image.new("RGB", (8, 8))), "x.jpg", "style-cubism", None,
                        1024) == {"error": "There is no style 'style-cubism'."}


# ---------------------------------------------------------------- the view


def overlay_pixels(app) -> np.ndarray:
    return canvas_pixels(app.page, "overlay").astype(np.float64)


def style_frame(app, action) -> dict:
    before = app.stats()["style_frames"]
    action()
    app.page.wait_for_function(f"JSON.parse(window.pylens.stats()).style_frames > {before}", timeout=120_000)
    return app.stats()


@pytest.fixture(scope="module")
def style_app(site_url):
    with HeadlessApp(site_url, "wasm") as headless:
        photo = samples.photo_bytes("fmd_demo2.jpg")
        headless.detect(photo, "fmd_demo2.jpg")
        style_frame(headless, lambda: headless.page.click("#view-style"))
        yield headless


def test_view_shows_the_stylized_picture_with_timings(style_app):
    page = style_app.page
    stats = style_app.stats()
    assert stats["view"] == "style" and "view=style" in page.url and stats["leaky_frames"] == 0
    expect(page.locator("#style-panel")).to_be_visible()
    expect(page.locator("#mask-panel")).to_be_hidden()
    rows = page.locator("#style-timings tr td:first-child").all_inner_texts()
    assert rows == ["Image decode", "Capture", "Segmentation", "Style transfer", "Blend", "Draw", "Total"]
    assert page.locator("#style-picker button").count() == 6
    assert page.locator("#style-picker button[aria-checked=true]").inner_text() == "The Great Wave"
    # Tab goes through this view's controls as they read.
    order = tab_order(page)
    assert order == page.evaluate(FOCUSABLE)
    for control in ("open", "webcam", "stage", "style-wave", "style-strength", "style-side", "style-segmenter",
                    "style-mask-threshold", "style-feather", "style-show-mask", "style-save-png"):
        assert control in order, (control, order)


def test_blend_modes_strength_and_styles(style_app):
    page = style_app.page
    original = canvas_pixels(style_app.page, "picture").astype(np.float64)
    person = overlay_pixels(style_app)
    style_frame(style_app, lambda: page.check("input[name=target][value=background]"))
    background = overlay_pixels(style_app)
    style_frame(style_app, lambda: page.check("input[name=target][value=whole]"))
    whole = overlay_pixels(style_app)
    assert min(np.abs(a - b).mean() for a, b in ((person, background), (person, whole), (background, whole))) > 5
    style_frame(style_app, lambda: page.fill("#style-strength", "0"))
    assert np.abs(overlay_pixels(style_app) - original).max() <= 1  # strength 0: the original
    style_frame(style_app, lambda: page.fill("#style-strength", "1"))
    stats = style_frame(style_app, lambda: page.click("#style-picker button[data-style=style-scream]"))
    assert stats["style"] == "style-scream"
    assert np.abs(overlay_pixels(style_app) - whole).mean() > 5
    style_frame(style_app, lambda: page.check("input[name=target][value=person]"))


def stylized_share(app, original: np.ndarray) -> float:
    """The share of the picture that the style changed."""
    return float((np.abs(overlay_pixels(app) - original).sum(axis=2) > 3).mean())


def person_share(app, segmenter: str, threshold: float) -> float:
    """The share of fmd_demo2.jpg where the segmenter's person probability reaches threshold (the
    headless mask of the shared page)."""
    data = samples.photo_bytes("fmd_demo2.jpg")
    return float((png_array(app.on_image("segmentImage", data, "fmd_demo2.jpg", segmenter)) >= threshold * 255).mean())


def test_mask_threshold_softness_and_segmenter_shape_what_is_stylized(style_app, app):
    page = style_app.page
    original = canvas_pixels(style_app.page, "picture").astype(np.float64)
    style_frame(style_app, lambda: page.fill("#style-feather", "0"))  # a hard edge: stylized where p ≥ threshold
    shares = {}
    for threshold in ("0.1", "0.9"):
        style_frame(style_app, lambda value=threshold: page.fill("#style-mask-threshold", value))
        shares[threshold] = stylized_share(style_app, original)
        assert shares[threshold] == pytest.approx(person_share(app, "selfie", float(threshold)), abs=0.01)
    assert shares["0.9"] < shares["0.1"] - 0.02  # a higher threshold, a smaller mask
    assert page.locator("#style-mask-threshold-value").inner_text() == "0.90"
    # Softness: with a hard edge each pixel is the original or fully stylized; a soft edge mixes them.
    style_frame(style_app, lambda: page.check("input[name=target][value=whole]"))
    change = np.abs(overlay_pixels(style_app) - original).sum(axis=2)
    style_frame(style_app, lambda: page.check("input[name=target][value=person]"))
    clear = change > 60  # pixels the style changes clearly

    def mixed_share() -> float:
        share = np.abs(overlay_pixels(style_app) - original).sum(axis=2)[clear] / change[clear]
        return float(((share > 0.1) & (share < 0.9)).mean())

    assert mixed_share() < 0.001
    style_frame(style_app, lambda: page.fill("#style-feather", "0.5"))
    assert mixed_share() > 0.01
    # The other segmenter: what is stylized follows its mask.
    style_frame(style_app, lambda: page.fill("#style-mask-threshold", "0.5"))
    style_frame(style_app, lambda: page.fill("#style-feather", "0"))
    stats = style_frame(style_app, lambda: page.select_option("#style-segmenter", "meet"))
    assert stats["segmenter"] == "meet" and stats["leaky_frames"] == 0
    meet = person_share(app, "meet", 0.5)
    assert abs(meet - person_share(app, "selfie", 0.5)) > 0.02  # so the tolerance tells the two apart
    assert stylized_share(style_app, original) == pytest.approx(meet, abs=0.01)
    style_frame(style_app, lambda: page.select_option("#style-segmenter", "selfie"))
    style_frame(style_app, lambda: page.fill("#style-feather", "0.2"))


def test_style_side_sets_the_work_size(style_app):
    """The style runs at the chosen long side and is scaled back: more pixels, finer detail."""
    page = style_app.page
    style_frame(style_app, lambda: page.check("input[name=target][value=whole]"))
    detail = {}
    for side in ("128", "256", "512"):
        style_frame(style_app, lambda value=side: page.fill("#style-side", value))
        detail[side] = fine_detail(overlay_pixels(style_app))
    assert detail["128"] * 1.5 < detail["256"] and detail["256"] * 1.5 < detail["512"], detail
    style_frame(style_app, lambda: page.fill("#style-side", "256"))
    style_frame(style_app, lambda: page.check("input[name=target][value=person]"))


def test_show_mask_and_save(style_app):
    page = style_app.page
    plain = overlay_pixels(style_app)
    style_frame(style_app, lambda: page.check("#style-show-mask"))
    assert np.abs(overlay_pixels(style_app) - plain).mean() > 2
    style_frame(style_app, lambda: page.uncheck("#style-show-mask"))
    with page.expect_download() as download:
        page.click("#style-save-png")
    assert download.value.suggested_filename == "fmd_demo2-stylized.png"
    saved = np.asarray(Image.open(download.value.path()).convert("RGB"), np.float64)
    assert np.abs(saved - plain).max() <= 1  # what the view shows


def timings_shown(page) -> dict[str, str]:
    rows = page.locator("#style-timings tr").all()
    return dict(row.locator("td").all_inner_texts() for row in rows)


def statuses_shown(page) -> list[str]:
    return [status for _, status, _ in page.evaluate("window.stateLog") if status]


def test_a_change_of_mask_or_blend_uses_the_kept_network_outputs(style_app):
    """Threshold, softness, target and strength blend the networks' outputs of the picture again;
    a new style runs the style network alone, with a busy sign while it runs."""
    page = style_app.page
    busy = "Segmenting and stylizing the picture…"
    for change in (lambda: page.fill("#style-feather", "0.3"), lambda: page.fill("#style-mask-threshold", "0.6"),
                   lambda: page.fill("#style-strength", "0.5"),
                   lambda: page.check("input[name=target][value=background]")):
        page.evaluate(RECORD_PAGE_STATE)
        style_frame(style_app, change)
        shown = timings_shown(page)
        assert shown["Segmentation"] == "kept" and shown["Style transfer"] == "kept", shown
        assert shown["Blend"].endswith(" ms")
        assert busy not in statuses_shown(page)
    page.evaluate(RECORD_PAGE_STATE)
    style_frame(style_app, lambda: page.click("#style-picker button[data-style=style-udnie]"))
    shown = timings_shown(page)
    assert shown["Segmentation"] == "kept" and shown["Style transfer"].endswith(" ms"), shown
    assert busy in statuses_shown(page)
    expect(page.locator("#loading")).to_be_hidden()
    # Another picture: every network runs on it.
    style_frame(style_app, lambda: style_app.detect(samples.photo_bytes("aizoo_demo.jpg"), "aizoo_demo.jpg"))
    shown = timings_shown(page)
    assert "kept" not in shown.values(), shown
    assert style_app.stats()["leaky_frames"] == 0
    for restore in (lambda: page.fill("#style-feather", "0.2"), lambda: page.fill("#style-mask-threshold", "0.5"),
                    lambda: page.fill("#style-strength", "1"), lambda: page.check("input[name=target][value=person]"),
                    lambda: page.click("#style-picker button[data-style=style-wave]"),
                    lambda: style_app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")):
        style_frame(style_app, restore)


def test_the_styles_are_a_radio_group_the_arrow_keys_move_in(style_app):
    page = style_app.page
    checked = "#style-picker button[aria-checked=true]"
    assert page.locator("#style-picker button[tabindex='0']").count() == 1  # one Tab stop
    page.locator(checked).focus()
    style_frame(style_app, lambda: page.keyboard.press("ArrowRight"))
    assert page.locator(checked).get_attribute("data-style") == "style-wreck"
    assert page.evaluate("document.activeElement.dataset.style") == "style-wreck"
    style_frame(style_app, lambda: page.keyboard.press("ArrowLeft"))
    assert page.locator(checked).get_attribute("data-style") == "style-wave"
    # The focus ring is not the "selected" ring.
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    selected = page.evaluate(f"getComputedStyle(document.querySelector('{checked}')).borderColor")
    assert ring != selected and page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_missing_style_model_is_reported_and_the_app_goes_on(site_url, pyodide_dist, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(BUILD / "models", models, ignore=lambda folder, names: ["style-udnie"])
    with serving(routes(pyodide_dist, models=models)) as url, HeadlessApp(url, "wasm") as app:
        app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
        style_frame(app, lambda: app.page.click("#view-style"))
        app.page.click("#style-picker button[data-style=style-udnie]")
        expect(app.page.locator("#error-text")).to_contain_text("Model file model.json is missing on the server")
        style_frame(app, lambda: app.page.click("#style-picker button[data-style=style-wreck]"))
        expect(app.page.locator("#loading")).to_be_hidden()
