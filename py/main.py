"""PyLens page: wires the face-mask pipeline to the page. Loaded by PyScript from site/index.html.

Sources (file, drop, paste, demo, webcam) -> upright pixels on a canvas -> FaceMaskDetector ->
NMS with the sliders' thresholds -> boxes drawn over the picture, a list, timings.
The same `analyse_bytes` serves the page and the headless commands (window.pylens).
"""

from __future__ import annotations

import asyncio
import base64
import json
import tomllib
import traceback
from pathlib import Path

import js
from pyodide.ffi import JsException, create_proxy, to_js
from pyodide.ffi.wrappers import add_event_listener

import bench
import tfbridge
from cards import DetectorCard, ModelCard, SegmenterCard, StyleCard, parse_card
from detector import CANDIDATE_FLOOR, FaceMaskDetector, now_ms
from draw import composite_png, draw_detections, show_picture, show_video_frame
from imaging import ImageError, load_picture
from page import element, fill_menu, show_timings
from results import DecodedFrame, FrameResult, select_detections
from styleview import StyleView
from stylize import TARGETS
from webcam import CameraError, Webcam

CARDS_DIR = Path("models")
DEFAULT_DETECTOR = "aizoo-face-mask"
MODELS_URL = "./models/"
DEMOS_PATH = "demos.toml"
DEMOS_URL = "./demos/"
STAGE_NAMES = {
    "image_decode": "Image decode",
    "capture": "Capture",
    "preprocess": "Preprocess",
    "inference": "Inference",
    "readback": "Readback",
    "box_decode": "Box decode",
    "nms": "NMS",
    "draw": "Draw",
}

document = js.document


def load_cards() -> dict[str, ModelCard]:
    """Every model card PyScript placed in models/ (see pyscript.toml), by id."""
    cards = (parse_card(path.read_text(), path.name) for path in sorted(CARDS_DIR.glob("*.toml")))
    return {card.id: card for card in cards}


def size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


class App:
    def __init__(self) -> None:
        self.cards = load_cards()
        self.detectors = self.cards_of(DetectorCard)
        self.card = self.detectors[DEFAULT_DETECTOR]
        self.style = StyleView(self.cards_of(SegmenterCard), self.cards_of(StyleCard), MODELS_URL,
                               self.download_progress)
        self.view = "mask"
        self.source_size: tuple[int, int] | None = None  # of the picture shown (source pixels)
        self.decode_ms = 0.0
        self._style_pending = False
        self.detector: FaceMaskDetector | None = None
        self.backend = ""
        self.frame: DecodedFrame | None = None
        self.result: FrameResult | None = None
        self.source_name = ""
        self.scale = 1.0
        self.webcam: Webcam | None = None
        self.frames = 0
        self.inferences = 0
        self.leaky_frames = 0
        self.fps = 0.0
        self._last_frame_at = 0.0
        self._frame_loop: asyncio.Task | None = None
        self._opening: Webcam | None = None
        self._one_at_a_time = asyncio.Lock()  # frames, analyses and switches never interleave
        self._api_proxies: list = []

    def cards_of(self, kind: type) -> dict:
        return {card_id: card for card_id, card in self.cards.items() if isinstance(card, kind)}

    # ------------------------------------------------------------ start-up

    async def start(self) -> None:
        """Start-up; each phase ends with a performance mark (pylens: …) that build.py bench reads."""
        js.performance.mark("pylens: app started")
        document.body.dataset.python = "ready"
        params = js.URLSearchParams.new(js.location.search)
        try:
            self.status("Starting TensorFlow.js…")
            await self.use_backend(params.get("backend"))
            js.performance.mark("pylens: backend ready")
            self.fill_model_menu(params.get("model"))
            self.fill_credits()
            await self.load_detector()
            js.performance.mark("pylens: model ready")
        except Exception as exc:  # noqa: BLE001 — any start-up failure must reach the page
            message = str(exc) if isinstance(exc, (tfbridge.ModelLoadError, RuntimeError)) else repr(exc)
            js.console.error(traceback.format_exc())
            self.status("The app could not start.")
            self.show_error(message)
            js.window.pylens = to_js({"error": message}, dict_converter=js.Object.fromEntries)
            return
        element("score").min = CANDIDATE_FLOOR
        self.style.build_controls(self.on_style_change)
        self.bind_events()
        self.add_demo_buttons()
        element("loading").hidden = True
        for id_ in ("open", "webcam", "backend", "model"):
            element(id_).disabled = False
        self.expose_api()
        if params.get("view") == "style":
            await self.show_view("style")

    async def use_backend(self, wanted: str | None) -> None:
        self.backend, note = await tfbridge.select_backend(wanted)
        element("backend").value = wanted if wanted in tfbridge.AUTO_ORDER else "auto"
        element("backend-active").textContent = f"using {tfbridge.BACKEND_NAMES[self.backend]}"
        if note:
            self.show_error(note)

    def fill_model_menu(self, wanted: str | None) -> None:
        """The detector menu, from the detection cards; `?model=` picks one."""
        if wanted in self.detectors:
            self.card = self.detectors[wanted]
        elif wanted:
            self.show_error(f"There is no detector '{wanted}'; using {self.card.name}.")
        fill_menu(element("model"), self.detectors.values(), self.card.id)

    def fill_credits(self) -> None:
        """About: one line per distinct model author and licence, from the cards."""
        credits = element("credits")
        seen = set()
        for card in self.cards.values():
            key = (card.attribution, card.licence, card.homepage)
            if key in seen:
                continue
            seen.add(key)
            item = document.createElement("li")
            link = document.createElement("a")
            link.href, link.textContent = card.homepage, card.attribution
            item.append(link, f" — {card.licence} licence")
            credits.appendChild(item)

    async def load_detector(self) -> None:
        """Load the menu's detector (with download progress), replacing the one in use."""
        element("loading").hidden = False
        self.status(f"Downloading {self.card.name}…")
        detector = await FaceMaskDetector.load(self.card, MODELS_URL, self.model_progress)
        if self.detector is not None:
            self.detector.model.dispose()
        self.detector = detector
        self.colors = [label.color for label in self.card.labels]
        element("loading").hidden = True

    def model_progress(self, received: int, total: int | None) -> None:
        self.download_progress(self.card.name, received, total)

    def download_progress(self, name: str, received: int, total: int | None) -> None:
        element("loading").hidden = False
        progress = element("progress")
        if total:
            progress.max, progress.value = total, received
            self.status(f"Downloading {name}… {size_text(received)} of {size_text(total)}")
        else:
            self.status(f"Downloading {name}… {size_text(received)}")

    def expose_api(self) -> None:
        """window.pylens: what the headless commands and tests call (the same code paths as the UI)."""
        api = js.Object.new()
        for name, fn in (("detectImage", self.api_detect_image), ("stats", self.api_stats),
                         ("startWebcam", self.start_webcam), ("stopWebcam", self.stop_webcam),
                         ("benchFaceMask", self.api_bench), ("benchSegmentStyle", self.api_bench_style),
                         ("soak", self.api_soak),
                         ("showView", self.show_view),
                         ("segmentImage", self.api_segment_image), ("stylizeImage", self.api_stylize_image)):
            proxy = create_proxy(fn)
            self._api_proxies.append(proxy)
            setattr(api, name, proxy)
        api.ready = True
        js.window.pylens = api

    async def api_detect_image(self, data, name: str) -> str:
        return json.dumps(await self.analyse_bytes(data.to_bytes(), name))

    async def api_segment_image(self, data, name: str, model: str) -> str:
        """The person mask of an image as an 8-bit PNG (base64), for `build.py segment`."""
        if model not in self.style.segmenter_cards:
            return json.dumps({"error": f"There is no segmentation model '{model}'."})
        return await self._headless_png(data.to_bytes(), name, lambda canvas: self.style.mask_png(canvas, model))

    async def api_stylize_image(self, data, name: str, style: str, mask: str | None, max_side: int) -> str:
        """An image stylized (whole, or only the person or the background) as a PNG (base64)."""
        if style not in self.style.style_cards:
            return json.dumps({"error": f"There is no style '{style}'."})
        target = mask or "whole"
        if target not in TARGETS:
            return json.dumps({"error": f"The mask must be person or background, not '{mask}'."})
        return await self._headless_png(data.to_bytes(), name,
                                        lambda canvas: self.style.stylized_png(canvas, style, target, int(max_side)))

    async def _headless_png(self, data: bytes, name: str, make_png) -> str:
        await self.stop_webcam()
        async with self._one_at_a_time:
            try:
                picture = load_picture(data, name)
            except ImageError as exc:
                return json.dumps({"error": str(exc)})
            canvas = js.document.createElement("canvas")
            show_picture(canvas, picture)
            try:
                png = await make_png(canvas)
            except tfbridge.ModelLoadError as exc:
                return json.dumps({"error": str(exc)})
            finally:
                element("loading").hidden = True
            return json.dumps({"width": picture.width, "height": picture.height,
                               "png": base64.b64encode(png).decode()})

    async def api_bench(self, frames: int, js_pipeline) -> str:
        """Time the pipeline on the picture shown now against a plain JavaScript one (see bench.py)."""
        async with self._one_at_a_time:
            figures = await bench.face_mask(self.detector, element("picture"), self.result.width,
                                            self.result.height, int(frames), js_pipeline)
        return json.dumps({"backend": self.backend, **figures})

    async def api_soak(self, frames: int) -> str:
        """Run the active view's whole frame on the picture shown now, `frames` times (see bench.py)."""
        async with self._one_at_a_time:
            return json.dumps(await bench.soak(self.run_frame, element("picture"), int(frames)))

    async def api_bench_style(self, frames: int) -> str:
        """Time segment & stylize on the picture shown now, with the view's settings (see bench.py)."""
        async with self._one_at_a_time:
            figures = await bench.segment_style(self.style, element("picture"), int(frames))
        return json.dumps({"backend": self.backend, **figures})

    def api_stats(self) -> str:
        return json.dumps({
            "tensors": tfbridge.tensor_count(),
            "frames": self.frames,
            "inferences": self.inferences,
            "leaky_frames": self.leaky_frames,
            "backend": self.backend,
            "model": self.card.id,
            "view": self.view,
            "style": self.style.style_id,
            "segmenter": self.style.segmenter_id,
            "style_frames": self.style.frames,
            "webcam": self.webcam is not None,
            "result": self.result.as_dict(self.source_name) if self.result else None,
        })

    # ------------------------------------------------------------ page plumbing

    def status(self, text: str) -> None:
        element("status").textContent = text

    def show_error(self, message: str) -> None:
        element("error-text").textContent = message
        element("error").hidden = False

    def show_load_error(self, message: str) -> None:
        """A model could not be loaded: the loading bar goes, the message stays."""
        element("loading").hidden = True
        self.show_error(message)

    def hide_error(self) -> None:
        element("error").hidden = True

    def report_unexpected(self, what: str, exc: BaseException) -> None:
        js.console.error(traceback.format_exc())
        self.show_error(f"Something went wrong while {what}: {exc}. The app is still running; try again "
                        "or with another image.")

    def bind_events(self) -> None:
        file_input = element("file")
        stage = element("stage")
        add_event_listener(element("open"), "click", lambda e: file_input.click())
        add_event_listener(file_input, "change", self.on_file_chosen)
        # The whole page takes drops: a file dropped beside the picture must not make the
        # browser leave the app to show the file.
        add_event_listener(document, "dragover", self.on_drag_over)
        add_event_listener(document, "dragleave", lambda e: stage.classList.remove("dragging"))
        add_event_listener(document, "drop", self.on_drop)
        add_event_listener(stage, "keydown", self.on_stage_key)
        add_event_listener(document, "paste", self.on_paste)
        add_event_listener(element("score"), "input", self.on_threshold)
        add_event_listener(element("iou"), "input", self.on_threshold)
        add_event_listener(element("webcam"), "click", self.on_webcam_button)
        add_event_listener(element("backend"), "change", self.on_backend_change)
        add_event_listener(element("model"), "change", self.on_model_change)
        add_event_listener(element("save-png"), "click", self.on_save_png)
        add_event_listener(element("style-save-png"), "click", self.on_save_png)
        add_event_listener(element("view-mask"), "click", self.view_handler("mask"))
        add_event_listener(element("view-style"), "click", self.view_handler("style"))
        add_event_listener(element("save-json"), "click", self.on_save_json)
        add_event_listener(element("error-close"), "click", lambda e: self.hide_error())

    def view_handler(self, view: str):
        async def on_click(event) -> None:
            await self.show_view(view)
        return on_click

    async def show_view(self, view: str) -> None:
        """Switch between face-mask detection and segment & stylize; the picture shown is processed again."""
        if view == self.view or view not in ("mask", "style"):
            return
        self.view = view
        for name in ("mask", "style"):
            element(f"view-{name}").setAttribute("aria-selected", "true" if name == view else "false")
            element(f"{name}-panel").hidden = name != view
        element("model-label").hidden = view != "mask"
        self.set_url_param("view", None if view == "mask" else view)
        if self.source_size is not None and self.webcam is None:
            async with self._one_at_a_time:
                await self.guarded_rerun()

    async def on_style_change(self, event) -> None:
        """A style control moved: process the picture again, coalescing changes that arrive meanwhile."""
        self.style.read_controls()
        if self.view != "style" or self.source_size is None or self.webcam is not None:
            return
        if self._style_pending:
            return
        self._style_pending = True
        async with self._one_at_a_time:
            self._style_pending = False
            await self.guarded_rerun()

    async def guarded_rerun(self) -> None:
        try:
            await self.rerun()
        except tfbridge.ModelLoadError as exc:
            self.show_load_error(str(exc))
        except Exception as exc:  # noqa: BLE001
            self.report_unexpected("processing the picture", exc)

    def add_demo_buttons(self) -> None:
        with open(DEMOS_PATH, "rb") as f:
            demos = tomllib.load(f)["demos"]
        holder = element("demos")
        for demo in demos:
            button = document.createElement("button")
            button.type = "button"
            button.textContent = f"Demo: {demo['title']}"
            button.title = f"Photo from {demo['credit']}"
            add_event_listener(button, "click", self.demo_handler(demo["file"]))
            holder.appendChild(button)

    def demo_handler(self, file: str):
        async def on_click(event) -> None:
            await self.open_demo(file)
        return on_click

    # ------------------------------------------------------------ sources

    async def analyse_file(self, file) -> dict:
        """A File from the picker, a drop or a paste."""
        try:
            data = (await file.arrayBuffer()).to_bytes()
        except JsException as exc:
            message = f"{file.name} could not be read ({exc})."
            self.show_error(message)
            return {"error": message}
        return await self.analyse_bytes(data, file.name or "pasted image")

    async def open_demo(self, file: str) -> None:
        response = await js.fetch(DEMOS_URL + file)
        if not response.ok:
            self.show_error(f"The demo image {file} is not on the server (HTTP {response.status}).")
            return
        await self.analyse_bytes((await response.arrayBuffer()).to_bytes(), file)

    async def analyse_bytes(self, data: bytes, name: str) -> dict:
        """Decode an image, show it and detect on it. Bad input leaves the previous picture in place."""
        await self.stop_webcam()
        async with self._one_at_a_time:
            return await self._analyse(data, name)

    async def _analyse(self, data: bytes, name: str) -> dict:
        timings: dict[str, float] = {}
        start = now_ms()
        try:
            picture = load_picture(data, name)
        except ImageError as exc:
            self.show_error(str(exc))
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 — a decoder bug must not take the app down
            self.report_unexpected(f"decoding {name}", exc)
            return {"error": f"{name} could not be decoded ({exc})."}
        canvas = element("picture")
        show_picture(canvas, picture)
        timings["image_decode"] = self.decode_ms = now_ms() - start
        self.hide_error()
        self.show_stage()
        self.source_name = name
        self.source_size = (picture.source_width, picture.source_height)
        self.scale = picture.width / picture.source_width
        try:
            return await self.run_frame(canvas, timings)
        except tfbridge.ModelLoadError as exc:
            self.show_load_error(str(exc))
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001
            self.report_unexpected(f"analysing {name}", exc)
            return {"error": f"{name} could not be analysed ({exc})."}

    def show_stage(self) -> None:
        element("placeholder").hidden = True
        for id_ in ("save-png", "save-json", "style-save-png"):
            element(id_).disabled = False

    # ------------------------------------------------------------ the pipeline

    async def run_frame(self, source, timings: dict[str, float]) -> dict:
        """The active view's pipeline on the picture canvas: detections, or the stylized picture."""
        if self.view == "style":
            await self.style.prepare()
        tensors_before = tfbridge.tensor_count()
        if self.view == "style":
            result = await self.style.run_frame(source, element("overlay"), timings)
            element("loading").hidden = True
        else:
            self.frame = await self.detector.infer(source, timings)
            self.inferences += 1
            self.result = FrameResult(*self.source_size, [], timings)
            result = self.postprocess().as_dict()
        self.check_tensors(tensors_before)
        return result

    def check_tensors(self, before: int) -> None:
        """A frame must leave as many tensors as it found; more is a leak, warned about once."""
        count = tfbridge.tensor_count()
        if count != before:
            self.leaky_frames += 1
            if self.leaky_frames == 1:
                js.console.warn(f"tf.js tensor leak: {count} tensors after a frame, {before} before it")

    def thresholds(self) -> tuple[float, float]:
        return float(element("score").value), float(element("iou").value)

    def postprocess(self) -> FrameResult:
        """NMS with the current thresholds and drawing, on the last frame's model output."""
        result = self.result
        score, iou = self.thresholds()
        start = now_ms()
        result.detections = select_detections(self.frame, self.card, result.width, result.height, score, iou)
        mark = now_ms()
        overlay, picture = element("overlay"), element("picture")
        if overlay.width != picture.width or overlay.height != picture.height:
            overlay.width, overlay.height = picture.width, picture.height
        draw_detections(overlay, result.detections, self.colors, self.scale)
        self.render_detections(result)
        result.timings_ms.update(nms=mark - start, draw=now_ms() - mark)
        show_timings(element("timings"), result.timings_ms, STAGE_NAMES)
        return result

    def render_detections(self, result: FrameResult) -> None:
        items = element("detections")
        items.replaceChildren()
        for det in result.detections:
            item = document.createElement("li")
            label = document.createElement("span")
            label.className = det.label
            label.textContent = f"{det.label} {det.score:.2f}"
            box = document.createElement("span")
            box.className = "box"
            box.textContent = " [{}, {}, {}, {}]".format(*det.box)
            item.append(label, box)
            items.appendChild(item)
        counts = {lab.name: 0 for lab in self.card.labels}
        for det in result.detections:
            counts[det.label] += 1
        element("summary").textContent = ", ".join(f"{n} {name}" for name, n in counts.items())

    # ------------------------------------------------------------ events

    async def on_file_chosen(self, event) -> None:
        files = event.target.files
        if files.length:
            await self.analyse_file(files.item(0))
        event.target.value = ""  # choosing the same file again fires `change` again

    def on_drag_over(self, event) -> None:
        event.preventDefault()
        element("stage").classList.add("dragging")

    async def on_drop(self, event) -> None:
        event.preventDefault()
        element("stage").classList.remove("dragging")
        files = event.dataTransfer.files
        if not files.length:
            self.show_error("Nothing to analyse: drop an image file (from your files, not a link or text).")
            return
        await self.analyse_file(files.item(0))

    async def on_paste(self, event) -> None:
        items = event.clipboardData.items if event.clipboardData else []
        for item in items:
            if item.kind == "file" and item.type.startswith("image/"):
                event.preventDefault()
                await self.analyse_file(item.getAsFile())
                return
        if event.target.tagName not in ("INPUT", "TEXTAREA", "SELECT"):
            self.show_error("The clipboard holds no image. Copy an image itself (not its file name), "
                            "then paste again.")

    def on_stage_key(self, event) -> None:
        if event.key in ("Enter", " ") and self.webcam is None:
            event.preventDefault()
            element("file").click()

    def on_threshold(self, event) -> None:
        score, iou = self.thresholds()
        element("score-value").textContent = f"{score:.2f}"
        element("iou-value").textContent = f"{iou:.2f}"
        if self.frame is not None and self.webcam is None and self.view == "mask":
            self.postprocess()

    async def on_backend_change(self, event) -> None:
        wanted = event.target.value
        select = element("backend")
        select.disabled = True
        async with self._one_at_a_time:
            try:
                await self.use_backend(None if wanted == "auto" else wanted)
                await tfbridge.warm_up(self.detector.model, self.card)
                self.set_url_param("backend", None if wanted == "auto" else wanted)
                if self.source_size is not None and self.webcam is None:
                    await self.rerun()
            except Exception as exc:  # noqa: BLE001
                self.report_unexpected("switching the backend", exc)
        select.disabled = False

    async def on_model_change(self, event) -> None:
        menu = element("model")
        menu.disabled = True
        previous = self.card
        async with self._one_at_a_time:
            self.card = self.detectors[menu.value]
            try:
                await self.load_detector()
            except tfbridge.ModelLoadError as exc:
                self.card, menu.value = previous, previous.id
                self.show_load_error(f"{exc} Still using {previous.name}.")
            else:
                self.set_url_param("model", None if self.card.id == DEFAULT_DETECTOR else self.card.id)
                if self.source_size is not None and self.webcam is None and self.view == "mask":
                    await self.rerun()
        menu.disabled = False

    def set_url_param(self, name: str, value: str | None) -> None:
        """Keep a choice in the address, so that a reload or a shared link keeps it."""
        url = js.URL.new(js.location.href)
        if value is None:
            url.searchParams.delete(name)
        else:
            url.searchParams.set(name, value)
        js.history.replaceState(None, "", url.href)

    async def rerun(self) -> None:
        """Run the active view again on the picture shown (after a view, backend, model or style change)."""
        await self.run_frame(element("picture"), {"image_decode": self.decode_ms})

    def on_save_png(self, event) -> None:
        suffix = "stylized" if self.view == "style" else "detections"
        self.download(composite_png(element("picture"), element("overlay")), f"{self.stem()}-{suffix}.png")

    def on_save_json(self, event) -> None:
        if self.result is None:
            return
        text = json.dumps(self.result.as_dict(self.source_name), indent=2)
        blob = js.Blob.new(to_js([text]), to_js({"type": "application/json"}, dict_converter=js.Object.fromEntries))
        url = js.URL.createObjectURL(blob)
        self.download(url, f"{self.stem()}-detections.json")
        js.URL.revokeObjectURL(url)

    def stem(self) -> str:
        return (self.source_name.rsplit(".", 1)[0] or "pylens").replace("/", "_")

    def download(self, url: str, filename: str) -> None:
        link = document.createElement("a")
        link.href, link.download = url, filename
        link.click()

    # ------------------------------------------------------------ webcam

    async def on_webcam_button(self, event) -> None:
        if self.webcam is None:
            await self.start_webcam()
        else:
            await self.stop_webcam()

    async def start_webcam(self) -> bool:
        if self.webcam is not None:
            return True
        button = element("webcam")
        button.disabled = True
        cam = self._opening = Webcam(element("video"))
        try:
            await cam.open()
        except CameraError as exc:
            cam.close()
            self.show_error(str(exc))
            return False
        finally:
            button.disabled = False
        if self._opening is not cam:  # an image was opened while the camera started
            cam.close()
            return False
        self._opening = None
        self.hide_error()
        self.webcam = cam
        self.frames, self.fps, self._last_frame_at = 0, 0.0, 0.0
        self.source_name, self.scale = "webcam", 1.0
        button.textContent = "Stop webcam"
        button.setAttribute("aria-pressed", "true")
        self.show_stage()
        self._frame_loop = asyncio.ensure_future(self.webcam_loop())
        return True

    async def stop_webcam(self) -> None:
        """Stop the camera (or its start) and wait for the frame in progress, so nothing draws after it."""
        self._opening = None
        self.release_camera()
        if self._frame_loop is not None:
            await self._frame_loop
            self._frame_loop = None

    def release_camera(self) -> None:
        cam, self.webcam = self.webcam, None
        if cam is None:
            return
        cam.close()
        button = element("webcam")
        button.textContent = "Start webcam"
        button.setAttribute("aria-pressed", "false")
        element("fps").textContent = element("style-fps").textContent = ""

    async def webcam_loop(self) -> None:
        """Process the newest camera frame whenever the previous one is done: frames that arrive
        while a frame is being processed are dropped, never queued. Detection runs on the frame as
        shown (mirrored), so boxes and the saved PNG and JSON all agree with the preview."""
        cam = self.webcam
        canvas = element("picture")
        while self.webcam is cam:
            try:
                await cam.next_frame()
                async with self._one_at_a_time:  # a re-run of the view or a switch may be under way
                    if self.webcam is not cam:
                        break
                    start = now_ms()
                    show_video_frame(canvas, cam.video, mirrored=True)
                    self.source_size = (canvas.width, canvas.height)
                    timings = {"capture": now_ms() - start}
                    await self.run_frame(canvas, timings)
            except Exception as exc:  # noqa: BLE001
                if self.webcam is cam:
                    self.release_camera()
                    self.report_unexpected("processing the webcam", exc)
                break
            self.count_frame(start)

    def count_frame(self, started: float) -> None:
        self.frames += 1
        if self._last_frame_at:
            instant = 1000.0 / max(started - self._last_frame_at, 1e-3)
            self.fps = instant if self.fps == 0 else 0.9 * self.fps + 0.1 * instant
            element("fps").textContent = element("style-fps").textContent = f"{self.fps:.1f} fps"
        self._last_frame_at = started


app = App()
asyncio.ensure_future(app.start())
