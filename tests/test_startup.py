"""Start-up as a person sees it: loading progress, the backend chosen, and the dev server itself."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
from playwright.sync_api import expect

import samples
from conftest import ROOT, assert_same_detections
from pylens_build.headless import BACKEND_FLAGS, SOFTWARE_GPU_FLAGS, HeadlessApp, give_file, launch_chromium
from pylens_build.models import model_cards
from pylens_build.server import LIVE_EDIT_TAG, make_server, routes, serving
from test_segment_style import canvas_pixels

RECORD_STATUS = """
window.statusLog = [];
new MutationObserver(() => {
  const status = document.getElementById('status');
  if (status && status.textContent !== window.statusLog.at(-1)) window.statusLog.push(status.textContent);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def test_loading_progress_then_automatic_backend(site_url):
    # No ?backend=: automatic choice. WebGPU has no adapter without its flag, and WebGL is rendered
    # in software, so WebAssembly is chosen without a notice.
    with HeadlessApp(site_url, init_script=RECORD_STATUS, chromium_args=SOFTWARE_GPU_FLAGS) as app:
        page = app.page
        log = page.evaluate("window.statusLog")
        assert "Loading the Python runtime and numpy…" in log, log
        assert log.index("Starting the app…") < log.index("Starting TensorFlow.js…"), log
        name = next(c.name for c in model_cards() if c.id == "aizoo-face-mask")
        model_lines = [line for line in log if line.startswith(f"Downloading {name}… ")]
        assert any(" of " in line and line.endswith(" MB") for line in model_lines), log
        expect(page.locator("#loading")).to_be_hidden()
        expect(page.locator("#backend-active")).to_have_text("using WebAssembly")
        expect(page.locator("#backend")).to_have_value("auto")
        expect(page.locator("#error")).to_be_hidden()


def test_automatic_choice_passes_over_a_gpu_rendered_in_software(site_url):
    # With these flags WebGPU has an adapter, SwiftShader's: far slower than WebAssembly.
    with HeadlessApp(site_url, chromium_args=(*BACKEND_FLAGS["webgpu"], *SOFTWARE_GPU_FLAGS)) as app:
        assert app.page.evaluate("navigator.gpu.requestAdapter().then(a => a.info.architecture)") == "swiftshader"
        assert app.stats()["backend"] == "wasm"
        expect(app.page.locator("#error")).to_be_hidden()


def test_a_photo_dropped_before_python_is_ready_is_shown_upright_then_analysed(site_url, reference):
    # A phone photo, stored turned a quarter (EXIF orientation 6): the shell must turn it upright too.
    turned = samples.with_orientation(samples.rgb("aizoo_demo.jpg"), 6)
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.goto(site_url + "?backend=wasm", wait_until="commit")
        page.wait_for_function("window.pylens !== undefined", polling=5)
        give_file(page, "drop", turned, "phone.jpg", "image/jpeg")
        page.wait_for_function("performance.getEntriesByName('pylens: picture shown').length", polling=5)
        # On screen, upright, while Python is still starting: the photo as it was before it was turned.
        shown = canvas_pixels(page, "picture").astype(int)
        assert not page.evaluate("window.pylens.ready")
        assert shown.shape == (686, 520, 3) and np.abs(shown - samples.rgb("aizoo_demo.jpg")).mean() < 6
        page.wait_for_function("JSON.parse(window.pylens.stats())?.result?.image === 'phone.jpg'",
                               timeout=HeadlessApp.READY_TIMEOUT_MS)
        result = json.loads(page.evaluate("window.pylens.stats()"))["result"]
        assert_same_detections(result["detections"], reference["aizoo_demo.jpg"]["detections"])
    finally:
        browser.close()


def test_a_view_chosen_while_python_starts_opens_once_it_is_ready(site_url):
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.goto(site_url + "?backend=wasm", wait_until="commit")
        page.wait_for_function("window.pylens !== undefined", polling=5)
        page.click("#view-batch")
        assert not page.evaluate("window.pylens.ready")
        expect(page.locator("#batch-panel")).to_be_visible()
        expect(page.locator("#view-batch")).to_have_attribute("aria-selected", "true")
        page.wait_for_function("JSON.parse(window.pylens.stats())?.view === 'batch'", polling=100,
                               timeout=HeadlessApp.READY_TIMEOUT_MS)
        expect(page.locator("#mask-panel")).to_be_hidden()
        expect(page.locator("#detector-label")).to_be_visible()  # the Batch view uses the Face masks detector
        page.click("#view-style")  # and Python has the tabs from now on
        page.wait_for_function("JSON.parse(window.pylens.stats()).view === 'style'", polling=100)
        expect(page.locator("#detector-label")).to_be_hidden()
    finally:
        browser.close()


@pytest.mark.browser
def test_a_server_that_goes_away_mid_start_is_said_in_the_page(pyodide_dist):
    server = make_server(0, routes(pyodide_dist), quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    def gone(request) -> None:  # once Python's runtime is up and asks for the app's files
        if "/py/" in request.url and server.socket.fileno() != -1:
            threading.Thread(target=lambda: (server.shutdown(), server.server_close())).start()

    browser = launch_chromium()
    try:
        context = browser.new_context()
        context.on("request", gone)
        page = context.new_page()
        page.goto(url + "?backend=wasm")
        expect(page.locator("#error-text")).to_contain_text("The app could not start (", timeout=120_000)
        expect(page.locator("#error-text")).to_contain_text("Check the connection, then reload the page.")
        expect(page.locator("#status")).to_have_text("The app could not start.")
        expect(page.locator("#progress")).to_be_hidden()
        expect(page.locator("#open")).to_be_disabled()
    finally:
        browser.close()
        server.server_close()


def test_a_start_that_stops_moving_says_so(site_url):
    browser = launch_chromium()
    try:
        context = browser.new_context()
        context.route("**/py/**", lambda route: None)  # the app's files never come
        page = context.new_page()
        page.goto(site_url + "?backend=wasm")
        stalled = page.locator("#stalled")
        expect(stalled).to_be_hidden()
        expect(stalled).to_be_visible(timeout=120_000)
        expect(stalled).to_contain_text("Keep waiting, or reload the page.")
        expect(page.locator("#status")).not_to_have_text("The app could not start.")
    finally:
        browser.close()


@pytest.mark.browser
def test_without_cross_origin_isolation_the_app_runs_on_the_page(pyodide_dist, reference):
    photo = samples.photo_path("fmd_demo2.jpg")
    with serving(routes(pyodide_dist), isolated=False) as url, HeadlessApp(url, "wasm") as app:
        assert not app.page.evaluate("crossOriginIsolated")
        result = app.detect(photo.read_bytes(), photo.name)
        assert_same_detections(result["detections"], reference[photo.name]["detections"])
        assert app.stats()["leaky_frames"] == 0


def test_unavailable_backend_falls_back_with_a_notice(site_url):
    # Without the flag that gives headless Chromium a WebGPU adapter, as in a browser with none.
    with HeadlessApp(site_url, "webgpu", backend_flags=False, fail_on_error=False) as app:
        expect(app.page.locator("#error-text")).to_have_text(
            "WebGPU is not available in this browser; using WebAssembly instead.")
        assert app.stats()["backend"] == "wasm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_serves_the_app(site_url):
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--port", str(port)],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        line = server.stderr.readline()
        while "serving on" not in line:
            assert line, "build.py serve exited"
            line = server.stderr.readline()
        assert f"http://localhost:{port}/" in line
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://localhost:{port}/") as response:
                    assert b"<title>PyLens" in response.read()
                    break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://localhost:{port}/pyscript.toml") as response:
            # PYODIDE_DIST is set: the self-hosted Pyodide
            assert response.read().startswith(b'interpreter = "./start.mjs?pyodide=./pyodide/pyodide.mjs"')
        # Cross-origin isolation for wasm threads, and live editing, on the development server.
        with urllib.request.urlopen(f"http://localhost:{port}/") as response:
            assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert response.headers["Cross-Origin-Embedder-Policy"] == "credentialless"
            assert LIVE_EDIT_TAG.encode() in response.read()
        with urllib.request.urlopen(f"http://localhost:{port}/live-edit.js") as response:
            assert response.headers["Content-Type"] == "text/javascript"
    finally:
        server.terminate()
        server.wait(timeout=10)
