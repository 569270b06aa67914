"""PyLens page: wires the face-mask pipeline to the page. Started by site/shell.js: in a PyScript
worker when the page is cross-origin isolated (the page never waits for Python or tf.js), else on
the page.

Sources (file, drop, paste, demo, webcam; handed over by the shell) -> upright pixels on an
OffscreenCanvas -> FaceMaskDetector -> NMS with the sliders' thresholds -> boxes drawn over the
picture, shown by the shell; a list and timings in the page. The same `analyse_bytes` serves the
page and the headless commands (window.pylens, which the shell forwards here).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import traceback
from html import escape
from pathlib import Path

import js
import pyodide_js
from pyodide.ffi import JsException
from pyodide.ffi.wrappers import add_event_listener
from pyscript import document, window
from pyscript.ffi import to_js

import shell
import tfbridge
from cards import DetectorCard, ModelCard, SegmenterCard, StyleCard, parse_card
from detector import CANDIDATE_FLOOR, FaceMaskDetector, now_ms
from draw import composite_png, draw_detections, new_canvas, show_bitmap, show_picture
from page import element, fill_menu, show_timings
from picture import ImageError, Picture
from results import DecodedFrame, FrameResult, select_detections
from styleview import StyleView
from stylize import TARGETS
from webcam import Webcam, camera_error

CARDS_DIR = Path("models")
CLEARLY_FASTER = 1.25  # on automatic, a backend measured this many times faster is switched to
DEFAULT_DETECTOR = str(js.pylensStart.defaultDetector)  # the one site/start.mjs downloads as the app starts
# Absolute: in a worker, relative URLs would resolve against the worker's script, not the page.
PAGE_URL = str(window.location.href)
MODELS_URL = js.URL.new("./models/", PAGE_URL).href
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


def load_cards() -> dict[str, ModelCard]:
    """Every model card PyScript placed in models/ (see pyscript.toml), by id."""
    cards = (parse_card(path.read_text(), path.name) for path in sorted(CARDS_DIR.glob("*.toml")))
    return {card.id: card for card in cards}


def stdlib_modules() -> list[str]:
    """The standard-library packages imported now: what a snapshot of Python can hold for the next visit."""
    return sorted({name.split(".")[0] for name in sys.modules} & sys.stdlib_module_names)


_pillow = None  # Pillow's loading (a promise), from the first picture to decode or the first result


async def load_pillow() -> None:
    """Load Pillow, which the first result does not wait for (a demo photo is decoded by the
    browser). Raises ImageError when it cannot be downloaded; the next call tries again."""
    global _pillow
    if _pillow is None:
        _pillow = pyodide_js.loadPackage("pillow")
    try:
        await _pillow
    except JsException as exc:
        _pillow = None
        raise ImageError(f"Pillow, which decodes pictures, could not be downloaded ({exc}). Check the "
                         "connection and try again.") from None


async def decode_picture(data: bytes, name: str) -> Picture:
    """Decode image bytes with py/imaging.py (Pillow). Raises ImageError."""
    await load_pillow()
    import imaging  # noqa: PLC0415 — with Pillow, now loaded

    return imaging.load_picture(data, name)


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
        self.shown_thresholds: tuple[float, float] | None = None
        self.source_name = ""
        self.scale = 1.0
        self.shell: shell.Shell | None = None
        # The picture and what is drawn over it, here; the shell shows them on the page's canvases.
        self.picture = new_canvas(640, 480)
        self.overlay = new_canvas(640, 480)
        self.webcam: Webcam | None = None
        self.frames = 0
        self.inferences = 0
        self.leaky_frames = 0
        self.fps = 0.0
        self._last_frame_at = 0.0
        self._frame_loop: asyncio.Task | None = None
        self._camera_opening = False  # the shell is opening the camera, and nothing has cancelled it since
        self._camera_answer: asyncio.Future | None = None  # startWebcam waits on it
        self._one_at_a_time = asyncio.Lock()  # frames, analyses and switches never interleave
        self.snapshot = str(js.pylensStart.snapshot)  # of Python, for a quicker next visit (site/start.mjs)
        self.backend_times: dict[str, float] = {}  # the detector's time on each backend, in ms, measured here
        self.lost_backends: set[str] = set()  # stopped working in this visit: automatic passes them over
        self._after_first_result: asyncio.Task | None = None
        self._backend_choices = 0  # one more at each choice of backend: a watch for an earlier one ends

    def cards_of(self, kind: type) -> dict:
        return {card_id: card for card_id, card in self.cards.items() if isinstance(card, kind)}

    # ------------------------------------------------------------ start-up

    async def start(self) -> None:
        """Start-up; each phase ends with a performance mark (pylens: …) that build.py bench reads."""
        window.performance.mark("pylens: app started")
        document.body.dataset.python = "ready"
        params = js.URLSearchParams.new(str(window.location.search))
        self.shell = shell.connect()
        try:
            self.status("Starting TensorFlow.js…")
            await tfbridge.load_tfjs()
            await self.use_backend(params.get("backend"), at_start=True)
            window.performance.mark("pylens: backend ready")
            self.fill_model_menu(params.get("model"))
            self.fill_credits()
            await self.load_detector()
            window.performance.mark("pylens: model ready")
        except Exception as exc:  # noqa: BLE001 — any start-up failure must reach the page
            message = str(exc) if isinstance(exc, (tfbridge.ModelLoadError, RuntimeError)) else repr(exc)
            window.console.error(traceback.format_exc())
            self.status("The app could not start.")
            self.show_error(message)
            self.shell.send("failed", error=message)
            return
        element("score").min = CANDIDATE_FLOOR
        self.backend_times = await tfbridge.kept_backend_times(self.card.id)
        self.show_backend_times()
        self.style.build_controls(self.publishing(self.on_style_change))
        self.bind_events()
        element("loading").hidden = True
        for id_ in ("backend", "model"):
            element(id_).disabled = False
        if params.get("view") == "style":
            await self.show_view("style")
        self.listen_to_shell()

    def listen_to_shell(self) -> None:
        """Take what the shell sends: images (those given before now were kept), camera news, calls."""
        self.shell.on("call", self.on_call)  # publishes before it answers
        for kind, handler in (("image", self.on_image), ("demo", self.on_demo),
                              ("nothing-dropped", self.on_nothing_dropped),
                              ("nothing-pasted", self.on_nothing_pasted), ("camera", self.on_camera)):
            self.shell.on(kind, self.publishing(handler))
        self.publish()
        self.shell.send("ready", methods=list(self.api()))
        self.shell.listen()

    async def use_backend(self, wanted: str | None, at_start: bool = False) -> None:
        """Switch to the backend `wanted` (None: automatic); at start, take the one site/start.mjs
        chose for the page's `wanted`. Then watch it, in case it stops working."""
        self.backend, note = await (tfbridge.page_backend() if at_start else
                                    tfbridge.select_backend(wanted, self.backend_times, self.lost_backends))
        self.lost_backends.discard(self.backend)  # chosen again, and working
        element("backend").value = wanted if wanted in tfbridge.BACKENDS else "auto"
        element("backend-active").textContent = f"using {tfbridge.BACKEND_NAMES[self.backend]}"
        if note:
            self.show_error(note)
        self._backend_choices += 1
        asyncio.ensure_future(self.watch_backend(self._backend_choices))

    async def watch_backend(self, choice: int) -> None:
        """When the backend in use stops working (a lost WebGPU device or WebGL context), say so and
        carry on, on the next fastest, with the picture shown analysed again."""
        backend, reason = await tfbridge.backend_lost()
        if choice != self._backend_choices:  # another backend was chosen since
            return
        self.lost_backends.add(backend)
        async with self._one_at_a_time:  # the frame in flight fails with BackendLost
            try:
                await self.switch_backend(None)
            except Exception as exc:  # noqa: BLE001
                self.report_unexpected(f"leaving {tfbridge.BACKEND_NAMES[backend]}, which stopped working", exc)
                return
        self.show_error(f"{tfbridge.BACKEND_NAMES[backend]} stopped working ({reason}); carrying on with "
                        f"{tfbridge.BACKEND_NAMES[self.backend]}.")
        self.show_backend_times()
        self.publish()

    async def switch_backend(self, wanted: str | None) -> None:
        """Switch to the backend `wanted` (None: automatic), build the models again on it (tf.js 4.22
        moves a model's weights out of WebGPU as zeros) and run the picture shown again. Call holding
        the lock."""
        await self.use_backend(wanted)
        await self.load_detector()
        self.style.unload_models()
        if self.source_size is not None and self.webcam is None:
            await self.rerun()

    def fill_model_menu(self, wanted: str | None) -> None:
        """The detector menu, from the detection cards; `?model=` picks one."""
        if wanted in self.detectors:
            self.card = self.detectors[wanted]
        elif wanted:
            self.show_error(f"There is no detector '{wanted}'; using {self.card.name}.")
        fill_menu(element("model"), self.detectors.values(), self.card.id)

    def fill_credits(self) -> None:
        """About: one line per distinct model author and licence, from the cards."""
        credits = dict.fromkeys((card.attribution, card.licence, card.homepage) for card in self.cards.values())
        element("credits").innerHTML = "".join(
            f'<li><a href="{escape(homepage)}">{escape(author)}</a> — {escape(licence)} licence</li>'
            for author, licence, homepage in credits)

    async def load_detector(self) -> None:
        """Load the menu's detector (with download progress), replacing the one in use."""
        element("loading").hidden = False
        self.status(f"Downloading {self.card.name}…")
        detector = await FaceMaskDetector.load(self.card, MODELS_URL, self.model_progress)
        if self.detector is not None:
            self.detector.dispose()
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

    def api(self) -> dict:
        """window.pylens: what the headless commands and tests call (the same code paths as the UI).
        The shell forwards each call here; `stats` it answers itself, from what `publish` sent last."""
        return {"detectImage": self.api_detect_image, "startWebcam": self.start_webcam,
                "stopWebcam": self.stop_webcam, "benchFaceMask": self.api_bench,
                "benchSegmentStyle": self.api_bench_style, "soak": self.api_soak, "showView": self.show_view,
                "segmentImage": self.api_segment_image, "stylizeImage": self.api_stylize_image}

    async def on_call(self, message) -> None:
        """A window.pylens call forwarded by the shell: its answer, or the error that stopped it."""
        try:
            value = await self.api()[message.method](*message.args)
        except Exception as exc:  # noqa: BLE001 — the caller must hear of it, not wait for ever
            window.console.error(traceback.format_exc())
            self.shell.send("reply", id=message.id, error=f"{message.method} failed: {exc!r}")
            return
        self.publish()
        self.shell.send("reply", id=message.id, value=value)

    def publish(self) -> None:
        """Send the shell the app's state, which window.pylens.stats() answers."""
        self.shell.send("stats", json=self.api_stats())

    def publishing(self, handler):
        """The handler, then `publish`: the stats the page shows follow every event."""
        async def handle(*args) -> None:
            result = handler(*args)
            if asyncio.iscoroutine(result):
                await result
            self.publish()
        return handle

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

    async def api_bench(self, frames: int) -> str:
        """Time the pipeline on the picture shown now against the plain JavaScript one that the page
        holds as window.jsReference, run on the page's picture canvas (see bench.py)."""
        import bench  # noqa: PLC0415 — imported by the bench alone, not at every start

        async with self._one_at_a_time:
            figures = await bench.face_mask(self.detector, self.picture, self.result.width, self.result.height,
                                            int(frames), getattr(window, "jsReference", None), element("picture"))
        return json.dumps({"backend": self.backend, **figures})

    async def api_soak(self, frames: int) -> str:
        """Run the active view's whole frame on the picture shown now, `frames` times (see bench.py)."""
        import bench  # noqa: PLC0415 — as in api_bench

        async with self._one_at_a_time:
            return json.dumps(await bench.soak(self.run_frame, self.picture, int(frames)))

    async def api_bench_style(self, frames: int) -> str:
        """Time segment & stylize on the picture shown now, with the view's settings (see bench.py)."""
        import bench  # noqa: PLC0415 — as in api_bench

        async with self._one_at_a_time:
            figures = await bench.segment_style(self.style, self.picture, self.overlay, int(frames), self.present)
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
            "wasm_threads": tfbridge.wasm_threads(),
            "result": self.result.as_dict(self.source_name) if self.result else None,
            "thresholds": self.shown_thresholds,  # the score and IoU thresholds of the result shown
            "snapshot": self.snapshot,
            "backend_times": self.backend_times,
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
        window.console.error(traceback.format_exc())
        self.show_error(f"Something went wrong while {what}: {exc}. The app is still running; try again "
                        "or with another image.")

    def bind_events(self) -> None:
        """The controls Python answers (the shell takes images and runs the camera): one listener
        for clicks and one for inputs, routed by the element's id (from a worker, every listener
        costs round trips to the page)."""
        clicks = {"save-png": self.on_save_png, "style-save-png": self.on_save_png,
                  "view-mask": self.view_handler("mask"), "view-style": self.view_handler("style"),
                  "save-json": self.on_save_json, "error-close": lambda event: self.hide_error()}
        inputs = {"score": self.on_threshold, "iou": self.on_threshold,
                  "backend": self.on_backend_change, "model": self.on_model_change}
        add_event_listener(document, "click", self.routed(clicks, "button"))
        add_event_listener(document, "input", self.routed(inputs, "input, select"))

    def routed(self, handlers: dict, selector: str):
        """An event handler that hands the event to the handler of its element's id, if any."""
        handlers = {id_: self.publishing(handler) for id_, handler in handlers.items()}

        async def route(event) -> None:
            target = event.target.closest(selector) if hasattr(event.target, "closest") else None
            handler = handlers.get(str(target.id)) if target else None
            if handler:
                await handler(event)
        return route

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

    # ------------------------------------------------------------ sources

    async def on_image(self, message) -> None:
        """A File from the picker, a drop or a paste, handed over by the shell."""
        try:
            data = (await message.file.arrayBuffer()).to_bytes()
        except JsException as exc:
            self.show_error(f"{message.name} could not be read ({exc}).")
            return
        await self.analyse_bytes(data, message.name)

    async def on_demo(self, message) -> None:
        """A demo photo, decoded by the browser (the shell hands over its pixels, or why it has none)."""
        if message.error:
            self.show_error(f"The demo photo {message.file} could not be opened: {message.error}.")
            return
        await self.stop_webcam()
        async with self._one_at_a_time:
            start = now_ms()
            size = (message.bitmap.width, message.bitmap.height)
            show_bitmap(self.picture, message.bitmap)
            await self.analyse_shown(message.file, size, start)

    def on_nothing_dropped(self, message) -> None:
        self.show_error("Nothing to analyse: drop an image file (from your files, not a link or text).")

    def on_nothing_pasted(self, message) -> None:
        self.show_error("The clipboard holds no image. Copy an image itself (not its file name), then paste again.")

    async def analyse_bytes(self, data: bytes, name: str) -> dict:
        """Decode an image, show it and detect on it. Bad input leaves the previous picture in place."""
        await self.stop_webcam()
        async with self._one_at_a_time:
            return await self._analyse(data, name)

    async def _analyse(self, data: bytes, name: str) -> dict:
        start = now_ms()
        try:
            picture = await decode_picture(data, name)
        except ImageError as exc:
            self.show_error(str(exc))
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 — a decoder bug must not take the app down
            self.report_unexpected(f"decoding {name}", exc)
            return {"error": f"{name} could not be decoded ({exc})."}
        show_picture(self.picture, picture)
        return await self.analyse_shown(name, (picture.source_width, picture.source_height), start)

    async def analyse_shown(self, name: str, source_size: tuple[int, int], decode_started: float) -> dict:
        """Detect on the picture canvas, just given a picture of source_size (upright source pixels)."""
        timings = {"image_decode": now_ms() - decode_started}
        self.decode_ms = timings["image_decode"]
        self.hide_error()
        self.show_stage()
        self.source_name = name
        self.source_size = source_size
        self.scale = self.picture.width / source_size[0]
        try:
            return await self.run_frame(self.picture, timings)
        except tfbridge.ModelLoadError as exc:
            self.show_load_error(str(exc))
            return {"error": str(exc)}
        except tfbridge.BackendLost as exc:  # watch_backend carries on with another, and runs this again
            return {"error": f"{name} could not be analysed: {exc}."}
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
            result = await self.style.run_frame(source, self.overlay, timings, self.present)
            element("loading").hidden = True
        else:
            self.frame = await self.detector.infer(source, timings)
            self.inferences += 1
            self.result = FrameResult(*self.source_size, [], timings)
            result = (await self.postprocess(with_picture=True)).as_dict()
        self.check_tensors(tensors_before)
        return result

    def check_tensors(self, before: int) -> None:
        """A frame must leave as many tensors as it found; more is a leak, warned about once."""
        count = tfbridge.tensor_count()
        if count != before:
            self.leaky_frames += 1
            if self.leaky_frames == 1:
                window.console.warn(f"tf.js tensor leak: {count} tensors after a frame, {before} before it")

    def thresholds(self) -> tuple[float, float]:
        return float(element("score").value), float(element("iou").value)

    async def postprocess(self, with_picture: bool) -> FrameResult:
        """NMS with the current thresholds and drawing, on the last frame's model output; the
        overlay is shown with the picture when that is new too."""
        result = self.result
        score, iou = self.thresholds()
        self.shown_thresholds = (score, iou)
        start = now_ms()
        result.detections = select_detections(self.frame, self.card, result.width, result.height, score, iou)
        mark = now_ms()
        overlay, picture = self.overlay, self.picture
        if overlay.width != picture.width or overlay.height != picture.height:
            overlay.width, overlay.height = picture.width, picture.height
        draw_detections(overlay, result.detections, self.colors, self.scale)
        await self.present(with_picture)
        self.render_detections(result)
        result.timings_ms.update(nms=mark - start, draw=now_ms() - mark)
        show_timings(element("timings"), result.timings_ms, STAGE_NAMES)
        return result

    async def present(self, with_picture: bool = True) -> None:
        """Show the overlay, and the picture under it, on the page; after the first, what makes the
        next visit quicker is prepared beside the app."""
        await self.shell.present(self.picture if with_picture else None, self.overlay)
        if self._after_first_result is None:
            self._after_first_result = asyncio.ensure_future(self.prepare_next_visit())

    async def prepare_next_visit(self) -> None:
        """Pillow, for the pictures to come; a snapshot of Python, then the backends timed, for the
        next visit. One after the other, so as to leave the app a core."""
        with contextlib.suppress(ImageError):  # said when a picture needs it
            await load_pillow()
        self.snapshot = str(await js.pylensStart.keepSnapshot(to_js(stdlib_modules())))
        self.publish()
        await self.time_backends()

    async def time_backends(self) -> None:
        """Unless this browser has timed it already, the detector timed on every backend beside the
        app (the built site keeps the times, for the automatic choice); then, on automatic, the
        fastest taken if it is clearly faster than the backend in use."""
        card = self.card
        if not self.backend_times:
            times = await js.pylensStart.timeBackends(
                card.id, f"{MODELS_URL}{card.id}/{card.entry}", card.format,
                to_js([1, card.input_height, card.input_width, 3]))
            if card is not self.card:  # another detector was chosen meanwhile: time that one
                await self.time_backends()
                return
            self.backend_times = times.to_py() if times else {}
            self.show_backend_times()
            self.publish()
        fastest = self.fastest_backend()
        if element("backend").value != "auto" or fastest in (None, self.backend):
            return
        slower, slower_ms = self.backend, self.backend_times.get(self.backend, float("inf"))
        if slower_ms >= CLEARLY_FASTER * self.backend_times[fastest]:
            async with self._one_at_a_time:
                await self.switch_backend(None)
            element("backend-active").textContent = (
                f"using {tfbridge.BACKEND_NAMES[self.backend]}, measured the fastest here "
                f"({self.backend_times[fastest]:.0f} ms a frame against {slower_ms:.0f} ms on "
                f"{tfbridge.BACKEND_NAMES[slower]})")
            self.publish()

    def fastest_backend(self) -> str | None:
        """The fastest backend by the times measured here, of those still working; None: none timed."""
        working = {name: ms for name, ms in self.backend_times.items() if name not in self.lost_backends}
        return min(working, key=working.get) if working else None

    def show_backend_times(self) -> None:
        """The backend menu with the detector's time on each backend measured here, and those that
        stopped working."""
        times, fastest = self.backend_times, self.fastest_backend()
        labels = {"auto": "automatic"} | tfbridge.BACKEND_NAMES
        if fastest:
            labels["auto"] = f"automatic (fastest here: {tfbridge.BACKEND_NAMES[fastest]})"
        for name, title in tfbridge.BACKEND_NAMES.items():
            if name in self.lost_backends:
                labels[name] = f"{title} (stopped working)"
            elif times:
                labels[name] = f"{title} ({times[name]:.0f} ms)" if name in times else f"{title} (not available)"
        menu = element("backend")
        chosen = menu.value
        menu.innerHTML = "".join(f'<option value="{name}">{escape(label)}</option>' for name, label in labels.items())
        menu.value = chosen

    def render_detections(self, result: FrameResult) -> None:
        """The list of detections and the count by label. Written as one piece of HTML: from a
        worker every DOM call is a round trip to the page."""
        element("detections").innerHTML = "".join(
            f'<li><span class="{escape(det.label)}">{escape(det.label)} {det.score:.2f}</span>'
            '<span class="box"> [{}, {}, {}, {}]</span></li>'.format(*det.box) for det in result.detections)
        counts = {lab.name: 0 for lab in self.card.labels}
        for det in result.detections:
            counts[det.label] += 1
        element("summary").textContent = ", ".join(f"{n} {name}" for name, n in counts.items())

    # ------------------------------------------------------------ events

    async def on_threshold(self, event) -> None:
        score, iou = self.thresholds()
        element("score-value").textContent = f"{score:.2f}"
        element("iou-value").textContent = f"{iou:.2f}"
        if self.frame is not None and self.webcam is None and self.view == "mask":
            await self.postprocess(with_picture=False)

    async def on_backend_change(self, event) -> None:
        wanted = event.target.value
        select = element("backend")
        select.disabled = True
        async with self._one_at_a_time:
            try:
                await self.switch_backend(None if wanted == "auto" else wanted)
                self.set_url_param("backend", None if wanted == "auto" else wanted)
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
                self.backend_times = await tfbridge.kept_backend_times(self.card.id)  # they are the detector's
                self.show_backend_times()
                if self.source_size is not None and self.webcam is None and self.view == "mask":
                    await self.rerun()
        menu.disabled = False
        if self._after_first_result is not None and self._after_first_result.done():
            self._after_first_result = asyncio.ensure_future(self.time_backends())

    def set_url_param(self, name: str, value: str | None) -> None:
        """Keep a choice in the address, so that a reload or a shared link keeps it."""
        url = js.URL.new(str(window.location.href))
        if value is None:
            url.searchParams.delete(name)
        else:
            url.searchParams.set(name, value)
        window.history.replaceState(None, "", url.href)

    async def rerun(self) -> None:
        """Run the active view again on the picture shown (after a view, backend, model or style change)."""
        await self.run_frame(self.picture, {"image_decode": self.decode_ms})

    async def on_save_png(self, event) -> None:
        suffix = "stylized" if self.view == "style" else "detections"
        self.download(await composite_png(self.picture, self.overlay), f"{self.stem()}-{suffix}.png")

    def on_save_json(self, event) -> None:
        if self.result is None:
            return
        text = json.dumps(self.result.as_dict(self.source_name), indent=2)
        self.download(js.URL.createObjectURL(js.Blob.new(to_js([text]), to_js({"type": "application/json"}))),
                      f"{self.stem()}-detections.json")

    def stem(self) -> str:
        return (self.source_name.rsplit(".", 1)[0] or "pylens").replace("/", "_")

    def download(self, blob_url: str, filename: str) -> None:
        """Offer a blob URL of this context as a download; the URL is freed once the browser has it."""
        link = document.createElement("a")
        link.href, link.download = blob_url, filename
        link.click()
        asyncio.get_running_loop().call_later(60, js.URL.revokeObjectURL, blob_url)

    # ------------------------------------------------------------ webcam

    async def start_webcam(self) -> bool:
        """Ask the shell for the camera, as its Start webcam button does; True once frames come."""
        if self.webcam is not None:
            return True
        self._camera_answer = asyncio.get_running_loop().create_future()
        self.shell.send("camera", want=True)
        return await self._camera_answer

    async def on_camera(self, message) -> None:
        """The shell is opening the camera, has it running, has closed it, or could not open it."""
        if message.state == "opening":
            self._camera_opening = True
            return
        opened, self._camera_opening = self._camera_opening, False
        if message.state == "on":
            if opened:
                self.begin_webcam()
            else:  # an image was opened while the camera started
                self.shell.send("camera", want=False)
        elif message.state == "off":
            await self.stop_webcam()
        else:
            self.show_error(camera_error(message.name, message.message))
        if self._camera_answer is not None and not self._camera_answer.done():
            self._camera_answer.set_result(self.webcam is not None)

    def begin_webcam(self) -> None:
        self.hide_error()
        self.webcam = Webcam(self.shell)
        self.frames, self.fps, self._last_frame_at = 0, 0.0, 0.0
        self.source_name, self.scale = "webcam", 1.0
        self.show_stage()
        self._frame_loop = asyncio.ensure_future(self.webcam_loop())

    async def stop_webcam(self) -> None:
        """Stop the camera (or its start) and wait for the frame in progress, so nothing draws after it."""
        if self.webcam is not None or self._camera_opening:
            self.shell.send("camera", want=False)
        self._camera_opening = False
        self.release_camera()
        if self._frame_loop is not None:
            await self._frame_loop
            self._frame_loop = None

    def release_camera(self) -> None:
        cam, self.webcam = self.webcam, None
        if cam is None:
            return
        cam.close()
        element("fps").textContent = element("style-fps").textContent = ""

    async def webcam_loop(self) -> None:
        """Process the newest camera frame whenever the previous one is done: frames that arrive
        while a frame is being processed are dropped, never queued. Detection runs on the frame as
        shown (mirrored), so boxes and the saved PNG and JSON all agree with the preview."""
        cam = self.webcam
        while self.webcam is cam:
            try:
                frame = await cam.next_frame()
                if frame is None:
                    continue
                async with self._one_at_a_time:  # a re-run of the view or a switch may be under way
                    if self.webcam is not cam:
                        frame.close()
                        break
                    start = now_ms()
                    show_bitmap(self.picture, frame, mirrored=True)
                    self.source_size = (self.picture.width, self.picture.height)
                    timings = {"capture": now_ms() - start}
                    await self.run_frame(self.picture, timings)
            except tfbridge.BackendLost:  # watch_backend carries on with another: so does the camera
                continue
            except Exception as exc:  # noqa: BLE001
                if self.webcam is cam:
                    self.shell.send("camera", want=False)
                    self.release_camera()
                    self.report_unexpected("processing the webcam", exc)
                break
            if self.webcam is not cam:  # stopped during the frame: it was the last, not counted
                break
            self.count_frame(start)
            self.publish()

    def count_frame(self, started: float) -> None:
        self.frames += 1
        if self._last_frame_at:
            instant = 1000.0 / max(started - self._last_frame_at, 1e-3)
            self.fps = instant if self.fps == 0 else 0.9 * self.fps + 0.1 * instant
            element("fps").textContent = element("style-fps").textContent = f"{self.fps:.1f} fps"
        self._last_frame_at = started


app = App()
asyncio.ensure_future(app.start())
