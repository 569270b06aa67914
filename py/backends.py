"""The backend in use, tf.js's or ONNX Runtime Web's: chosen at start or from the Backend menu,
watched in case it stops working (a lost WebGPU device or WebGL context), and timed beside the app on
the detector, so that automatic takes the fastest measured here. The menu shows each backend's time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from html import escape
from typing import TYPE_CHECKING

import engines
import names
import page
import start
import tfbridge
from cards import ONNX_ENTRY
from page import element

if TYPE_CHECKING:
    from stage import Stage
    from viewer import Viewer

# Each backend in the menu, under its engine's name; ONNX Runtime's say so in the closed menu too
MENU_NAMES = {**names.BACKEND_NAMES, "cpu": "CPU (plain JS)"}
CLEARLY_FASTER = 1.25  # on automatic, a backend measured this many times faster is switched to


class Backends:
    def __init__(self, stage: Stage, viewer: Viewer, models_url: str, publish: Callable[[], None]) -> None:
        self.stage, self.viewer, self.models_url, self.publish = stage, viewer, models_url, publish
        self.backend = ""
        self.times: dict[str, float] = {}  # the detector's time on each backend, in ms, measured here
        self.lost: set[str] = set()  # stopped working in this visit: automatic passes them over
        self._choices = 0  # one more at each choice of backend: a watch for an earlier one ends
        self._timing: asyncio.Task | None = None

    @property
    def detector_card(self):
        return self.viewer.by_role("detect").card

    def build_controls(self, listen) -> None:
        listen("input", {"backend": self.on_change})

    async def use(self, wanted: str | None, at_start: bool = False) -> None:
        """Switch to the backend `wanted` (None: automatic); at start, take the one site/start.mjs
        chose for the page's `wanted`. Then watch it, in case it stops working. The note beside the
        menu is the caller's: "using" it once it has given a model or a result."""
        self.backend, note = await (engines.page_backend() if at_start else
                                    engines.select_backend(wanted, self.times, self.lost))
        self.lost.discard(self.backend)  # chosen again, and working
        element("backend").value = wanted if wanted in names.BACKENDS else "auto"
        if note:
            page.show_error(note)
        self._choices += 1
        asyncio.ensure_future(self.watch(self._choices))

    async def watch(self, choice: int) -> None:
        """When the backend in use stops working, say so and carry on, on the next fastest, with the
        picture shown analysed again."""
        backend, reason = await engines.backend_lost()
        if choice != self._choices:  # another backend was chosen since
            return
        self.lost.add(backend)
        async with self.stage.one_at_a_time:  # the frame in flight fails with BackendLost
            try:
                await self.switch(None)
            except Exception as exc:  # noqa: BLE001
                page.report_unexpected(f"leaving {names.BACKEND_NAMES[backend]}, which stopped working", exc)
                return
        page.show_error(f"{names.BACKEND_NAMES[backend]} stopped working ({reason}); carrying on with "
                        f"{names.BACKEND_NAMES[self.backend]}.")
        self.show_times()
        self.publish()

    async def switch(self, wanted: str | None) -> None:
        """Switch to the backend `wanted` (None: automatic), have each view build or drop its models
        on it, and run the picture shown again; meanwhile the status says what is going on and the
        result shown is marked as the last backend's. Call holding the stage's lock."""
        await self.use(wanted)
        name = names.BACKEND_NAMES[self.backend]
        element("backend-active").textContent = f"switching to {name}…"
        shown = self.stage.has_still
        stage = element("stage")
        if shown:
            stage.classList.add("stale")  # until the shell presents the new result
        try:
            await self.viewer.backend_changed()
            if shown:
                page.busy(f"Compiling {name}'s shaders for the first frame (once per visit)…"
                          if engines.compiles_shaders(self.backend) else f"The first frame on {name}…")
                await self.viewer.rerun()
        finally:
            stage.classList.remove("stale")
            element("loading").hidden = True
        self.show_in_use()

    def show_in_use(self) -> None:
        element("backend-active").textContent = f"using {names.BACKEND_NAMES[self.backend]}"

    async def on_change(self, event) -> None:
        wanted = event.target.value
        select = element("backend")
        select.disabled = True
        async with self.stage.one_at_a_time:
            try:
                await self.switch(None if wanted == "auto" else wanted)
                page.set_url_param("backend", None if wanted == "auto" else wanted)
            except Exception as exc:  # noqa: BLE001
                page.report_unexpected("switching the backend", exc)
        select.disabled = False

    async def take_kept_times(self) -> None:
        """The detector's times as this browser kept them, if it did (the built site keeps them)."""
        self.times = await start.kept_backend_times(self.detector_card.id)
        self.show_times()

    def time_after(self, work: Awaitable[None]) -> None:
        """Time the backends (unless kept) once `work` is done: the first result's own follow-up."""
        async def then_time() -> None:
            await work
            await self.time_all()
        self._timing = asyncio.ensure_future(then_time())

    async def detector_changed(self) -> None:
        """Another detector: the backend times kept here are the detector's. Timed anew (after the
        first result's own work) unless kept."""
        await self.take_kept_times()
        if self._timing is not None and self._timing.done():
            self._timing = asyncio.ensure_future(self.time_all())

    async def time_all(self) -> None:
        """Unless this browser has timed it already, the detector timed on every backend beside the
        app (the built site keeps the times, for the automatic choice); then, on automatic, the
        fastest taken if it is clearly faster than the backend in use."""
        card = self.detector_card
        if not self.times:
            folder = f"{self.models_url}{card.id}/"
            times = await start.time_backends(card.id, folder + card.entry, card.format,
                                              [1, card.input_height, card.input_width, 3],
                                              folder + ONNX_ENTRY if "onnx" in card.engines else None)
            if card is not self.detector_card:  # another detector was chosen meanwhile: time that one
                await self.time_all()
                return
            self.times = times
            self.show_times()
            self.publish()
        fastest = self.fastest()
        if element("backend").value != "auto" or fastest in (None, self.backend):
            return
        slower, slower_ms = self.backend, self.times.get(self.backend, float("inf"))
        if slower_ms >= CLEARLY_FASTER * self.times[fastest]:
            async with self.stage.one_at_a_time:
                await self.switch(None)
            element("backend-active").textContent = (
                f"using {names.BACKEND_NAMES[self.backend]}, measured the fastest here "
                f"({self.times[fastest]:.0f} ms a frame against {slower_ms:.0f} ms on "
                f"{names.BACKEND_NAMES[slower]})")
            self.publish()

    def fastest(self) -> str | None:
        """The fastest backend by the times measured here, of those still working; None: none timed."""
        working = {name: ms for name, ms in self.times.items() if name not in self.lost}
        return min(working, key=working.get) if working else None

    def show_times(self) -> None:
        """The backend menu, by engine, with the detector's time on each backend measured here, and
        those that stopped working."""
        times, fastest = self.times, self.fastest()
        auto = f"automatic (fastest here: {names.BACKEND_NAMES[fastest]})" if fastest else "automatic"
        groups = []
        for engine, title in names.ENGINE_NAMES.items():
            options = []
            for name in (name for name in names.BACKENDS if engines.engine_of(name) == engine):
                label = MENU_NAMES[name]
                if name in self.lost:
                    label += " (stopped working)"
                elif name in times:
                    label += f" ({times[name]:.0f} ms)"
                elif times and engine == "tfjs":  # timed, and it did not start here
                    label += " (not available)"
                options.append(f'<option value="{name}">{escape(label)}</option>')
            groups.append(f'<optgroup label="{escape(title)}">{"".join(options)}</optgroup>')
        menu = element("backend")
        chosen = menu.value
        menu.innerHTML = f'<option value="auto">{escape(auto)}</option>{"".join(groups)}'
        menu.value = chosen

    def stats(self) -> dict:
        return {"backend": self.backend, "engine": engines.engine_of(self.backend),
                "wasm_threads": tfbridge.wasm_threads(), "backend_times": self.times}
