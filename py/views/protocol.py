"""What every view is and what it is given: the `View` protocol and its `ViewContext`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cards import ModelCard
    from stage import Stage


@dataclass(frozen=True)
class ViewContext:
    """What a view is given to work with: the stage, the cards, the page's routing; and what it
    may ask of the app, as callbacks."""

    stage: Stage
    cards: dict[str, ModelCard]
    models_url: str  # absolute: in a worker a relative URL would resolve against the worker's script
    listen: Callable[[str, dict[str, Callable]], None]  # page.EventRouter.listen
    publish: Callable[[], None]  # the app's state, to the page's stats
    rerun: Callable[[], Awaitable[None]]  # the active view on the picture shown again (holding the lock)
    rerun_for: Callable[[View], Awaitable[None]]  # a view's control moved: the same, coalesced, if it is active
    analyse: Callable[[bytes, str], Awaitable[dict]]  # image bytes decoded, shown and analysed by the active view
    detector_changed: Callable[[], Awaitable[None]]  # another detector in use: its backend times apply
    by_role: Callable[[str], View]  # another view, by one of its roles
    is_active: Callable[[View], bool]  # whether a view is the one shown
    shows_still: Callable[[View], bool]  # whether a view is the one shown, on a picture that no feed replaces

    def cards_of(self, kind: type) -> dict:
        return {card_id: card for card_id, card in self.cards.items() if isinstance(card, kind)}


class View(Protocol):
    name: str
    roles: tuple[str, ...]  # what the app asks of it: "detect", "segment", "stylize", "batch"
    setting_controls: tuple[str, ...]  # ids of the settings (above the picture) that are this view's alone
    save_buttons: tuple[str, ...]  # ids of its buttons that save a result, enabled once a picture is shown
    fps_output: str  # id of the element that shows the feed's frame rate
    kept_tensors: int  # tensors it keeps from one frame to the next (not a leak)

    def __init__(self, context: ViewContext) -> None: ...

    def build_controls(self) -> None:
        """Fill its controls (from the model cards) and listen to them (`context.listen`)."""

    async def opened(self) -> bool:
        """It became the active view: True when it put a picture of its own on the stage, else the
        picture shown is processed again by it."""

    async def prepare(self) -> None:
        """Load the models its next frame needs, before the frame's tensors are counted."""

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """Process the picture canvas, draw the result over it and have both shown; adds its stage
        times (ms, keys of names.STAGE_NAMES) to `timings`; returns the result as a dict."""

    async def card_changed(self, card: ModelCard) -> None:
        """A model card changed (live editing): its models of that card are built from it anew."""

    async def backend_changed(self) -> None:
        """Build its models again on the new backend, or drop them to load when next used."""

    def stats(self) -> dict:
        """Its part of window.pylens.stats()."""
