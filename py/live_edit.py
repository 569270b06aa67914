"""Live editing's side in the page: the files the development server says were saved (under
`build.py serve`), or a module edited in the page's code panel (py/code_panel.py), handed to
py/live.py (modules) or parsed (model cards), and the picture shown runs again. Imported only when
the first such change comes.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import js
from pyscript import fetch, window

import page
from cards import CardError, ModelCard, parse_card
from clock import now_ms
from live import HOME, LiveError, module_name, reload_modules

if TYPE_CHECKING:
    from stage import Stage
    from viewer import Viewer

CARDS_DIR = HOME / "models"


async def fetch_text(path: str) -> str:
    """A file of the site as it is on the server now (not from the browser's cache)."""
    response = await fetch(js.URL.new(path, str(window.location.href)).href, cache="no-store")
    return await response.text()


async def take_saved(event, stage: Stage, viewer: Viewer, cards: dict[str, ModelCard]) -> None:
    """Files saved in the editor (py/ modules, model cards), as the development server's
    `pylens:live` event names them, taken in place; the page says what went wrong, one line in the
    console what was done."""
    started = now_ms()
    paths = json.loads(str(event.detail))
    try:
        done, rerun_failure = await take({path: await fetch_text(path) for path in paths}, stage, viewer, cards)
    except LiveError as exc:
        page.show_error(f"{exc.name} could not be taken; the previous code still runs.\n{exc.trace}")
        window.console.error(f"live: failed {exc.name}: {exc.error}")  # last: the page says it already
        return
    except Exception as exc:  # noqa: BLE001 — a reload that went wrong half-way
        page.show_error(f"{', '.join(paths)} could not be taken in place (reload the page):\n"
                        f"{traceback.format_exc(limit=-4)}")
        window.console.error(f"live: failed {', '.join(paths)}: {exc!r}")
        return
    if rerun_failure:
        page.show_error(f"The picture could not be processed again:\n{rerun_failure}")
    else:
        page.hide_error()
    window.console.log(f"live: reloaded {', '.join(done)} in {now_ms() - started:.0f} ms")


async def take(texts: dict[str, str], stage: Stage, viewer: Viewer,
               cards: dict[str, ModelCard]) -> tuple[list[str], str | None]:
    """New texts of the app's files (path under py/ or models/ -> text), taken in place, then the
    picture shown run again. Returns the modules and cards taken, and the traceback of the new code's
    failure on the picture (None: it ran). A file that does not import or parse raises LiveError,
    and nothing changed; any other exception went wrong half-way."""
    async with stage.one_at_a_time:  # no frame runs while its code changes
        modules = reload_modules({module_name(path): text for path, text in texts.items() if path.endswith(".py")})
        for path, text in texts.items():
            if path.endswith(".toml"):
                await card_changed(path, text, viewer, cards)
        rerun_failure = None
        if stage.has_still:
            try:
                await viewer.rerun()
            except Exception:  # noqa: BLE001 — the new code's error, shown to its author
                rerun_failure = traceback.format_exc(limit=-4)
    return [*modules, *(Path(path).name for path in texts if path.endswith(".toml"))], rerun_failure


async def card_changed(path: str, text: str, viewer: Viewer, cards: dict[str, ModelCard]) -> None:
    """A model card saved: parsed, written where the app reads cards, and given to each view."""
    try:
        card = parse_card(text, Path(path).name)
    except CardError as exc:
        raise LiveError(Path(path).name, f"CardError: {exc}", str(exc)) from None
    (CARDS_DIR / Path(path).name).write_text(text)
    cards[card.id] = card
    await viewer.card_changed(card)
