"""The page's views, one class per view behind one protocol (`View`), and their registry (`VIEWS`).

A view named N has its tab `#view-N` and its panel `#N-panel` in site/index.html. The app's shell
(py/app.py) builds one of each, hands each picture or camera frame to the active one, and tells
every view when the backend changes; a new view is one module here, one entry in VIEWS and one
panel in the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from views.batch import BatchView
from views.mask import MaskView
from views.style import StyleView

if TYPE_CHECKING:
    from app import App
    from cards import ModelCard


class View(Protocol):
    name: str
    setting_controls: tuple[str, ...]  # ids of the settings (above the picture) that are this view's alone
    save_buttons: tuple[str, ...]  # ids of its buttons that save a result, enabled once a picture is shown
    fps_output: str  # id of the element that shows the camera's frame rate
    kept_tensors: int  # tensors it keeps from one frame to the next (not a leak)

    def __init__(self, app: App) -> None: ...

    def build_controls(self) -> None:
        """Fill its controls (from the model cards) and listen to them (`app.listen`)."""

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


VIEWS: dict[str, type[View]] = {view.name: view for view in (MaskView, StyleView, BatchView)}
