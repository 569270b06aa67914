"""Start-up figures: each phase from its performance marks, bytes by kind, and the main thread's
long tasks, for the app's page, the built site's later visits, the runtime alone and the plain page."""

from __future__ import annotations

import contextlib

import names

from ..headless import HeadlessApp, give_file, launch_chromium
from ..project import SetupError
from .assets import BENCH_IMAGE, LONG_TASKS, RUNTIME_FLOOR_PAGE

APP_PHASES = [
    ("page, shell and PyScript", None, names.PYSCRIPT_LOADING_PYODIDE),
    ("Python runtime and numpy", names.PYSCRIPT_LOADING_PYODIDE, names.PYSCRIPT_LOADING_FILES),
    ("tf.js and its backend", names.START_TFJS, names.START_BACKEND_READY),
    ("detector download", names.START_DETECTOR_DOWNLOAD, names.START_DETECTOR_DOWNLOADED),
    ("app files", names.PYSCRIPT_LOADING_FILES, names.PYSCRIPT_LOADED_PYODIDE),
    ("app modules (Python imports)", names.PYSCRIPT_LOADED_PYODIDE, names.APP_STARTED),
    ("tf.js and backend taken by Python", names.APP_STARTED, names.BACKEND_READY),
    ("detector build and warm-up", names.BACKEND_READY, names.MODEL_READY),
    ("controls", names.MODEL_READY, names.READY),
    ("first result (decode, detect, draw)", names.READY, None),
]
JS_PHASES = [
    ("page, tf.js and backend", None, "js: backend ready"),
    ("model download", "js: backend ready", "js: model ready"),
    ("first result (decode, detect)", "js: model ready", None),
]
# Where first-load bytes go, by URL path prefix (first match; the rest is the page itself).
BYTE_GROUPS = [("Python packages", "/pyodide/", ".whl"), ("Python runtime", "/pyodide/", ""),
               ("PyScript", "/vendor/pyscript/", ""), ("tf.js", "/vendor/tfjs", ""), ("models", "/models/", "")]



def in_page_and_workers(page, expression: str) -> list:
    """`expression` evaluated in a page and in each of its workers, the page's answer first (a worker
    that ended meanwhile, such as the one that makes Python's snapshot, is left out)."""
    from playwright.sync_api import Error  # noqa: PLC0415 — installed by ensure_dev_env

    answers = []
    for context in (page, *page.workers):
        with contextlib.suppress(Error):
            answers.append(context.evaluate(expression))
    return answers


def marks(page) -> dict[str, float]:
    """The performance marks of a page and of its workers, in ms since the page's navigation."""
    answers = in_page_and_workers(
        page, "[performance.timeOrigin, performance.getEntriesByType('mark').map(m => [m.name, m.startTime])]")
    origin, found = answers[0][0], {}
    for their_origin, entries in answers:
        for name, at in entries:
            found.setdefault(name, at + their_origin - origin)
    return found


def first_load(page, first_result_ms: float, phases: list[tuple[str, str | None, str | None]]) -> dict:
    """The page's start-up as measured by the browser: each phase's start and end (from the marks of
    the page and its workers), the total to the first result, and the bytes it downloaded by kind."""
    found = marks(page)
    intervals = {name: [0.0 if start is None else found[start], first_result_ms if end is None else found[end]]
                 for name, start, end in phases}
    downloads = in_page_and_workers(page, """["navigation", "resource"]  // a worker's are in its own timing
        .flatMap(type => performance.getEntriesByType(type)).map(r => [new URL(r.name).pathname, r.encodedBodySize])""")
    sizes = {name: 0 for name, *_ in BYTE_GROUPS} | {"page and app": 0}
    for path, size in (download for context in downloads for download in context):
        group = next((name for name, prefix, suffix in BYTE_GROUPS
                      if path.startswith(prefix) and path.endswith(suffix)), "page and app")
        sizes[group] += size
    named = {mark for _, start, end in phases for mark in (start, end) if mark}
    return {"ms": first_result_ms, "phases": intervals, "marks": {name: found[name] for name in sorted(named)},
            "phases_ms": {name: end - start for name, (start, end) in intervals.items()}, "bytes": sizes}


def first_result(app: HeadlessApp) -> dict:
    """The bench photo opened from the demos as soon as the page is ready, as a visitor would: the
    page's start-up up to its detections on screen, with the main thread's long tasks until then
    (the page must have LONG_TASKS)."""
    app.page.click(f'#demos button[data-file="{BENCH_IMAGE.name}"]')
    app.wait_until(f"JSON.parse(window.pylens.stats()).result?.image === '{BENCH_IMAGE.name}'",
                   HeadlessApp.READY_TIMEOUT_MS)
    done = app.page.evaluate("name => performance.getEntriesByName(name)[0].startTime", names.FIRST_RESULT)
    return {**first_load(app.page, done, APP_PHASES), **main_thread(app.page, 0.0, done)}


def main_thread(page, start: float, end: float) -> dict:
    """The longest main-thread task between two times of a page with LONG_TASKS, and the total
    blocking time (each long task's time beyond 50 ms), in ms."""
    long_tasks = [d for t, d in page.evaluate("window.pylensLongTasks") if start <= t <= end]
    busy = [d for t, d in page.evaluate("window.pylensBusy") if start <= t <= end]
    return {"longest_task_ms": max(long_tasks + busy, default=0.0),
            "total_blocking_ms": sum(d - 50 for d in long_tasks)}


def app_start(url: str, backend: str, visits: int = 1) -> list[dict]:
    """The app in a fresh browser, visited `visits` times in a row (the first cold, the others with
    its cache): navigation to the first detection of the bench photo, each time."""
    runs = []
    with HeadlessApp(url, backend, init_script=LONG_TASKS.read_text()) as app:
        for visit in range(visits):
            if visit:
                app.visit()
            runs.append(first_result(app))
    return runs


def built_site_later_visits(url: str, backend: str) -> list[dict]:
    """The built site (as on GitHub Pages, no headers) in a fresh browser: a first visit, in which
    the service worker takes over and caches what the app fetches, and after the first result the
    app keeps a snapshot of Python and times the backends; then the second and the third visit,
    measured. (The browser keeps the compiled Pyodide runtime only once it has seen it twice, so
    the third is quicker.)"""
    with HeadlessApp(url, backend, init_script=LONG_TASKS.read_text()) as app:
        app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready",
                       HeadlessApp.READY_TIMEOUT_MS)
        first_result(app)
        # Both done, so that no leftover work of this visit runs into the next ones.
        app.wait_until("(s => s.snapshot === 'kept' && Object.keys(s.backend_times).length)"
                       "(JSON.parse(window.pylens.stats()))", HeadlessApp.READY_TIMEOUT_MS)
        runs = []
        for _ in range(2):
            app.visit()
            runs.append(first_result(app))
            if app.stats()["snapshot"] != "restored":
                raise SetupError(f"a later visit did not restore Python's snapshot ({app.stats()['snapshot']})")
        return runs


def interactive_start(url: str, backend: str) -> float:
    """Navigation until a photo given to the page is on screen, in a fresh browser: the photo is
    dropped on the page as soon as its shell has loaded, ahead of the Python app."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.goto(f"{url}?backend={backend}", wait_until="commit")
        page.wait_for_function("window.pylens !== undefined", polling=5, timeout=HeadlessApp.READY_TIMEOUT_MS)
        give_file(page, "drop", BENCH_IMAGE.read_bytes(), BENCH_IMAGE.name, "image/jpeg")
        shown = f"performance.getEntriesByName('{names.PICTURE_SHOWN}')"
        page.wait_for_function(f"{shown}.length", polling=5, timeout=HeadlessApp.READY_TIMEOUT_MS)
        return page.evaluate(f"{shown}[0].startTime")
    finally:
        browser.close()


def runtime_floor(url: str) -> float:
    """Navigation until RUNTIME_FLOOR_PAGE has started Pyodide and imported numpy and Pillow, in a fresh browser."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.route(url + RUNTIME_FLOOR_PAGE.name, lambda route: route.fulfill(path=RUNTIME_FLOOR_PAGE))
        page.goto(url + RUNTIME_FLOOR_PAGE.name)
        page.wait_for_function("window.floorReadyAt", timeout=HeadlessApp.READY_TIMEOUT_MS)
        return page.evaluate("window.floorReadyAt")
    finally:
        browser.close()



def median_run(runs: list[dict]) -> dict:
    """The run whose total is the median (its phases add up to it)."""
    return sorted(runs, key=lambda run: run["ms"])[len(runs) // 2]

