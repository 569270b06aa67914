"""Shared fixtures: the served site and the real page in headless Chromium (real Pyodide, tf.js, weights)."""

from __future__ import annotations

import ast
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import samples
from pylens_build.bench.plain_js import PLAIN_TFJS_SCRIPTS, load_js_pipeline
from pylens_build.cli import prepare_site
from pylens_build.headless import HeadlessApp, launch_chromium
from pylens_build.models import model_cards
from pylens_build.runtimes import ensure_pyodide
from pylens_build.server import routes, serving
from pylens_build.static_site import build_site

ROOT = Path(__file__).resolve().parents[1]
RAY = str(Path(sys.executable).parent / "ray")


# The fixtures that set up Pyodide or the page, which a --quick run leaves out with the tests using them
NEEDS_PYODIDE = {"pyodide_dist", "dist", "site_url", "app"}


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true",
                     help="only the tests that need neither Chromium, Pyodide nor the slow mark")


def pytest_ignore_collect(collection_path, config):
    if config.getoption("quick") and collection_path.suffix == ".py" and uses_playwright(collection_path):
        return True
    return None


def uses_playwright(module: Path) -> bool:
    """Whether a test module imports Playwright, itself or through another test module."""
    tree = ast.parse(module.read_text())
    imported = {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    return any(name.startswith("playwright") for name in imported) or any(
        uses_playwright(module.with_name(name + ".py")) for name in imported if name.startswith("test_"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "app" in getattr(item, "fixturenames", ()) or "site_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    if config.getoption("quick"):
        left_out = [item for item in items if item.get_closest_marker("browser") or item.get_closest_marker("slow")
                    or NEEDS_PYODIDE & set(getattr(item, "fixturenames", ()))]
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(autouse=True)
def chromium_only_in_browser_tests(request, monkeypatch):
    """A test not marked `browser` is given no Chromium (in this process or a build.py it runs), so
    that one starting it without the marker fails, and `-m "not browser"` is truly the CPython suite."""
    if request.node.get_closest_marker("browser") is None:
        monkeypatch.setenv("CHROMIUM", str(ROOT / "no-chromium-outside-browser-tests"))


@pytest.fixture(scope="session")
def pyodide_dist() -> Path:
    return ensure_pyodide()


@pytest.fixture(scope="session")
def site_url(pyodide_dist) -> str:
    prepare_site(self_host=False)
    with serving(routes(pyodide_dist)) as url:
        yield url


@pytest.fixture(scope="session")
def dist(tmp_path_factory, pyodide_dist) -> Path:
    """The site `build.py build` writes, self-hosted."""
    prepare_site(self_host=True)
    out = tmp_path_factory.mktemp("site") / "dist"
    build_site(out, pyodide_dist)
    return out


# Set on a page before it loads: the policy violations its document sees, in window.cspViolations.
CSP_VIOLATIONS = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));"""


@pytest.fixture(scope="session")
def app(site_url) -> HeadlessApp:
    """One page on the wasm backend, shared by the tests that only feed it images."""
    with HeadlessApp(site_url, "wasm") as headless:
        yield headless


TFJS_PAGE = '<!doctype html><meta charset="utf-8"><title>plain tf.js</title>' + "".join(
    f'<script src="{script}"></script>' for script in PLAIN_TFJS_SCRIPTS)


@pytest.fixture(scope="session")
def tfjs_page(site_url):
    """A page of the site's origin with only tf.js (wasm backend): for running models in plain
    tf.js, apart from the app."""
    browser = launch_chromium()
    page = browser.new_page()
    page.route(site_url + "tfjs.html", lambda route: route.fulfill(body=TFJS_PAGE, content_type="text/html"))
    page.goto(site_url + "tfjs.html")
    page.evaluate("async () => { tf.wasm.setWasmPaths('./vendor/tfjs-backend-wasm/'); await tf.setBackend('wasm'); }")
    yield page
    browser.close()


@pytest.fixture(scope="session")
def reference() -> dict:
    return samples.reference()


@pytest.fixture(scope="session")
def js_reference(app):
    """The independent plain tf.js pipeline (tests/js_reference.js), loaded into the shared page."""
    card = next(c for c in model_cards() if c.id == "aizoo-face-mask")
    load_js_pipeline(app.page, card, "wasm")

    def detect(score_threshold: float = 0.5, iou_threshold: float = 0.5) -> list[dict]:
        """Detections of the plain JS pipeline on the picture the app shows now."""
        result = app.stats()["result"]
        return app.page.evaluate(
            "([w, h, s, i]) => window.jsReference.detect(document.getElementById('picture'), w, h, s, i)",
            [result["width"], result["height"], score_threshold, iou_threshold])

    return detect


def box_iou(a, b) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def assert_same_detections(got: list[dict], expected: list[dict], min_iou=0.9, max_score_diff=0.02,
                           score_threshold=0.5):
    """Each expected detection matched by one of the same class, IoU and score, and nothing else;
    only a detection scoring within max_score_diff of the threshold may be in one list alone."""
    def borderline(detection: dict) -> bool:
        return abs(detection["score"] - score_threshold) <= max_score_diff

    unmatched = list(got)
    for want in expected:
        match = max(unmatched, key=lambda d: box_iou(d["box"], want["box"]), default=None)
        if match is None or box_iou(match["box"], want["box"]) < min_iou:
            assert borderline(want), f"{want} not found in {got}"
            continue
        assert match["class_id"] == want["class_id"], f"{match} vs {want}"
        assert abs(match["score"] - want["score"]) <= max_score_diff, f"{match} vs {want}"
        unmatched.remove(match)
    assert all(borderline(d) for d in unmatched), f"{unmatched} not in {expected}"


def assert_finds_the_faces(got: list[dict], faces: list[dict], min_iou: float = 0.5) -> None:
    """As many detections as known faces, each face matched by a detection of its class that
    overlaps it by IoU at least min_iou."""
    assert len(got) == len(faces), f"{got} vs the known faces {faces}"
    unmatched = list(got)
    for face in faces:
        match = max(unmatched, key=lambda d: box_iou(d["box"], face["box"]))
        assert box_iou(match["box"], face["box"]) >= min_iou and match["class_id"] == face["class_id"], \
            f"{face} not found in {got}"
        unmatched.remove(match)


# The controls a person can reach now, in document (reading) order: visible, enabled, focusable,
# and of a group of radio buttons the one checked (arrow keys move within the group); and the name
# a control goes by here.
CONTROLS = """[...document.querySelectorAll('button, select, input, textarea, summary, a[href], [tabindex]')]
    .filter(e => e.checkVisibility({visibilityProperty: true}) && !e.disabled && e.tabIndex >= 0
                 && (e.type !== 'radio' || e.checked))"""
CONTROL_NAME = "(e => e.id || e.dataset.file || e.dataset.style || `${e.tagName}:${e.name || e.textContent.trim()}`)"
FOCUSABLE = f"{CONTROLS}.map({CONTROL_NAME})"
FOCUSED = f"(e => e === document.body ? null : {CONTROL_NAME}(e))(document.activeElement)"


def assert_masks_agree(ours: np.ndarray, theirs: np.ndarray, least_iou: float) -> None:
    """Two boolean person masks of a picture overlap with IoU ≥ least_iou, or are both all but empty."""
    union = np.logical_or(ours, theirs).sum()
    if union < 0.001 * ours.size:  # no person (the QR code): IoU means nothing, so the masks must both be empty
        assert np.logical_xor(ours, theirs).sum() <= 0.001 * ours.size
    else:
        assert np.logical_and(ours, theirs).sum() / union >= least_iou


def tab_order(page) -> list[str]:
    """The controls that Tab goes through from the first one on the page until it comes round again."""
    page.evaluate(f"{CONTROLS}[0].focus()")
    order = [page.evaluate(FOCUSED)]
    for _ in range(100):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused == order[0]:
            return order
        if focused is not None:  # past the last control, the page itself
            order.append(focused)
    raise AssertionError(f"Tab never came round: {order}")


# What the page says and shows, in order, as it changes (from the call on): the note beside the
# backend menu, the status over the picture (when shown), and whether the result shown is marked as
# the last backend's; in window.stateLog.
RECORD_PAGE_STATE = """() => {
    window.stateLog = [];
    const note = () => [document.getElementById('backend-active').textContent,
        document.getElementById('loading').hidden ? null : document.getElementById('status').textContent,
        document.getElementById('stage').classList.contains('stale')];
    window.stateWatch?.disconnect();
    window.stateWatch = new MutationObserver(() => {
        const now = note();
        if (JSON.stringify(now) !== JSON.stringify(window.stateLog.at(-1))) window.stateLog.push(now);
    });
    window.stateWatch.observe(document.querySelector('main'), {subtree: true, childList: true,
        characterData: true, attributes: true});
}"""


def assert_switch_told(page, name: str) -> list[str]:
    """After a switch to the backend called `name` recorded by RECORD_PAGE_STATE: the note said it was
    switching, the status that the detector was being built (not downloaded: its files are at
    hand), the old result was greyed meanwhile, and "using" came once the new result was drawn.
    The statuses shown, in order."""
    from playwright.sync_api import expect  # noqa: PLC0415 — the CPython tests import no Playwright

    expect(page.locator("#backend-active")).to_have_text(f"using {name}")
    expect(page.locator("#loading")).to_be_hidden()
    log = page.evaluate("window.stateLog")
    notes = [note for note, _, _ in log]
    statuses = [status for _, status, _ in log if status]
    assert f"switching to {name}…" in notes, log
    assert any(s.startswith("Building AIZOO face-mask detector") and s.endswith(f"for {name}…") for s in statuses), log
    assert not any(status.startswith("Downloading") for status in statuses), log
    assert any(stale for note, _, stale in log if note == f"switching to {name}…"), log
    assert notes.index(f"using {name}") > max(i for i, (_, _, stale) in enumerate(log) if stale), log
    return statuses


@pytest.fixture
def loopback_only():
    """A command line run in a network namespace that has only loopback; the namespace and every
    Ray process in it stop with the test."""
    holder = subprocess.Popen(["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep 1800"])
    time.sleep(0.5)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_DISABLE_USAGE_STATS": "1"}

    def inside(*command: str, **options):
        return subprocess.Popen(["nsenter", f"--target={holder.pid}", "--net", "--", *command], env=env, cwd=ROOT,
                                text=True, **options)

    yield inside
    subprocess.run(["nsenter", f"--target={holder.pid}", "--net", "--", RAY, "stop", "--force"], env=env,
                   capture_output=True, timeout=120)
    holder.kill()
