"""ONNX Runtime Web, the second engine, in the real page: on its wasm backend and (on this machine's
software adapter) its WebGPU one, the detectors give the reference detections, the styles tf.js's
picture, the segmenters tf.js's masks; a card with no ONNX model runs on tf.js, saying so; the
commands take the new backend names; a missing or damaged ONNX model, a backend the browser lacks and
a lost WebGPU device are each told, and the app carries on."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import samples
from conftest import assert_masks_agree, assert_same_detections
from pylens_build.headless import HeadlessApp
from samples import jpeg, png_array
from test_cards import SELFIE_AS_PUBLISHED
from test_cli import build_py
from test_conversion import psnr

ONNX_BACKENDS = ("ort-wasm", "ort-webgpu")
STYLES = ("style-la-muse", "style-rain-princess", "style-scream", "style-udnie", "style-wave", "style-wreck")


@pytest.fixture(scope="module", params=ONNX_BACKENDS)
def ort_app(request, site_url):
    with HeadlessApp(site_url, request.param) as headless:
        yield headless


@pytest.fixture(scope="module")
def small_photo() -> bytes:
    """A small portrait: a software GPU runs the style network slowly."""
    return jpeg(samples.photo("fst_face.jpg").convert("RGB").resize((128, 96)))


def test_runs_on_the_backend_asked_for(ort_app):
    backend = ort_app.url.rsplit("=", 1)[1]
    # ONNX Runtime's runtime loaded, tf.js on wasm for the steps around the network, and the app's word.
    assert ort_app.running_backend() == backend and ort_app.tf_backend() == "wasm"
    assert (ort_app.stats()["backend"], ort_app.stats()["engine"]) == (backend, "onnx")
    expect(ort_app.page.locator("#backend")).to_have_value(backend)
    menu = ort_app.page.locator("#backend optgroup[label='ONNX Runtime Web']")
    expect(menu.locator(f"option[value={backend}]")).to_be_attached()
    # the closed menu names the engine too
    expect(ort_app.page.locator("#backend option:checked")).to_have_text(re.compile(r"^ONNX Runtime Web"))


@pytest.mark.parametrize("detector", ["aizoo-face-mask", "aizoo-face-mask-graph"])
def test_detections_match_the_reference(ort_app, reference, detector):
    page = ort_app.page
    if ort_app.stats()["model"] != detector:
        page.select_option("#detector", detector)
        ort_app.wait_until(f"JSON.parse(window.pylens.stats()).model === '{detector}'", 300_000)
    for name in samples.PHOTOS:
        result = ort_app.detect(samples.photo_bytes(name), name)
        assert_same_detections(result["detections"], reference[name]["detections"])
    assert ort_app.stats()["leaky_frames"] == 0
    expect(page.locator("#error-text")).to_be_hidden()  # no model fell back to tf.js


def test_styles_give_the_tfjs_picture(ort_app, app, small_photo):
    for style in STYLES if ort_app.stats()["backend"] == "ort-wasm" else ("style-wave",):
        ours = png_array(ort_app.on_image("stylizeImage", small_photo, "face.jpg", style, None, 1024))
        theirs = png_array(app.on_image("stylizeImage", small_photo, "face.jpg", style, None, 1024))
        assert ours.shape == theirs.shape and psnr(ours, theirs) >= 40, style


@pytest.mark.parametrize("segmenter", ["selfie", "meet"])
def test_segmenters_give_the_tfjs_mask(ort_app, app, small_photo, segmenter):
    ours = png_array(ort_app.on_image("segmentImage", small_photo, "face.jpg", segmenter)) >= 128
    theirs = png_array(app.on_image("segmentImage", small_photo, "face.jpg", segmenter)) >= 128
    assert_masks_agree(ours, theirs, 0.99)
    expect(ort_app.page.locator("#error-text")).to_be_hidden()  # it ran on ONNX Runtime


def test_a_card_without_an_onnx_model_runs_on_tfjs_and_says_so(site_url, app, small_photo):
    # The selfie card served as a card of a model served as downloaded, with no [convert] section.
    def prepare(context):
        context.route("**/models/selfie.toml", lambda route: route.fulfill(body=SELFIE_AS_PUBLISHED))

    with HeadlessApp(site_url, "ort-wasm", prepare=prepare, fail_on_error=False) as headless:
        ours = png_array(headless.on_image("segmentImage", small_photo, "face.jpg", "selfie")) >= 128
        expect(headless.page.locator("#error-text")).to_have_text(
            "MediaPipe Selfie (256×256) has no ONNX model: it runs on TensorFlow.js, not ONNX Runtime WebAssembly.")
    theirs = png_array(app.on_image("segmentImage", small_photo, "face.jpg", "selfie")) >= 128
    assert_masks_agree(ours, theirs, 0.99)


def test_detect_and_stylize_commands_take_the_onnx_backend(reference, tmp_path, site_url):
    photo = samples.photo_path("aizoo_demo.jpg")
    run = build_py("detect", "--backend", "ort-wasm", str(photo))
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert line["backend"] == "ort-wasm"
    assert_same_detections(line["detections"], reference[photo.name]["detections"])
    small = tmp_path / "face.jpg"
    small.write_bytes(jpeg(samples.photo("fst_face.jpg").convert("RGB").resize((160, 120))))
    pictures = {}
    for backend in ("ort-wasm", "wasm"):
        out = tmp_path / f"{backend}.png"
        run = build_py("stylize", "--backend", backend, "--style", "udnie", str(small), "--out", str(out))
        assert run.returncode == 0, run.stderr
        pictures[backend] = np.asarray(Image.open(out))
    assert psnr(pictures["ort-wasm"], pictures["wasm"]) >= 40


@pytest.mark.parametrize("damage, told", [
    (lambda route: route.fulfill(status=404, body="not here"), "is missing on the server (HTTP 404)"),
    (lambda route: route.fulfill(body=b"not an ONNX model"), "ONNX Runtime WebAssembly could not build"),
])
def test_a_missing_or_damaged_onnx_model_is_told_and_tfjs_runs_it(site_url, reference, damage, told):
    def prepare(context):
        context.route("**/models/aizoo-face-mask/model.onnx", damage)

    with HeadlessApp(site_url, "ort-wasm", prepare=prepare, fail_on_error=False) as headless:
        assert headless.error is None
        text = headless.page.locator("#error-text")
        expect(text).to_contain_text(told)
        expect(text).to_contain_text("It runs on TensorFlow.js instead.")
        name = "fmd_demo2.jpg"
        result = headless.detect(samples.photo_bytes(name), name)
        assert_same_detections(result["detections"], reference[name]["detections"])
        assert headless.stats()["backend"] == "ort-wasm"  # the styles still run on ONNX Runtime


def test_a_backend_the_browser_lacks_is_told(site_url):
    # Headless Chromium on Linux offers no WebGPU adapter without --enable-unsafe-webgpu.
    with HeadlessApp(site_url, "ort-webgpu", backend_flags=False, fail_on_error=False) as headless:
        assert headless.stats()["backend"] == "wasm"
        expect(headless.page.locator("#error-text")).to_have_text(
            "ONNX Runtime WebGPU is not available in this browser; using WebAssembly instead.")


def test_a_lost_webgpu_device_is_survived(site_url, reference):
    with HeadlessApp(site_url, "ort-webgpu") as headless:
        page = headless.page
        name = "fmd_demo2.jpg"
        headless.detect(samples.photo_bytes(name), name)
        before = headless.stats()["inferences"]
        (worker,) = [w for w in page.workers if w.evaluate("'pylensStart' in globalThis")]
        worker.evaluate("pylensStart.onnxRuntime('ort-webgpu').then((ort) => ort.env.webgpu.device.destroy())")
        headless.wait_until(f"(s => s.backend !== 'ort-webgpu' && s.inferences > {before})"
                            "(JSON.parse(window.pylens.stats()))", 120_000)
        expect(page.locator("#error-text")).to_contain_text("ONNX Runtime WebGPU stopped working")
        expect(page.locator("#backend option[value=ort-webgpu]")).to_contain_text("stopped working")
        assert_same_detections(headless.stats()["result"]["detections"], reference[name]["detections"])
        # Chosen again, it runs on a new device.
        page.select_option("#backend", "ort-webgpu")
        headless.wait_until("JSON.parse(window.pylens.stats()).backend === 'ort-webgpu'", 120_000)
        result = headless.detect(samples.photo_bytes(name), name)
        assert_same_detections(result["detections"], reference[name]["detections"])
        assert headless.running_backend() == "ort-webgpu"


def test_picture_is_unchanged_by_the_engine_switch(ort_app, reference):
    """Switching from ONNX Runtime to tf.js wasm and back keeps the detections of the picture shown."""
    page, backend = ort_app.page, ort_app.stats()["backend"]
    name = "aizoo_demo.jpg"
    ort_app.detect(samples.photo_bytes(name), name)
    for switch_to in ("wasm", backend):
        before = ort_app.stats()["inferences"]
        page.select_option("#backend", switch_to)
        ort_app.wait_until(f"(s => s.backend === '{switch_to}' && s.inferences > {before})"
                           "(JSON.parse(window.pylens.stats()))", 300_000)
        assert ort_app.running_backend() == switch_to
        assert_same_detections(ort_app.stats()["result"]["detections"], reference[name]["detections"])
        assert ort_app.stats()["leaky_frames"] == 0
