"""Small helpers for the page's elements, shared by both views."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from html import escape

from pyscript import document

from cards import ModelCard
from names import STAGE_NAMES


@functools.cache
def element(id_: str):
    """The page's element of that id, looked up once (from a worker each look-up is a round trip)."""
    return document.getElementById(id_)


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
