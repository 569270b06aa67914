"""The page's services, shared by the app's parts and its views: its elements, the status line and
its progress bar, errors, downloads, the address's parameters, menus and timings tables, and the
routing of the controls' events to their handlers."""

from __future__ import annotations

import asyncio
import functools
import inspect
import traceback
from collections.abc import Callable, Iterable
from html import escape

import js
from pyscript import document, when, window
from pyscript.ffi import to_js

from cards import ModelCard
from names import STAGE_NAMES


@functools.cache
def element(id_: str):
    """The page's element of that id, looked up once (from a worker each look-up is a round trip)."""
    return document.getElementById(id_)


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


# ---- the status line and its progress bar

def status(text: str) -> None:
    element("status").textContent = text


def download_progress(name: str, received: int, total: int | None) -> None:
    element("loading").hidden = False
    progress = element("progress")
    if total:
        progress.max, progress.value = total, received
        status(f"Downloading {name}… {size_text(received)} of {size_text(total)}")
    else:
        status(f"Downloading {name}… {size_text(received)}")


def busy(text: str) -> None:
    """The status says what the app is doing, with a bar that moves without a measure."""
    status(text)
    element("progress").removeAttribute("value")
    element("loading").hidden = False


def busy_progress(done: int, total: int | None) -> None:
    """The bar of `busy` measures, when there is a measure."""
    if total:
        progress = element("progress")
        progress.max, progress.value = total, done


# ---- errors

def show_error(message: str) -> None:
    element("error-text").textContent = message
    element("error").hidden = False


def show_load_error(message: str) -> None:
    """A model could not be loaded: the loading bar goes, the message stays."""
    element("loading").hidden = True
    show_error(message)


def hide_error() -> None:
    element("error").hidden = True


def report_unexpected(what: str, exc: BaseException) -> None:
    window.console.error(traceback.format_exc())
    show_error(f"Something went wrong while {what}: {exc}. The app is still running; try again "
               "or with another image.")


# ---- downloads and the address

def download(blob_url: str, filename: str) -> None:
    """Offer a blob URL of this context as a download; the URL is freed once the browser has it."""
    link = document.createElement("a")
    link.href, link.download = blob_url, filename
    link.click()
    asyncio.get_running_loop().call_later(60, js.URL.revokeObjectURL, blob_url)


def download_text(text: str, mime: str, filename: str) -> None:
    """Offer text (JSON, CSV) as a download."""
    download(js.URL.createObjectURL(js.Blob.new(to_js([text]), to_js({"type": mime}))), filename)


def set_url_param(name: str, value: str | None) -> None:
    """Keep a choice in the address, so that a reload or a shared link keeps it."""
    url = js.URL.new(str(window.location.href))
    if value is None:
        url.searchParams.delete(name)
    else:
        url.searchParams.set(name, value)
    window.history.replaceState(None, "", url.href)


# ---- menus and tables

def fill_menu(menu, cards: Iterable[ModelCard], selected: str) -> None:
    """A <select> with one option per card (value: its id, text: its name), `selected` chosen."""
    menu.innerHTML = "".join(f'<option value="{escape(card.id)}">{escape(card.name)}</option>' for card in cards)
    menu.value = selected


def show_timings(table, timings: dict[str, float], kept: Iterable[str] = ()) -> None:
    """Fill a timings table: one row per stage that has a time, or whose output of an earlier frame
    was `kept` (used again, not computed), in the order of a frame, then the total (one piece of
    HTML: from a worker every DOM call is a round trip to the page)."""
    kept = set(kept)
    rows = [f"<tr><td>{escape(name)}</td><td>{timings[key]:.1f} ms</td></tr>" if key in timings
            else f'<tr class="kept"><td>{escape(name)}</td><td>kept</td></tr>'
            for key, name in STAGE_NAMES.items() if key in timings or key in kept]
    table.tBodies[0].innerHTML = "".join(
        [*rows, f'<tr class="total"><td>Total</td><td>{sum(timings.values()):.1f} ms</td></tr>'])


# ---- events

def handler(fn: Callable, then: Callable[[], None]):
    """An async handler that calls `fn` (with the event or message, when it takes one), then `then`."""
    takes_event = bool(inspect.signature(fn).parameters)

    async def handle(*args) -> None:
        result = fn(*args) if takes_event else fn()
        if asyncio.iscoroutine(result):
            await result
        then()
    return handle


class EventRouter:
    """The controls' events: one listener on the page for each kind of event, whatever the controls
    (from a worker, every listener costs round trips to the page, on the way to the first result).
    Each event goes to the handler of the innermost element it happened in that has one, then to
    `then` (the app's state published)."""

    def __init__(self, then: Callable[[], None]) -> None:
        self.then = then
        self.handlers: dict[str, dict[str, Callable]] = {}  # event type -> element id -> handler

    def listen(self, event_type: str, handlers: dict[str, Callable]) -> None:
        """Call handlers[id] for each `event_type` event on the element of that id or inside it;
        before `attach`."""
        self.handlers.setdefault(event_type, {}).update(
            {id_: handler(fn, self.then) for id_, fn in handlers.items()})

    def attach(self) -> None:
        for event_type, handlers in self.handlers.items():
            when(event_type, document, handler=_routed(handlers))


def _routed(handlers: dict[str, Callable]):
    """An event handler that hands the event to the handler of the closest element it names."""
    selector = ", ".join(f"#{id_}" for id_ in handlers)

    async def route(event) -> None:
        target = event.target.closest(selector) if hasattr(event.target, "closest") else None
        if target:
            await handlers[str(target.id)](event)
    return route
