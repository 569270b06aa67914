"""The page as a visitor meets it: it keeps still from the first paint to the first result and across
the views, the tabs stay where they are, and on a phone a tapped demo's result is on screen."""

from __future__ import annotations

import pytest

from pylens_build.headless import launch_chromium, wait_until

# Chromium's layout-shift entries from the navigation on (the Layout Instability API): each shift's
# score and whether it came within 500 ms of an input, which cumulative layout shift leaves out.
WATCH_SHIFTS = """
window.layoutShifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.layoutShifts.push({value: entry.value, input: entry.hadRecentInput,
      moved: entry.sources.map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : "?")});
  }
}).observe({type: "layout-shift", buffered: true});
"""
# The cumulative layout shift so far: the sum of the scores of the shifts no input caused.
CLS = "window.layoutShifts.filter((s) => !s.input).reduce((sum, s) => sum + s.value, 0)"
UNASKED_SHIFTS = "window.layoutShifts.filter((s) => !s.input)"
MAX_CLS = 0.02
STATS = "JSON.parse(window.pylens.stats())"
RESULT_SHOWN = f"window.pylens.ready && {STATS}.result && !document.getElementById('picture').hidden"
TAB_PLACES = "[...document.querySelectorAll('[role=tab]')].map((tab) => tab.getBoundingClientRect().toJSON())"


@pytest.fixture
def visit(site_url):
    """A fresh visit of the page in a browser of the given screen, its layout shifts watched."""
    browser = launch_chromium()

    def open_page(width: int, height: int, touch: bool = False):
        context = browser.new_context(viewport={"width": width, "height": height}, has_touch=touch,
                                      is_mobile=touch)
        context.add_init_script(WATCH_SHIFTS)
        page = context.new_page()
        page.goto(site_url + "?backend=wasm")
        return page

    yield open_page
    browser.close()


def test_the_page_keeps_still_to_the_first_result_and_across_the_views(visit):
    page = visit(1280, 800)
    demo = page.locator("#demos button").first
    demo.click()  # as soon as it is shown, as a visitor would
    wait_until(page, RESULT_SHOWN, 180_000)
    page.wait_for_timeout(1000)  # what the result brings with it (Pillow, the backend's note) has come
    assert page.evaluate(CLS) <= MAX_CLS, page.evaluate(UNASKED_SHIFTS)

    tabs = page.evaluate(TAB_PLACES)
    for view in ("style", "batch", "mask"):
        frames = page.evaluate(f"{STATS}.style_frames")
        page.click(f"#view-{view}")
        if view == "style":
            wait_until(page, f"{STATS}.style_frames > {frames}", 180_000)
        wait_until(page, f"{STATS}.view === '{view}'")
        page.wait_for_timeout(1000)
        assert page.evaluate(TAB_PLACES) == tabs, view
    assert page.evaluate(CLS) <= MAX_CLS, page.evaluate(UNASKED_SHIFTS)


def test_on_a_phone_a_tapped_demo_shows_its_result_without_scrolling(visit):
    page = visit(390, 844, touch=True)
    demo = page.locator("#demos button").first
    demo.wait_for()
    box = demo.bounding_box()
    assert box["y"] + box["height"] <= 844, "the demo button is below the fold"
    demo.tap()
    wait_until(page, RESULT_SHOWN, 180_000)
    assert page.evaluate("scrollY") == 0
    picture = page.locator("#picture").bounding_box()
    assert picture["y"] >= 0 and picture["y"] + picture["height"] <= 844, picture
    assert picture["width"] >= 300
    # Touch wording, and every menu's choice shown whole.
    assert page.locator(".touch-hint").is_visible() and not page.locator(".pointer-hint").is_visible()
    cut = page.evaluate("""() => {
        const measure = document.createElement("canvas").getContext("2d");
        return [...document.querySelectorAll("select")].filter((menu) => menu.checkVisibility()).filter((menu) => {
            const style = getComputedStyle(menu);
            measure.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = menu.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
            return measure.measureText(menu.selectedOptions[0]?.text ?? "").width > room;
        }).map((menu) => menu.id);
    }""")
    assert cut == []
