"""The GPU backends in the real page (WebGL and WebGPU, on this machine's software adapters): the
same detections, masks as plain tf.js on the same backend, the same stylized picture as TensorFlow,
webcam frames of both views leaving no tensor behind, and switching to WebAssembly and back."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

import samples
from conftest import RECORD_PAGE_STATE, TFJS_PAGE, assert_same_detections, assert_switch_told
from pylens_build.headless import HeadlessApp
from pylens_build.models import CONVERTER, ensure_convert_env
from pylens_build.project import BUILD
from samples import jpeg, png_array
from test_cli import build_py
from test_conversion import psnr, style_card
from test_segment_style import assert_mask_agrees_with_plain_tfjs
from test_webcam import FAKE_CAMERA

GPU_BACKENDS = ("webgl", "webgpu")
NAMES = {"webgl": "WebGL", "webgpu": "WebGPU"}
STYLE_SIZE = (128, 96)  # small: a software GPU runs the style network slowly


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory):
    return samples.y4m_video(tmp_path_factory.mktemp("camera") / "faces.y4m", ["aizoo_demo.jpg", "fmd_demo2.jpg"])


@pytest.fixture(scope="module", params=GPU_BACKENDS)
def gpu_app(request, site_url, camera_video):
    camera = (*FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera_video}")
    with HeadlessApp(site_url, request.param, chromium_args=camera) as headless:
        yield headless


@pytest.fixture(scope="module")
def gpu_tfjs_page(gpu_app, site_url):
    """Plain tf.js on the app's backend, in the app's browser: the reference for its masks."""
    page = gpu_app.context.new_page()
    page.route(site_url + "tfjs.html", lambda route: route.fulfill(body=TFJS_PAGE, content_type="text/html"))
    page.goto(site_url + "tfjs.html")
    backend = gpu_app.stats()["backend"]
    assert page.evaluate("async backend => (await tf.setBackend(backend)) && tf.getBackend()", backend) == backend
    yield page
    page.close()


@pytest.fixture(scope="module")
def style_photo(tmp_path_factory) -> tuple[bytes, np.ndarray]:
    """A small portrait as JPEG bytes, and the wave style's TensorFlow output on its decoded pixels."""
    data = jpeg(samples.photo("fst_face.jpg").convert("RGB").resize(STYLE_SIZE))
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)  # as the page decodes it
    folder = tmp_path_factory.mktemp("gpu-style")
    np.save(folder / "in.npy", rgb)
    subprocess.run([str(ensure_convert_env()), str(CONVERTER), "stylize",
                    str(BUILD / "sources" / style_card("wave").sources.mirror), str(folder / "in.npy"),
                    str(folder / "out.npy")], check=True, capture_output=True)
    return data, np.load(folder / "out.npy")[:rgb.shape[0], :rgb.shape[1]]


def test_runs_on_the_backend_asked_for(gpu_app):
    # tf.js itself, in the app's worker, and the app's own report agree.
    assert gpu_app.tf_backend() == gpu_app.stats()["backend"] == gpu_app.url.rsplit("=", 1)[1]


@pytest.mark.parametrize("name", ["aizoo_demo.jpg", "fmd_demo2.jpg"])
def test_detections_match_the_reference(gpu_app, reference, name):
    result = gpu_app.detect(samples.photo_bytes(name), name)
    assert_same_detections(result["detections"], reference[name]["detections"])
    assert gpu_app.stats()["leaky_frames"] == 0


def test_style_network_gives_the_tensorflow_picture(gpu_app, style_photo):
    data, expected = style_photo
    out = png_array(gpu_app.on_image("stylizeImage", data, "face.jpg", "style-wave", None, 1024))
    assert out.shape == expected.shape
    assert psnr(out, expected) >= 35


@pytest.mark.parametrize("model", ["selfie", "meet"])
@pytest.mark.parametrize("name", ["fmd_demo2.jpg", "fst_face.jpg"])
def test_mask_agrees_with_plain_tfjs_on_the_same_backend(gpu_app, gpu_tfjs_page, model, name):
    data = samples.photo_bytes(name)
    assert_mask_agrees_with_plain_tfjs(gpu_app, gpu_tfjs_page, model, name, data)


def test_webcam_frames_of_both_views_leave_no_tensor_behind(gpu_app):
    page = gpu_app.page

    def run(view: str, counter: str, count: int) -> dict:
        """`count` camera frames of a view, then the camera stopped (which waits for the frame in flight)."""
        page.evaluate("view => window.pylens.showView(view)", view)
        first = gpu_app.stats()[counter]
        page.evaluate("window.pylens.startWebcam()")
        page.wait_for_function(f"JSON.parse(window.pylens.stats()).{counter} >= {first + count}", timeout=600_000)
        page.evaluate("window.pylens.stopWebcam()")
        return gpu_app.stats()

    run("mask", "frames", 1)  # each view's models loaded, its kernels compiled
    page.evaluate("window.pylens.showView('style')")
    page.fill("#style-side", "128")  # a software GPU runs the style network slowly
    warm = run("style", "style_frames", 1)["tensors"]
    mask = run("mask", "frames", 4)
    assert mask["result"]["detections"], "no face found in the camera's frames"
    style = run("style", "style_frames", 2)
    page.evaluate("window.pylens.showView('mask')")
    assert (mask["tensors"], style["tensors"]) == (warm, warm)
    assert style["leaky_frames"] == 0


def test_switching_to_webassembly_and_back_keeps_the_detections(gpu_app, reference):
    page, backend = gpu_app.page, gpu_app.stats()["backend"]
    name = "fmd_demo2.jpg"
    gpu_app.detect(samples.photo_bytes(name), name)
    for switch_to in ("wasm", backend):
        before = gpu_app.stats()["inferences"]
        page.evaluate(RECORD_PAGE_STATE)
        page.select_option("#backend", switch_to)
        page.wait_for_function(f"(s => s.backend === '{switch_to}' && s.inferences > {before})"
                               "(JSON.parse(window.pylens.stats()))", timeout=300_000)
        stats = gpu_app.stats()
        assert gpu_app.tf_backend() == switch_to  # tf.js itself moved, not only the app's word for it
        assert_same_detections(stats["result"]["detections"], reference[name]["detections"])
        assert stats["leaky_frames"] == 0
        if switch_to == backend:  # back on the GPU, whose shaders are compiled for the first frame
            statuses = assert_switch_told(page, NAMES[backend])
            assert f"Compiling {NAMES[backend]}'s shaders for the first frame (once per visit)…" in statuses


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_detect_command_runs_on_the_backend_asked_for(site_url, reference, backend):
    photo = samples.photo_path("fmd_demo2.jpg")
    run = build_py("detect", "--backend", backend, str(photo))
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert line["backend"] == backend
    assert_same_detections(line["detections"], reference[photo.name]["detections"])


# A lost device or context, as the browser's own tools simulate it, in the app's worker.
LOSE = {
    "webgpu": "tf => tf.backend().device.destroy()",
    "webgl": "tf => tf.backend().gpgpu.gl.getExtension('WEBGL_lose_context').loseContext()",
}


def test_a_lost_backend_is_survived(gpu_app, reference):
    """The backend lost with a webcam frame in flight, then with a photo shown: each time the page
    says so and carries on with WebAssembly, the camera running, the photo analysed again."""
    page, backend = gpu_app.page, gpu_app.stats()["backend"]
    (worker,) = [w for w in page.workers if w.evaluate("'pylensStart' in globalThis")]

    def lose_and_carry_on(counter: str) -> dict:
        before = gpu_app.stats()[counter]
        worker.evaluate(f"pylensStart.tfjs.then(({{tf}}) => ({LOSE[backend]})(tf))")
        gpu_app.wait_until(f"(s => s.backend === 'wasm' && s.{counter} > {before})(JSON.parse(window.pylens.stats()))",
                           120_000)
        expect(page.locator("#error-text")).to_contain_text(f"{NAMES[backend]} stopped working")
        expect(page.locator(f"#backend option[value={backend}]")).to_contain_text("stopped working")
        return gpu_app.stats()

    page.evaluate("window.pylens.showView('mask')")
    page.evaluate("window.pylens.startWebcam()")
    gpu_app.wait_until("JSON.parse(window.pylens.stats()).frames > 0", 120_000)
    during_frames = lose_and_carry_on("frames")
    assert during_frames["feed"], "the camera stopped"
    page.evaluate("window.pylens.stopWebcam()")

    name = "fmd_demo2.jpg"
    page.select_option("#backend", backend)
    gpu_app.wait_until(f"JSON.parse(window.pylens.stats()).backend === '{backend}'", 120_000)
    gpu_app.detect(samples.photo_bytes(name), name)
    shown = lose_and_carry_on("inferences")
    assert_same_detections(shown["result"]["detections"], reference[name]["detections"])
    assert shown["leaky_frames"] == 0
    page.select_option("#backend", backend)  # for the tests after this one
    gpu_app.wait_until(f"JSON.parse(window.pylens.stats()).backend === '{backend}'", 120_000)


@pytest.fixture(scope="module")
def small_portrait(tmp_path_factory, style_photo):
    path = tmp_path_factory.mktemp("portrait") / "face.jpg"
    path.write_bytes(style_photo[0])
    return path


def segment_and_stylize(backend: str, photo, folder) -> tuple[np.ndarray, np.ndarray]:
    """`build.py segment` and `build.py stylize` run on a backend: the mask and the stylized picture."""
    for args in (("segment", "--model", "selfie", str(photo), "--out", str(folder / "mask.png")),
                 ("stylize", "--style", "wave", "--max-side", str(max(STYLE_SIZE)), str(photo),
                  "--out", str(folder / "styled.png"))):
        run = build_py(args[0], "--backend", backend, *args[1:])
        assert run.returncode == 0, run.stderr
    return np.asarray(Image.open(folder / "mask.png")), np.asarray(Image.open(folder / "styled.png"))


@pytest.fixture(scope="module")
def wasm_segment_and_stylize(small_portrait, tmp_path_factory, site_url):
    return segment_and_stylize("wasm", small_portrait, tmp_path_factory.mktemp("wasm"))


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_segment_and_stylize_commands_run_on_the_backend_asked_for(backend, small_portrait, tmp_path,
                                                                   wasm_segment_and_stylize):
    """The commands fail rather than run elsewhere (see HeadlessApp), and give WebAssembly's mask and picture."""
    mask, styled = segment_and_stylize(backend, small_portrait, tmp_path)
    wasm_mask, wasm_styled = wasm_segment_and_stylize
    ours, theirs = mask >= 128, wasm_mask >= 128
    assert np.logical_and(ours, theirs).sum() / np.logical_or(ours, theirs).sum() >= 0.95
    assert styled.shape == wasm_styled.shape and psnr(styled, wasm_styled) >= 35
