"""The views' switch: which view is active, its tab and panel shown, and a frame run through it,
counted for tensors it leaves behind. The other parts find a view here by its role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyscript import window

import page
import tfbridge
from page import element

if TYPE_CHECKING:
    from cards import ModelCard
    from stage import Stage
    from views.protocol import View


class Viewer:
    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.views: dict[str, View] = {}  # the first is the default view
        self.active: View | None = None
        self.leaky_frames = 0
        self._rerun_pending = False

    def add(self, views: dict[str, View]) -> None:
        """The views, built by the wiring (they are given this switch's callbacks); the first is active."""
        self.views = views
        self.active = next(iter(views.values()))

    def by_role(self, role: str) -> View:
        return next(view for view in self.views.values() if role in view.roles)

    def is_active(self, view: View) -> bool:
        return view is self.active

    def shows_still(self, view: View) -> bool:
        """Whether that view is the active one, on a picture that no feed replaces."""
        return view is self.active and self.stage.has_still

    @property
    def default(self) -> View:
        return next(iter(self.views.values()))

    def build_controls(self, listen) -> None:
        """The tabs, and each view's controls."""
        listen("click", {f"view-{name}": self.on_tab for name in self.views})
        for view in self.views.values():
            view.build_controls()

    async def on_tab(self, event) -> None:
        await self.show(str(event.target.closest("[role=tab]").id).removeprefix("view-"))

    async def show(self, name: str) -> None:
        """Switch views; the picture shown is processed again by the new one."""
        if name not in self.views or self.views[name] is self.active:
            return
        self.active = self.views[name]
        for other in self.views.values():
            active = other is self.active
            tab = element(f"view-{other.name}")
            tab.setAttribute("aria-selected", str(active).lower())
            tab.tabIndex = 0 if active else -1  # the tabs are one Tab stop (see site/shell/controls.mjs)
            element(f"{other.name}-panel").hidden = not active
        for id_ in {id_ for view in self.views.values() for id_ in view.setting_controls}:
            element(id_).hidden = id_ not in self.active.setting_controls
        page.set_url_param("view", None if self.active is self.default else name)
        if await self.active.opened():
            return
        stage = self.stage
        if stage.has_still:
            async with stage.one_at_a_time:
                await stage.present_undrawn()  # the last view's drawing goes at once
                await self.guarded_rerun()
        elif stage.size is None and not stage.feed:
            stage.blank()  # the page's own placeholder

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """The active view on the picture canvas (its result drawn and shown); a frame must leave as
        many tensors as it found. Call holding the stage's lock."""
        view = self.active
        await view.prepare()  # models loaded first: their weights are not the frame's tensors
        before = tfbridge.tensor_count() - view.kept_tensors
        result = await view.run_frame(picture, timings)
        count = tfbridge.tensor_count() - view.kept_tensors
        if count != before:
            self.leaky_frames += 1
            if self.leaky_frames == 1:
                window.console.warn(f"tf.js tensor leak: {count} tensors after a frame, {before} before it")
        return result

    async def rerun(self) -> None:
        """Run the active view again on the picture shown. Call holding the stage's lock."""
        await self.run_frame(self.stage.picture, {"image_decode": self.stage.decode_ms})

    async def guarded_rerun(self) -> None:
        try:
            await self.rerun()
        except tfbridge.ModelLoadError as exc:
            page.show_load_error(str(exc))
        except Exception as exc:  # noqa: BLE001
            page.report_unexpected("processing the picture", exc)

    async def rerun_for(self, view: View) -> None:
        """A view's control moved: process the picture shown again, coalescing the changes that
        arrive meanwhile."""
        if not self.shows_still(view) or self._rerun_pending:
            return
        self._rerun_pending = True
        async with self.stage.one_at_a_time:
            self._rerun_pending = False
            await self.guarded_rerun()

    async def backend_changed(self) -> None:
        for view in self.views.values():
            await view.backend_changed()

    async def card_changed(self, card: ModelCard) -> None:
        for view in self.views.values():
            await view.card_changed(card)

    def stats(self) -> dict:
        stats = {"leaky_frames": self.leaky_frames, "view": self.active.name}
        for view in self.views.values():
            stats |= view.stats()
        return stats
