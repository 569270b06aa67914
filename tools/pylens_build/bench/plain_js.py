"""The plain JavaScript pipeline the app is measured against: tf.js with the decoding and NMS of
tests/js_reference.js, in the app's page or in a page of its own."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

from ..headless import HeadlessApp, launch_chromium, run_script
from ..models import original_model
from ..project import ROOT
from .assets import BENCH_IMAGE, PLAIN_JS_PAGE
from .startup import JS_PHASES, first_load

JS_PIPELINE = ROOT / "tests" / "js_reference.js"
# tf.js as plain scripts (a global `tf`), for the plain JavaScript pages and pipelines the app is compared with.
ORIGINALS = "/originals/"  # where PLAIN_JS_PAGE finds its detector


def originals_route(card) -> tuple[str, Path]:
    """The route that serves PLAIN_JS_PAGE the detector as its authors publish it (float32 weights),
    as the original demo loads it, whatever the app serves."""
    return (f"{ORIGINALS}{card.id}/", original_model(card))


PLAIN_TFJS_SCRIPTS = ["./vendor/tfjs/tf.min.js", "./vendor/tfjs-backend-wasm/tf-backend-wasm.min.js",
                      "./vendor/tfjs-backend-webgpu/tf-backend-webgpu.min.js"]


def js_pipeline_spec(card) -> dict:
    """What JS_PIPELINE needs of a detector card: anchors, variances, input size."""
    return {
        "feature_maps": [rows for rows, _ in card.anchors.feature_maps],
        "sizes": card.anchors.sizes, "ratios": card.anchors.ratios, "variances": card.variances,
        "width": card.input_width, "height": card.input_height, "max_detections": card.max_detections,
    }


def load_js_pipeline(page, card, backend: str) -> None:
    """JS_PIPELINE added to a page of the site as `window.jsReference`, on a tf.js of its own (the
    page's global `tf`, apart from the app's) running `backend`, with the card's model loaded."""
    for script in PLAIN_TFJS_SCRIPTS:
        page.add_script_tag(url=script)
    run_script(page, JS_PIPELINE)
    page.evaluate("""async ([backend, id, spec]) => {
        tf.wasm.setWasmPaths("./vendor/tfjs-backend-wasm/");
        await tf.setBackend(backend);
        await window.jsReference.load(`./models/${id}/model.json`, spec);
    }""", [backend, card.id, js_pipeline_spec(card)])



def plain_js_start(url: str, card) -> dict:
    """The same for PLAIN_JS_PAGE in a fresh browser: navigation to the first detection."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.route(url + "js_pipeline.js", lambda route: route.fulfill(path=JS_PIPELINE))
        page.route(lambda address: address.split("?")[0] == url + PLAIN_JS_PAGE.name,  # with its query
                   lambda route: route.fulfill(path=PLAIN_JS_PAGE))
        query = urllib.parse.urlencode({"model": card.id, "spec": json.dumps(js_pipeline_spec(card))})
        page.goto(f"{url}{PLAIN_JS_PAGE.name}?{query}")
        page.wait_for_function("window.jsReady", timeout=HeadlessApp.READY_TIMEOUT_MS)
        done = page.evaluate("""async b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const bitmap = await createImageBitmap(new Blob([bytes]));
            const canvas = document.getElementById("picture");
            [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
            canvas.getContext("2d").drawImage(bitmap, 0, 0);
            await jsReference.detect(canvas, bitmap.width, bitmap.height, 0.5, 0.5);
            return performance.now();
        }""", base64.b64encode(BENCH_IMAGE.read_bytes()).decode())
        return first_load(page, done, JS_PHASES)
    finally:
        browser.close()

