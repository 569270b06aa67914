"""Live editing under the development server, on a copy of the app's sources: a saved module or
model card is taken by the running page in place (no navigation, no new Python) and the picture
shown runs again; a module that does not import is refused with its traceback while the previous
code keeps answering; a change under site/ reloads the page."""

import shutil

import numpy as np
import pytest

import samples
from names import SHOW_VIEW
from pylens_build.headless import HeadlessApp
from pylens_build.project import ROOT
from pylens_build.server import routes, serving, watched
from test_segment_style import canvas_pixels

pytestmark = pytest.mark.browser
DEMO = "aizoo_demo.jpg"


@pytest.fixture
def source(tmp_path):
    """py/, site/ and the model cards, copied: the tests edit them."""
    shutil.copytree(ROOT / "py", tmp_path / "py", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "site", tmp_path / "site")
    (tmp_path / "models").mkdir()
    for card in (ROOT / "models").glob("*.toml"):
        shutil.copy(card, tmp_path / "models")
    return tmp_path


@pytest.fixture
def app(site_url, pyodide_dist, source):
    with serving(routes(pyodide_dist, source=source), watch=watched(source)) as url, \
            HeadlessApp(url, "wasm") as headless:
        yield headless


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def shown_detections(app) -> list:
    return app.stats()["result"]["detections"]


def wait_for_console(app, start: str, seen: int) -> str:
    """The first console line after the `seen` first that starts with `start`."""
    for _ in range(600):
        lines = [line for line in app.console[seen:] if line.startswith(start)]
        if lines:
            return lines[0]
        app.page.wait_for_timeout(50)
    raise TimeoutError(f"no console line starting {start!r}: {app.console[seen:]}")


def test_a_saved_module_runs_in_the_same_page(app, source):
    assert len(app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]) == 3
    app.page.evaluate("window.liveMarker = 'still here'")
    seen = len(app.console)
    # The NMS keeps only its best box: the picture shown is analysed again with the new code.
    edit(source / "py" / "boxes.py", "return np.array(keep, dtype=np.int64)",
         "return np.array(keep[:1], dtype=np.int64)")
    line = wait_for_console(app, "live: ", seen)
    assert line.startswith("live: reloaded boxes, ") and line.endswith(" ms"), line
    assert "results" in line and "views.mask" in line  # the modules that import it, with it
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.length === 1")
    assert app.page.evaluate("window.liveMarker") == "still here"  # no navigation
    # The next picture runs the new code too, through the same page.
    assert len(app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]) == 1


def test_a_module_that_does_not_import_is_refused_and_the_old_code_answers(app, source):
    assert len(app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]) == 3
    seen = len(app.console)
    edit(source / "py" / "boxes.py", "def non_max_suppression(", "def non_max_suppression(:")
    line = wait_for_console(app, "live: ", seen)
    assert line.startswith("live: failed boxes: SyntaxError"), line
    error = app.page.locator("#error-text").text_content()
    assert "boxes could not be taken" in error and "SyntaxError" in error and "boxes.py" in error, error
    assert app.page.locator("#error").is_visible()
    assert len(app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]) == 3  # the previous code
    # A module that raises as it is imported is refused the same way.
    seen = len(app.console)
    edit(source / "py" / "boxes.py", "def non_max_suppression(:",
         "raise ValueError('no NMS today')\n\n\ndef non_max_suppression(")
    line = wait_for_console(app, "live: ", seen)
    assert line == "live: failed boxes: ValueError: no NMS today", line
    assert len(app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]) == 3


def test_a_saved_model_card_is_taken_in_place(app, source):
    app.detect(samples.photo_bytes(DEMO), DEMO)
    app.page.evaluate("window.liveMarker = 'still here'")
    seen = len(app.console)
    edit(source / "models" / "aizoo-face-mask.toml", 'name = "Mask"', 'name = "Covered"')
    line = wait_for_console(app, "live: ", seen)
    assert line.startswith("live: reloaded aizoo-face-mask.toml in "), line
    app.wait_until("JSON.parse(window.pylens.stats()).result.detections.some(d => d.label === 'Covered')")
    assert app.page.evaluate("window.liveMarker") == "still here"
    # A card that does not parse is refused, naming the field; the card in use stays.
    seen = len(app.console)
    edit(source / "models" / "aizoo-face-mask.toml", 'family = "ssd"', 'family = "yolo"')
    line = wait_for_console(app, "live: ", seen)
    assert line.startswith("live: failed aizoo-face-mask.toml: CardError: ") and "family" in line, line
    labels = {d["label"] for d in app.detect(samples.photo_bytes(DEMO), DEMO)["detections"]}
    assert "Covered" in labels


def test_the_style_view_takes_a_saved_module(app, source):
    app.call(SHOW_VIEW, "style")
    app.detect(samples.photo_bytes(DEMO), DEMO)
    # The people stylized: the overlay differs from the picture over a good part of it.
    overlay, picture = canvas_pixels(app.page, "overlay").astype(int), canvas_pixels(app.page, "picture")
    changed = np.abs(overlay - picture).max(axis=2) > 24
    assert changed.mean() > 0.1, changed.mean()
    frames = app.stats()["style_frames"]
    seen = len(app.console)
    # Stylize nothing: the view's result is the picture itself, everywhere.
    edit(source / "py" / "stylize.py", "    return original.add(stylized.sub(original).mul(weight))",
         "    return original.add(stylized.sub(original).mul(0))")
    line = wait_for_console(app, "live: ", seen)
    assert line.startswith("live: reloaded stylize, "), line
    app.wait_until(f"JSON.parse(window.pylens.stats()).style_frames > {frames}")
    picture, overlay = canvas_pixels(app.page, "picture"), canvas_pixels(app.page, "overlay")
    assert picture.shape == overlay.shape and np.abs(overlay.astype(int) - picture).max() <= 2


def test_a_change_under_site_reloads_the_page(app, source):
    app.page.evaluate("window.liveMarker = 'before'")
    edit(source / "site" / "app.css", "body {", "body { outline: 0;")
    app.wait_until("window.liveMarker === undefined && window.pylens && window.pylens.ready", 120_000)
