"""The GPU backends in the real page (WebGL and WebGPU, on this machine's software adapters): the
same detections, and the same stylized picture as TensorFlow, as on WebAssembly."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import build
import samples
from conftest import ROOT, assert_same_detections
from test_conversion import psnr, style_card
from test_segment_style import jpeg, png_array

GPU_BACKENDS = ("webgl", "webgpu")
STYLE_SIZE = (128, 96)  # small: a software GPU runs the style network slowly


@pytest.fixture(scope="module", params=GPU_BACKENDS)
def gpu_app(request, site_url):
    with build.HeadlessApp(site_url, request.param) as headless:
        yield headless


@pytest.fixture(scope="module")
def style_photo(tmp_path_factory) -> tuple[bytes, np.ndarray]:
    """A small portrait as JPEG bytes, and the wave style's TensorFlow output on its decoded pixels."""
    data = jpeg(samples.photo("fst_face.jpg").convert("RGB").resize(STYLE_SIZE))
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32)  # as the page decodes it
    folder = tmp_path_factory.mktemp("gpu-style")
    np.save(folder / "in.npy", rgb)
    subprocess.run([str(build.ensure_convert_env()), str(build.CONVERTER), "stylize",
                    str(build.BUILD / "sources" / style_card("wave").sources.mirror), str(folder / "in.npy"),
                    str(folder / "out.npy")], check=True, capture_output=True)
    return data, np.load(folder / "out.npy")[:rgb.shape[0], :rgb.shape[1]]


def test_runs_on_the_backend_asked_for(gpu_app):
    assert gpu_app.stats()["backend"] == gpu_app.url.rsplit("=", 1)[1]


@pytest.mark.parametrize("name", ["aizoo_demo.jpg", "fmd_demo2.jpg"])
def test_detections_match_the_reference(gpu_app, reference, name):
    result = gpu_app.detect((samples.shared_dir() / "images" / name).read_bytes(), name)
    assert_same_detections(result["detections"], reference[name]["detections"])
    assert gpu_app.stats()["leaky_frames"] == 0


def test_style_network_gives_the_tensorflow_picture(gpu_app, style_photo):
    data, expected = style_photo
    out = png_array(gpu_app.on_image("stylizeImage", data, "face.jpg", "style-wave", None, 1024))
    assert out.shape == expected.shape
    assert psnr(out, expected) >= 35


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_detect_command_runs_on_the_backend_asked_for(site_url, reference, backend):
    photo = samples.shared_dir() / "images" / "fmd_demo2.jpg"
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "detect", "--backend", backend, str(photo)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert line["backend"] == backend
    assert_same_detections(line["detections"], reference[photo.name]["detections"])
