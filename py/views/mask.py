"""The "Face masks" view: a detector chosen from the detection cards, NMS with the sliders'
thresholds, boxes drawn over the picture, the list of detections, and the results saved as JSON."""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING

import engines
import names
import page
import start
import tfbridge
from cards import DetectorCard
from clock import now_ms
from detector import SsdDetector, load_detector
from draw import draw_detections
from page import element, fill_menu, show_timings
from results import DecodedFrame, FrameResult, select_detections
from ssd import CANDIDATE_FLOOR

if TYPE_CHECKING:
    from views.protocol import ViewContext


class MaskView:
    name = "mask"
    roles = ("detect",)
    setting_controls = ("detector-label",)  # the detector menu
    save_buttons = ("mask-save-png", "mask-save-json")
    fps_output = "mask-fps"
    kept_tensors = 0

    def __init__(self, context: ViewContext) -> None:
        self.context = context
        self.stage = context.stage
        self.detectors: dict[str, DetectorCard] = context.cards_of(DetectorCard)
        self.card = self.detectors[start.default_detector()]
        self.detector: SsdDetector | None = None
        self.frame: DecodedFrame | None = None  # the last frame's candidates, before NMS
        self.result: FrameResult | None = None
        self.shown_thresholds: tuple[float, float] | None = None  # of the result shown: score, IoU
        self.inferences = 0

    # ------------------------------------------------------------ the detector

    def choose_detector(self, wanted: str | None) -> None:
        """The detector menu, from the detection cards; `?model=` picks one."""
        if wanted in self.detectors:
            self.card = self.detectors[wanted]
        elif wanted:
            page.show_error(f"There is no detector '{wanted}'; using {self.card.name}.")
        fill_menu(element("detector"), self.detectors.values(), self.card.id)

    async def load_detector(self, building: str | None = None) -> None:
        """Load the menu's detector, replacing the one in use: with download progress, or, when
        `building` says what is going on (a backend switch: its files are at hand), with that."""
        card = self.card
        if building is None:
            page.status(f"Downloading {card.name}…")
        else:
            page.busy(building)

        def progress(received: int, total: int | None) -> None:
            if building is None:
                page.download_progress(card.name, received, total)
            else:
                page.busy_progress(received, total)

        detector = await load_detector(card, self.context.models_url, progress)
        if self.detector is not None:
            self.detector.dispose()
        self.detector = detector
        if building is None:
            element("loading").hidden = True
        if detector.note:
            page.show_error(detector.note)

    async def card_changed(self, card) -> None:
        if card.id not in self.detectors:
            return
        self.detectors[card.id] = card
        if card.id == self.card.id:
            self.card = card
            await self.load_detector()

    async def backend_changed(self) -> None:
        """tf.js 4.22 moves a model's weights out of WebGPU as zeros: the detector is built again."""
        backend = names.BACKEND_NAMES[engines.backend_in_use()]
        await self.load_detector(building=f"Building {self.card.name} for {backend}…")

    # ------------------------------------------------------------ controls

    def build_controls(self) -> None:
        element("mask-score").min = CANDIDATE_FLOOR
        listen = self.context.listen
        listen("input", {"mask-score": self.on_threshold, "mask-iou": self.on_threshold,
                         "detector": self.on_detector_change})
        listen("click", {"mask-save-png": self.on_save_png, "mask-save-json": self.on_save_json})

    def thresholds(self) -> tuple[float, float]:
        return float(element("mask-score").value), float(element("mask-iou").value)

    async def on_threshold(self) -> None:
        """New thresholds: NMS again on the last frame's candidates, without running the model."""
        score, iou = self.thresholds()
        element("mask-score-value").textContent = f"{score:.2f}"
        element("mask-iou-value").textContent = f"{iou:.2f}"
        if self.frame is not None and self.context.shows_still(self):
            async with self.stage.one_at_a_time:
                await self.postprocess(with_picture=False)

    async def on_detector_change(self) -> None:
        menu = element("detector")
        menu.disabled = True
        previous = self.card
        async with self.stage.one_at_a_time:
            self.card = self.detectors[menu.value]
            try:
                await self.load_detector()
            except tfbridge.ModelLoadError as exc:
                self.card, menu.value = previous, previous.id
                page.show_load_error(f"{exc} Still using {previous.name}.")
            else:
                page.set_url_param("model", None if self.card.id == start.default_detector() else self.card.id)
                await self.context.detector_changed()
                if self.context.shows_still(self):
                    await self.context.rerun()
        menu.disabled = False

    async def on_save_png(self) -> None:
        await self.stage.save_png("detections")

    def on_save_json(self) -> None:
        if self.result is None:
            return
        text = json.dumps(self.result.as_dict(self.stage.name), indent=2)
        page.download_text(text, "application/json", f"{self.stage.stem()}-detections.json")

    # ------------------------------------------------------------ the frame

    async def opened(self) -> bool:
        return False

    async def prepare(self) -> None:
        """The detector is loaded at start and on each change: nothing to load before a frame."""

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """Detect on the picture canvas, draw the boxes over it and show both; the result as a dict."""
        self.frame = await self.detector.infer(picture, timings)
        self.inferences += 1
        self.result = FrameResult(*self.stage.size, [], timings)
        return (await self.postprocess(with_picture=True)).as_dict()

    async def postprocess(self, with_picture: bool) -> FrameResult:
        """NMS with the current thresholds and drawing, on the last frame's model output; the
        overlay is shown with the picture when that is new too."""
        result = self.result
        score, iou = self.thresholds()
        self.shown_thresholds = (score, iou)
        start = now_ms()
        result.detections = select_detections(self.frame, self.card, result.width, result.height, score, iou)
        mark = now_ms()
        overlay, picture = self.stage.overlay, self.stage.picture
        if overlay.width != picture.width or overlay.height != picture.height:
            overlay.width, overlay.height = picture.width, picture.height
        draw_detections(overlay, result.detections, [label.color for label in self.card.labels], self.stage.scale)
        await self.stage.present(with_picture)
        self.render_detections(result)
        result.timings_ms.update(nms=mark - start, draw=now_ms() - mark)
        show_timings(element("mask-timings"), result.timings_ms)
        return result

    def render_detections(self, result: FrameResult) -> None:
        """The list of detections and the count by label. Written as one piece of HTML: from a
        worker every DOM call is a round trip to the page."""
        element("mask-detections").innerHTML = "".join(
            f'<li><span class="{escape(det.label)}">{escape(det.label)} {det.score:.2f}</span>'
            '<span class="box"> [{}, {}, {}, {}]</span></li>'.format(*det.box) for det in result.detections)
        counts = {lab.name: 0 for lab in self.card.labels}
        for det in result.detections:
            counts[det.label] += 1
        element("mask-summary").textContent = (", ".join(f"{n} {name}" for name, n in counts.items())
                                          if result.detections else "No faces found")

    def stats(self) -> dict:
        return {"model": self.card.id, "inferences": self.inferences,
                "result": self.result.as_dict(self.stage.name) if self.result else None,
                "thresholds": self.shown_thresholds}
