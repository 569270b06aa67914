"""The page's Python, started by site/shell.js: in a PyScript worker when the page is cross-origin
isolated (the page never waits for Python or tf.js), else on the page.

The wiring: it builds the app's parts, hands each what it needs, and runs the start-up; nothing
imports it. A picture's path: a source (py/intake.py, py/feed.py) puts it on the stage
(py/stage.py) -> the active view (py/viewer.py, py/views/) runs the models on the device and
post-processes in numpy, draws over it -> the stage has the page's shell show both.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import traceback
from html import escape
from pathlib import Path

import js
from pyscript import document, when, window

import names
import page
import shell
import start
import tfbridge
from api import HeadlessApi
from backends import Backends
from cards import ModelCard, parse_card
from code_panel import CodePanel
from feed import FrameFeed
from intake import Intake, load_pillow
from page import EventRouter, element
from picture import ImageError
from stage import Stage
from viewer import Viewer
from views import VIEWS, ViewContext

CARDS_DIR = Path("models")


def load_cards() -> dict[str, ModelCard]:
    """Every model card PyScript placed in models/ (see pyscript.toml), by id."""
    cards = (parse_card(path.read_text(), path.name) for path in sorted(CARDS_DIR.glob("*.toml")))
    return {card.id: card for card in cards}


def stdlib_modules() -> list[str]:
    """The standard-library packages imported now: what a snapshot of Python can hold for the next visit."""
    return sorted({name.split(".")[0] for name in sys.modules} & sys.stdlib_module_names)


def fill_credits(cards: dict[str, ModelCard]) -> None:
    """About: one line per distinct model author and licence, from the cards."""
    credits = dict.fromkeys((card.attribution, card.licence, card.homepage) for card in cards.values())
    element("credits").innerHTML = "".join(
        f'<li><a href="{escape(homepage)}">{escape(author)}</a> — {escape(licence)} licence</li>'
        for author, licence, homepage in credits)


class NextVisit:
    """What makes the next visit quicker, prepared beside the app once the first result is shown."""

    def __init__(self) -> None:
        self.snapshot = start.snapshot()  # of Python (site/start.mjs)

    async def prepare(self, stage: Stage, publish) -> None:
        """Pillow, for the pictures to come; then a snapshot of Python. One after the other, and
        after the first result, so as to leave the app a core."""
        await stage.first_result.wait()
        with contextlib.suppress(ImageError):  # said when a picture needs it
            await load_pillow()
        self.snapshot = await start.keep_snapshot(stdlib_modules())
        publish()

    def stats(self) -> dict:
        return {"snapshot": self.snapshot}


# ---- the parts, each given what it needs


def publish() -> None:
    """The app's state to the page (the API is built last, from the parts that publish)."""
    api.publish()


to_page = shell.connect()
cards = load_cards()
models_url = js.URL.new("./models/", str(window.location.href)).href  # absolute, as a worker needs
stage = Stage(to_page, save_buttons=[id_ for view in VIEWS.values() for id_ in view.save_buttons],
              fps_outputs=[view.fps_output for view in VIEWS.values()])
viewer = Viewer(stage)
events = EventRouter(then=publish)
feed = FrameFeed(stage, viewer, to_page, publish=publish)
intake = Intake(stage, viewer, feed, publish=publish)
backends = Backends(stage, viewer, models_url, publish=publish)
context = ViewContext(stage=stage, cards=cards, models_url=models_url, listen=events.listen,
                      publish=publish, rerun=viewer.rerun, rerun_for=viewer.rerun_for,
                      analyse=intake.analyse_bytes, detector_changed=backends.detector_changed,
                      by_role=viewer.by_role, is_active=viewer.is_active, shows_still=viewer.shows_still)
viewer.add({name: view(context) for name, view in VIEWS.items()})
next_visit = NextVisit()
code_panel = CodePanel(stage, viewer, cards, publish=publish)
api = HeadlessApi(to_page, stage, viewer, intake, feed, backends, parts=(feed, viewer, backends, next_visit))


async def on_live_edit(event) -> None:
    """build.py serve only: files saved in the editor, taken in place (see py/live_edit.py)."""
    import live_edit  # noqa: PLC0415 — only the development server sends this event

    await live_edit.take_saved(event, stage, viewer, cards)


def build_controls() -> None:
    """The header's controls and each view's, routed by one listener per kind of event."""
    viewer.build_controls(events.listen)
    backends.build_controls(events.listen)
    events.listen("click", {"error-close": page.hide_error, "snapshot": on_snapshot})
    events.attach()
    when("pylens:live", window, handler=page.handler(on_live_edit, api.publish))


async def on_snapshot() -> None:
    """The frame shown now (a camera's or a video's too), with what the view drew, as a PNG."""
    async with stage.one_at_a_time:  # not half-way through the next frame
        await stage.save_png("snapshot")


async def start_app() -> None:
    """Start-up; each phase ends with a performance mark (names.py) that build.py bench reads."""
    window.performance.mark(names.APP_STARTED)
    document.body.dataset.python = "ready"
    params = js.URLSearchParams.new(str(window.location.search))
    detection = viewer.by_role("detect")
    try:
        page.status("Starting TensorFlow.js…")
        await tfbridge.load_tfjs()
        await backends.use(params.get("backend"), at_start=True)
        window.performance.mark(names.BACKEND_READY)
        detection.choose_detector(params.get("model"))
        fill_credits(cards)
        await detection.load_detector()
        backends.show_in_use()
        window.performance.mark(names.MODEL_READY)
        await backends.take_kept_times()
        build_controls()
    except Exception as exc:  # noqa: BLE001 — any start-up failure must reach the page
        message = str(exc) if isinstance(exc, (tfbridge.ModelLoadError, RuntimeError)) else repr(exc)
        window.console.error(traceback.format_exc())
        page.status("The app could not start.")
        page.show_error(message)
        to_page.send("failed", error=message)
        return
    backends.time_after(next_visit.prepare(stage, api.publish))
    element("loading").hidden = True
    for id_ in ("backend", "detector"):
        element(id_).disabled = False
    if params.get("view") in viewer.views:
        await viewer.show(params.get("view"))
    to_page.on("call", api.on_call)  # publishes before it answers
    to_page.on("view", page.handler(lambda message: viewer.show(str(message.name)), api.publish))  # chosen at start
    intake.listen(to_page)
    feed.listen(to_page)
    code_panel.listen(to_page)
    api.publish()
    to_page.send("ready", methods=list(api.methods()))
    to_page.listen()


asyncio.ensure_future(start_app())
