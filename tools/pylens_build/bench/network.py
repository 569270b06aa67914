"""Start-up as a visitor gets it: the built site served as a static host serves it (static_host.py:
gzip, Pages' cache headers, no COOP/COEP, so the service worker's first-visit reload happens),
through a link of a named profile, in a fresh browser with the automatic backend; wall clock from
navigation to the demo photo's boxes listed, the demo clicked as soon as the page shows it (again
after a reload). The app's first, second and third visits and the plain tf.js page's first, with
the bytes over the wire and the requests of each, and the first visit's requests for the chart; and
the runtime floor's page (Pyodide, numpy and Pillow as published) over the same link."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

from ..headless import HeadlessApp, launch_chromium
from ..models import model_cards
from ..project import SetupError
from ..server import routes
from ..static_host import PROFILES, Link, Response, static_hosting
from .assets import BENCH_DETECTOR, BENCH_IMAGE, PLAIN_JS_PAGE, RUNTIME_FLOOR_PAGE
from .plain_js import JS_PIPELINE, js_pipeline_spec, originals_route
from .startup import marks

FIRST_VISIT_S = 20  # how long the first visit stays before the second: a fixed time, as a visitor's
SITE_PATH = "pylens/"  # as a GitHub Pages project site
# The state of a visit's page: its document (a reload makes another), whether the demo can be
# clicked, how many boxes are listed, and the error the app gave, if any.
VISIT_STATE = f"""() => [performance.timeOrigin,
    Boolean(document.querySelector('#demos button[data-file="{BENCH_IMAGE.name}"]:not([disabled])')),
    document.querySelectorAll('#mask-detections li').length, window.pylens?.error ?? null]"""


def startup_network(site: Path, pyodide_dist: Path, profiles: list[str]) -> dict:
    """Each profile's figures: the app's visits and the plain page's, over that link."""
    figures = {}
    detector = next(card for card in model_cards() if card.id == BENCH_DETECTOR)
    with tempfile.TemporaryDirectory() as pages:  # the plain page beside the site, at the top
        shutil.copyfile(PLAIN_JS_PAGE, Path(pages) / PLAIN_JS_PAGE.name)
        shutil.copyfile(JS_PIPELINE, Path(pages) / "js_pipeline.js")
        shutil.copyfile(RUNTIME_FLOOR_PAGE, Path(pages) / RUNTIME_FLOOR_PAGE.name)
        table = [("/" + SITE_PATH, site), ("/", Path(pages)), originals_route(detector), *routes(pyodide_dist)]
        for profile in profiles:
            with static_hosting(table, Link(**PROFILES[profile]), compress_first=(site,)) as (url, log):
                app = app_visits(url + SITE_PATH, log)
                plain = plain_page_visit(url, log, detector)
                floor = runtime_floor_visit(url, log)
            figures[profile] = {**PROFILES[profile], "app": app, "plain": plain, "runtime_floor": floor,
                                "first_visit_ratio": app["first"]["ms"] / plain["ms"],
                                "bytes_ratio": app["first"]["bytes"] / plain["bytes"]}
    return figures


def app_visits(url: str, log: list[Response]) -> dict:
    """Three visits of the app in one fresh browser profile: the first stays FIRST_VISIT_S."""
    browser = launch_chromium()
    try:
        page = browser.new_context().new_page()
        visits = {}
        for visit in ("first", "second", "third"):
            started, logged = time.monotonic(), len(log)
            epoch_ms = time.time() * 1000
            page.goto(url, wait_until="commit")
            done = demo_result(page)
            visits[visit] = wire(log[logged:], started, done) | {"ms": (done - started) * 1000}
            if visit == "first":
                visits[visit]["marks"] = {name: at + page.evaluate("performance.timeOrigin") - epoch_ms
                                          for name, at in marks(page).items()}
                page.wait_for_timeout(max(0.0, started + FIRST_VISIT_S - time.monotonic()) * 1000)
        return visits
    finally:
        browser.close()


def demo_result(page) -> float:
    """Click the bench's demo photo as soon as the page shows it (again in a page that reloaded)
    and wait for its boxes; time.monotonic() when they are listed."""
    from playwright.sync_api import Error  # noqa: PLC0415 — installed by ensure_dev_env

    deadline = time.monotonic() + HeadlessApp.READY_TIMEOUT_MS / 1000
    clicked_in = None
    while time.monotonic() < deadline:
        try:
            document, can_click, listed, error = page.evaluate(VISIT_STATE)
            if error:
                raise SetupError(f"the app did not start: {error}")
            if listed:
                return time.monotonic()
            if can_click and clicked_in != document:
                page.click(f'#demos button[data-file="{BENCH_IMAGE.name}"]', timeout=1000)
                clicked_in = document
        except Error as exc:  # the page is navigating (the service worker's reload)
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        time.sleep(0.02)
    raise SetupError("the demo photo's boxes never came")


def plain_page_visit(url: str, log: list[Response], card) -> dict:
    """The plain tf.js page's first visit in a fresh browser: navigation until the bench photo,
    fetched as the app fetches its demo, has its detections."""
    query = urllib.parse.urlencode({"model": card.id, "spec": json.dumps(js_pipeline_spec(card))})
    browser = launch_chromium()
    try:
        page = browser.new_page()
        started, logged = time.monotonic(), len(log)
        page.goto(f"{url}{PLAIN_JS_PAGE.name}?{query}", wait_until="commit")
        deadline = started + HeadlessApp.READY_TIMEOUT_MS / 1000
        while not page.evaluate("window.jsReady === true"):
            if time.monotonic() > deadline:
                raise SetupError("the plain tf.js page never loaded its model")
            time.sleep(0.02)
        page.evaluate("""async (file) => {
            const bitmap = await createImageBitmap(await (await fetch(`./demos/${file}`)).blob());
            const canvas = document.getElementById("picture");
            [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
            canvas.getContext("2d").drawImage(bitmap, 0, 0);
            await jsReference.detect(canvas, bitmap.width, bitmap.height, 0.5, 0.5);
        }""", BENCH_IMAGE.name)
        done = time.monotonic()
        return wire(log[logged:], started, done) | {"ms": (done - started) * 1000}
    finally:
        browser.close()


def runtime_floor_visit(url: str, log: list[Response]) -> dict:
    """The runtime floor's page (Pyodide, numpy and Pillow as published, nothing else) in a fresh
    browser: navigation until it has imported numpy and Pillow."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        started, logged = time.monotonic(), len(log)
        page.goto(url + RUNTIME_FLOOR_PAGE.name, wait_until="commit")
        page.wait_for_function("window.floorReadyAt", polling=20, timeout=HeadlessApp.READY_TIMEOUT_MS)
        done = time.monotonic()
        return wire(log[logged:], started, done) | {"ms": (done - started) * 1000}
    finally:
        browser.close()


def wire(responses: list[Response], started: float, done: float) -> dict:
    """What went over the wire for a visit that began at `started` and had its result at `done`:
    bytes and requests before the result, bytes of the whole visit so far, and each response before
    the result as [path, asked, first byte, last byte (ms from the start), bytes]."""
    before = [r for r in responses if r.asked <= done]
    return {"bytes": sum(r.size for r in before), "requests": len(before),
            "bytes_in_all": sum(r.size for r in responses),
            "responses": [[r.path.split("?", 1)[0], *(round((t - started) * 1000, 1) for t in
                                                     (r.asked, r.first_byte, r.last_byte)), r.size] for r in before]}
