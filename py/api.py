"""The headless API, window.pylens: what `build.py detect`, `segment`, `stylize`, the bench and the
tests call, on the same code paths as the page's controls. The shell (site/shell/api.mjs) forwards each
call over its channel; `stats()` it answers itself, from what `publish` sent last. The views are
found by role: the detecting view benches detection, the stylizing view stylizes, and so on.
"""

from __future__ import annotations

import base64
import json
import sys
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pyscript import window

import engines
import names
import tfbridge
from draw import new_canvas, show_picture
from intake import decode_picture
from masks import TARGETS
from page import element
from picture import ImageError

if TYPE_CHECKING:
    from backends import Backends
    from feed import FrameFeed
    from intake import Intake
    from shell import Shell
    from stage import Stage
    from viewer import Viewer


class HeadlessApi:
    def __init__(self, shell: Shell, stage: Stage, viewer: Viewer, intake: Intake, feed: FrameFeed,
                 backends: Backends, parts: Iterable) -> None:
        self.shell, self.stage, self.viewer, self.intake, self.feed = shell, stage, viewer, intake, feed
        self.backends = backends
        self.parts = tuple(parts)  # each has `stats()`: its part of the app's state

    def methods(self) -> dict:
        return {names.DETECT_IMAGE: self.detect_image, names.SEGMENT_IMAGE: self.segment_image,
                names.STYLIZE_IMAGE: self.stylize_image, names.START_WEBCAM: self.feed.start_camera,
                names.STOP_WEBCAM: self.feed.stop, names.SHOW_VIEW: self.viewer.show,
                names.BENCH_FACE_MASK: self.bench_detection, names.BENCH_SEGMENT_STYLE: self.bench_style,
                names.BENCH_MODELS: self.bench_models,
                names.SOAK: self.soak, names.BATCH_RESULTS: self.batch_results,
                names.PYTHON_MODULES: self.python_modules}

    async def on_call(self, message) -> None:
        """A window.pylens call forwarded by the shell: its answer, or the error that stopped it."""
        try:
            value = await self.methods()[message.method](*message.args)
        except Exception as exc:  # noqa: BLE001 — the caller must hear of it, not wait for ever
            window.console.error(traceback.format_exc())
            self.shell.send("reply", id=message.id, error=f"{message.method} failed: {exc!r}")
            return
        self.publish()
        self.shell.send("reply", id=message.id, value=value)

    def publish(self) -> None:
        """Send the shell the app's state, which window.pylens.stats() answers."""
        self.shell.send("stats", json=json.dumps(self.stats()))

    def stats(self) -> dict:
        stats = {"tensors": tfbridge.tensor_count()}
        for part in self.parts:
            stats |= part.stats()
        return stats

    # ---- the calls

    async def batch_results(self) -> str:
        return json.dumps(self.viewer.by_role("batch").results())

    async def python_modules(self) -> str:
        return json.dumps(sorted(sys.modules))

    async def detect_image(self, data, name: str) -> str:
        return json.dumps(await self.intake.analyse_bytes(data.to_bytes(), name))

    async def segment_image(self, data, name: str, model: str) -> str:
        """The person mask of an image as an 8-bit PNG (base64), for `build.py segment`."""
        view = self.viewer.by_role("segment")
        if model not in view.segmenter_cards:
            return json.dumps({"error": f"There is no segmentation model '{model}'."})
        return await self._png(data.to_bytes(), name, lambda canvas: view.mask_png(canvas, model))

    async def stylize_image(self, data, name: str, style_id: str, mask: str | None, max_side: int) -> str:
        """An image stylized (whole, or only the person or the background) as a PNG (base64)."""
        view = self.viewer.by_role("stylize")
        if style_id not in view.style_cards:
            return json.dumps({"error": f"There is no style '{style_id}'."})
        target = mask or "whole"
        if target not in TARGETS:
            return json.dumps({"error": f"The mask must be person or background, not '{mask}'."})
        return await self._png(data.to_bytes(), name,
                               lambda canvas: view.stylized_png(canvas, style_id, target, int(max_side)))

    async def _png(self, data: bytes, name: str, make_png) -> str:
        await self.feed.stop()
        async with self.stage.one_at_a_time:
            try:
                picture = await decode_picture(data, name)
            except ImageError as exc:
                return json.dumps({"error": str(exc)})
            canvas = new_canvas(picture.width, picture.height)
            show_picture(canvas, picture)
            try:
                png = await make_png(canvas)
            except tfbridge.ModelLoadError as exc:
                return json.dumps({"error": str(exc)})
            finally:
                element("loading").hidden = True
            return json.dumps({"width": picture.width, "height": picture.height,
                               "png": base64.b64encode(png).decode()})

    async def bench_detection(self, frames: int) -> str:
        """Time the pipeline on the picture shown now against the plain JavaScript one that the page
        holds as window.jsReference, run on the page's picture canvas (see bench.py)."""
        import bench  # noqa: PLC0415 — imported by the bench alone, not at every start

        view = self.viewer.by_role("detect")
        async with self.stage.one_at_a_time:
            figures = await bench.face_mask(view.detector, self.stage.picture, view.result.width,
                                            view.result.height, int(frames), getattr(window, "jsReference", None),
                                            element("picture"))
        return json.dumps({"backend": engines.backend_in_use(), **figures})

    async def soak(self, frames: int) -> str:
        """Run the active view's whole frame on the picture shown now, `frames` times (see bench.py)."""
        import bench  # noqa: PLC0415 — as in bench_detection

        async with self.stage.one_at_a_time:
            return json.dumps(await bench.soak(self.viewer.run_frame, self.stage.picture, int(frames)))

    async def bench_style(self, frames: int) -> str:
        """Time segment & stylize on the picture shown now, with the view's settings (see bench.py)."""
        import bench  # noqa: PLC0415 — as in bench_detection

        async with self.stage.one_at_a_time:
            figures = await bench.segment_style(self.viewer.by_role("stylize"), self.stage.picture, int(frames))
        return json.dumps({"backend": engines.backend_in_use(), **figures})

    async def bench_models(self, backends, frames: int) -> str:
        """Time each model alone on each backend named (see bench.py), then go back to the backend
        chosen before."""
        import bench  # noqa: PLC0415 — as in bench_detection

        chosen = element("backend").value
        style = self.viewer.by_role("stylize")
        cards = [*self.viewer.by_role("detect").detectors.values(), *style.segmenter_cards.values(),
                 *style.style_cards.values()]
        async with self.stage.one_at_a_time:
            try:
                figures = await bench.models_on_backends(self.backends.switch, cards, self.backends.models_url,
                                                         list(backends), int(frames))
            finally:
                await self.backends.switch(None if chosen == "auto" else chosen)
        return json.dumps(figures)
