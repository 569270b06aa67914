"""The page for everyone and on every screen: axe-core finds no violation in any view, a phone's width
never scrolls sideways, and the app can be installed."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

import samples
from pylens_build.headless import HeadlessApp, run_script
from pylens_build.project import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWS = ("mask", "style", "batch")
DEMO = "aizoo_demo.jpg"


@pytest.fixture(scope="module")
def shown(site_url):
    """A page showing the demo photo with its detections, and a batch of two photos."""
    with HeadlessApp(site_url, "wasm") as app:
        app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
        app.page.click("#view-batch")
        app.page.set_input_files("#file", [str(samples.photo_path(DEMO)), str(samples.photo_path("fmd_demo2.jpg"))])
        app.wait_until("(b => b.rows === 2 && !b.running)(JSON.parse(window.pylens.stats()).batch)")
        app.page.click("#view-mask")
        yield app


def show_view(app: HeadlessApp, view: str) -> None:
    """The view shown, with the picture processed by it."""
    if app.stats()["view"] == view:
        return
    stylized = app.stats()["style_frames"]
    app.page.click(f"#view-{view}")
    app.wait_until(f"JSON.parse(window.pylens.stats()).view === '{view}'")
    if view == "style":
        app.wait_until(f"JSON.parse(window.pylens.stats()).style_frames > {stylized}", 120_000)


@pytest.mark.parametrize("view", VIEWS)
def test_axe_finds_no_violation(shown, view):
    show_view(shown, view)
    violations = axe_violations(shown.page)
    assert violations == [], json.dumps(violations, indent=1)


def axe_violations(page) -> list:
    run_script(page, AXE)
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
        .violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" "))}))""")


def wider_than(page, width: int) -> list[str]:
    """The elements shown that reach past the left or right edge of a window `width` wide."""
    return page.evaluate("""(width) => [...document.querySelectorAll("body *")].filter((e) => {
        const box = e.getBoundingClientRect();
        return box.width > 0 && (box.left < -0.5 || box.right > width + 0.5);
    }).map((e) => `${e.tagName.toLowerCase()}#${e.id}`)""", width)


@pytest.mark.parametrize("view", VIEWS)
def test_nothing_is_wider_than_a_phone(shown, view):
    page = shown.page
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        show_view(shown, view)
        if view == "batch":  # its picture is the photo chosen in its table
            page.locator("#batch-rows [data-index]").first.click()
            shown.wait_until("!document.getElementById('picture').hidden")
        assert wider_than(page, 360) == []
        assert page.evaluate("document.documentElement.scrollWidth") == 360
        picture = page.locator("#picture").bounding_box()
        stage = page.locator("#stage").bounding_box()
        assert picture["width"] >= stage["width"] - 8  # the picture across the screen, inside the stage's border
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_the_code_panel_is_for_everyone_and_fits_a_phone(shown):
    """Open, the code panel (its editor too) has no axe violation, is reached from the keyboard, and
    at a phone's width sits above the picture without reaching past the screen."""
    page = shown.page
    show_view(shown, "mask")
    page.locator("#code-toggle").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#code-module")).to_be_enabled(timeout=60_000)
    expect(page.locator("#code-editor .cm-content")).to_be_focused()
    try:
        violations = axe_violations(page)
        assert violations == [], json.dumps(violations, indent=1)
        page.set_viewport_size({"width": 360, "height": 740})
        assert wider_than(page, 360) == []
        assert page.evaluate("document.documentElement.scrollWidth") == 360
        assert page.locator("#code-panel").bounding_box()["y"] < page.locator("#stage").bounding_box()["y"]
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})
        page.locator("#code-toggle").click()
    expect(page.locator("#code-panel")).to_be_hidden()


def test_the_app_can_be_installed(shown, site_url):
    page = shown.page
    manifest_url = page.evaluate("document.querySelector('link[rel=manifest]').href")
    response = page.request.get(manifest_url)
    assert response.ok and response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "./"
    sizes = set()
    for icon in manifest["icons"]:
        image = page.request.get(site_url + icon["src"])
        assert image.ok and image.headers["content-type"] == icon["type"], icon
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    cdp = shown.context.new_cdp_session(page)
    errors = [error["errorId"] for error in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]]
    assert errors in ([], ["in-incognito"])  # a test browser's profile is incognito, which installs nothing
    assert cdp.send("Page.getAppManifest")["errors"] == []


def test_the_view_tabs_are_one_tab_stop_and_follow_the_arrow_keys(shown):
    page = shown.page
    show_view(shown, "mask")
    page.focus("#view-mask")
    for key, view in (("End", "batch"), ("Home", "mask"), ("ArrowLeft", "batch"), ("ArrowRight", "mask")):
        page.keyboard.press(key)
        shown.wait_until(f"JSON.parse(window.pylens.stats()).view === '{view}'")
        expect(page.locator(f"#{view}-panel")).to_be_visible()
        assert page.evaluate("document.activeElement.id") == f"view-{view}"
        stops = page.evaluate("[...document.querySelectorAll('[role=tab]')].map(t => [t.id, t.tabIndex])")
        assert stops == [[f"view-{name}", 0 if name == view else -1] for name in VIEWS], key
