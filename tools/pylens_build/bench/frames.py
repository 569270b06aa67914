"""Per-frame figures: the face-mask pipeline against its model and the plain JavaScript pipeline,
the soak, and the main thread during each view's webcam loop."""

from __future__ import annotations

import json

import names

from ..headless import HeadlessApp
from ..project import BUILD
from .assets import BENCH_IMAGE, FAKE_CAMERA, LONG_TASKS
from .plain_js import load_js_pipeline
from .startup import main_thread


def bench_picture() -> tuple[bytes, str]:
    """A 640×480 JPEG of a person (a demo photo cropped to fit): the segment-and-stylize bench frame."""
    import io  # noqa: PLC0415

    from PIL import Image, ImageOps  # noqa: PLC0415 — installed by ensure_dev_env

    out = io.BytesIO()
    ImageOps.fit(Image.open(BUILD / "demos" / "fmd_demo2.jpg").convert("RGB"), (640, 480)).save(out, "JPEG", quality=92)
    return out.getvalue(), "fmd_demo2-640x480.jpg"



def webcam_loops(url: str, backend: str, seconds: float) -> dict:
    """The longest main-thread task during `seconds` of each view's webcam loop (Chromium's fake camera),
    or until a frame has come, on a machine too slow for one in that time."""
    loops = {}
    with HeadlessApp(url, backend, chromium_args=FAKE_CAMERA, init_script=LONG_TASKS.read_text()) as app:
        for view, counter in (("mask", "frames"), ("style", "style_frames")):
            app.call(names.SHOW_VIEW, view)
            first = app.stats()[counter]
            app.call(names.START_WEBCAM)
            app.wait_until(f"JSON.parse(window.pylens.stats()).{counter} > {first}", HeadlessApp.READY_TIMEOUT_MS)
            start, before = app.page.evaluate("performance.now()"), app.stats()[counter]
            app.page.wait_for_timeout(seconds * 1000)
            app.wait_until(f"JSON.parse(window.pylens.stats()).{counter} > {before}", HeadlessApp.READY_TIMEOUT_MS)
            end, after = app.page.evaluate("performance.now()"), app.stats()[counter]
            app.call(names.STOP_WEBCAM)
            loops[f"{view}_longest_task_ms"] = main_thread(app.page, start, end)["longest_task_ms"]
            loops[f"{view}_frames"] = after - before
    return loops



def heap_used(cdp) -> int:
    """The page's JS heap after a full garbage collection, in bytes."""
    cdp.send("HeapProfiler.collectGarbage")
    return cdp.send("Runtime.getHeapUsage")["usedSize"]


def soak(app: HeadlessApp, frames: int, warm_up: int = 20) -> dict:
    """`frames` whole frames on the picture shown: tensors and JS heap (after warm-up) before and after."""
    cdp = app.context.new_cdp_session(app.page)
    app.call(names.SOAK, warm_up)
    heap_before = heap_used(cdp)
    run = json.loads(app.call(names.SOAK, frames))
    heap_after = heap_used(cdp)
    return {**run, "heap_before": heap_before, "heap_after": heap_after, "heap_growth": heap_after / heap_before - 1}


def bench_face_mask(app: HeadlessApp, card, frames: int, with_js: bool = True) -> dict:
    """benchFaceMask on the bench photo, against the plain JavaScript pipeline loaded into the same
    page unless told not to. Not on a page where the app runs on the main thread: two copies of
    tf.js on one page share one engine, where two copies of a layers model's variables clash."""
    app.detect(BENCH_IMAGE.read_bytes(), BENCH_IMAGE.name)
    if with_js:
        load_js_pipeline(app.page, card, app.tf_backend())  # under ONNX Runtime: tf.js on its wasm
    return json.loads(app.call(names.BENCH_FACE_MASK, frames))

