"""Small helpers for the page's elements, shared by both views."""

from __future__ import annotations

from collections.abc import Iterable

import js

from cards import ModelCard


def element(id_: str):
    return js.document.getElementById(id_)


def fill_menu(menu, cards: Iterable[ModelCard], selected: str) -> None:
    """A <select> with one option per card (value: its id, text: its name), `selected` chosen."""
    for card in cards:
        option = js.document.createElement("option")
        option.value, option.textContent = card.id, card.name
        menu.appendChild(option)
    menu.value = selected


def show_timings(table, timings: dict[str, float], names: dict[str, str]) -> None:
    """Fill a timings table: one row per stage in `names` order that has a time, then the total."""
    body = table.tBodies[0]
    body.replaceChildren()
    for key, name in names.items():
        if key in timings:
            row = body.insertRow()
            row.insertCell().textContent = name
            row.insertCell().textContent = f"{timings[key]:.1f} ms"
    total = body.insertRow()
    total.className = "total"
    total.insertCell().textContent = "Total"
    total.insertCell().textContent = f"{sum(timings.values()):.1f} ms"
