"""The app's shell in Python: start-up, the backend menu, the lock that keeps analyses one at a
time, the views (py/views/) and the headless API (window.pylens); the page's services are py/page.py.

A picture's path: a source (py/sources.py) puts upright pixels on the picture canvas -> the
active view's `run_frame` (models on the device, post-processing in numpy) draws on the overlay
-> `present` has the page's shell (site/shell.js) show both. The page and the headless commands
take the same path.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import json
import sys
import traceback
from html import escape
from pathlib import Path

import js
from pyscript import document, fetch, when, window
from pyscript.ffi import to_js

import names
import page
import shell
import tfbridge
from cards import CardError, ModelCard, parse_card
from detector import now_ms
from draw import composite_png, new_canvas, show_picture
from page import element
from picture import ImageError
from sources import Sources, decode_picture, load_pillow
from stylize import TARGETS
from views import VIEWS, View

CARDS_DIR = Path("models")
CLEARLY_FASTER = 1.25  # on automatic, a backend measured this many times faster is switched to


def load_cards() -> dict[str, ModelCard]:
    """Every model card PyScript placed in models/ (see pyscript.toml), by id."""
    cards = (parse_card(path.read_text(), path.name) for path in sorted(CARDS_DIR.glob("*.toml")))
    return {card.id: card for card in cards}


def stdlib_modules() -> list[str]:
    """The standard-library packages imported now: what a snapshot of Python can hold for the next visit."""
    return sorted({name.split(".")[0] for name in sys.modules} & sys.stdlib_module_names)


async def fetch_text(path: str) -> str:
    """A file of the site as it is on the server now (not from the browser's cache)."""
    response = await fetch(js.URL.new(path, str(window.location.href)).href, cache="no-store")
    return await response.text()


class App:
    def __init__(self) -> None:
        self.default_detector = str(js.pylensStart.defaultDetector)  # the one site/start.mjs downloads
        # Absolute: in a worker, relative URLs would resolve against the worker's script, not the page.
        self.models_url = js.URL.new("./models/", str(window.location.href)).href
        self.cards = load_cards()
        # The picture and what is drawn over it, here; the shell shows them on the page's canvases.
        self.picture = new_canvas(640, 480)
        self.overlay = new_canvas(640, 480)
        self.source_name = ""
        self.source_size: tuple[int, int] | None = None  # of the picture shown (source pixels)
        self.scale = 1.0  # picture canvas pixels per source pixel
        self.picture_serial = 0  # one more at each still picture given: what a view may keep is of one
        self.decode_ms = 0.0
        self.views: dict[str, View] = {name: view(self) for name, view in VIEWS.items()}
        self.mask = self.views["mask"]  # its detector is what backends are timed on
        self.batch = self.views["batch"]  # many files given at once go to it
        self.view: View = self.mask
        self.sources = Sources(self)
        self.shell: shell.Shell | None = None
        self.one_at_a_time = asyncio.Lock()  # frames, analyses and switches never interleave
        self._rerun_pending = False
        self._listeners: dict[str, dict] = {}  # event type -> element id -> handler (see listen)
        self.leaky_frames = 0
        self.backend = ""
        self.snapshot = str(js.pylensStart.snapshot)  # of Python, for a quicker next visit (site/start.mjs)
        self.backend_times: dict[str, float] = {}  # the detector's time on each backend, in ms, measured here
        self.lost_backends: set[str] = set()  # stopped working in this visit: automatic passes them over
        self._after_first_result: asyncio.Task | None = None
        self._backend_choices = 0  # one more at each choice of backend: a watch for an earlier one ends

    def cards_of(self, kind: type) -> dict:
        return {card_id: card for card_id, card in self.cards.items() if isinstance(card, kind)}

    # ------------------------------------------------------------ start-up

    async def start(self) -> None:
        """Start-up; each phase ends with a performance mark (names.py) that build.py bench reads."""
        window.performance.mark(names.APP_STARTED)
        document.body.dataset.python = "ready"
        params = js.URLSearchParams.new(str(window.location.search))
        self.shell = shell.connect()
        try:
            page.status("Starting TensorFlow.js…")
            await tfbridge.load_tfjs()
            await self.use_backend(params.get("backend"), at_start=True)
            window.performance.mark(names.BACKEND_READY)
            self.mask.choose_detector(params.get("model"))
            self.fill_credits()
            await self.mask.load_detector()
            self.show_backend_in_use()
            window.performance.mark(names.MODEL_READY)
        except Exception as exc:  # noqa: BLE001 — any start-up failure must reach the page
            message = str(exc) if isinstance(exc, (tfbridge.ModelLoadError, RuntimeError)) else repr(exc)
            window.console.error(traceback.format_exc())
            page.status("The app could not start.")
            page.show_error(message)
            self.shell.send("failed", error=message)
            return
        self.backend_times = await tfbridge.kept_backend_times(self.mask.card.id)
        self.show_backend_times()
        self.build_controls()
        element("loading").hidden = True
        for id_ in ("backend", "model"):
            element(id_).disabled = False
        if params.get("view") in self.views:
            await self.show_view(params.get("view"))
        self.shell.on("call", self.on_call)  # publishes before it answers
        self.shell.on("view", self.publishing(lambda message: self.show_view(str(message.name))))  # chosen at start-up
        self.sources.listen(self.shell)
        self.publish()
        self.shell.send("ready", methods=list(self.api()))
        self.shell.listen()

    def build_controls(self) -> None:
        """The header's controls and each view's (the shell takes pictures and runs the camera): one
        listener on the page for each kind of event, whatever the controls (from a worker, every
        listener costs round trips to the page, on the way to the first result)."""
        self.listen("click", {f"view-{name}": self.on_tab for name in self.views} | {"error-close": page.hide_error,
                                                                                   "snapshot": self.on_snapshot})
        self.listen("input", {"backend": self.on_backend_change})
        for view in self.views.values():
            view.build_controls()
        for event_type, handlers in self._listeners.items():
            when(event_type, document, handler=self._routed(handlers))
        when("pylens:live", window, handler=self.on_live_edit)  # build.py serve only: see py/live.py

    def listen(self, event_type: str, handlers: dict) -> None:
        """Call handlers[id] (then `publish`) for each `event_type` event on the element of that id or
        inside it, the innermost such element; before `build_controls` attaches the listeners."""
        self._listeners.setdefault(event_type, {}).update(
            {id_: self.publishing(handler) for id_, handler in handlers.items()})

    @staticmethod
    def _routed(handlers: dict):
        """An event handler that hands the event to the handler of the closest element it names."""
        selector = ", ".join(f"#{id_}" for id_ in handlers)

        async def route(event) -> None:
            target = event.target.closest(selector) if hasattr(event.target, "closest") else None
            if target:
                await handlers[str(target.id)](event)
        return route

    def fill_credits(self) -> None:
        """About: one line per distinct model author and licence, from the cards."""
        credits = dict.fromkeys((card.attribution, card.licence, card.homepage) for card in self.cards.values())
        element("credits").innerHTML = "".join(
            f'<li><a href="{escape(homepage)}">{escape(author)}</a> — {escape(licence)} licence</li>'
            for author, licence, homepage in credits)

    # ------------------------------------------------------------ backends

    async def use_backend(self, wanted: str | None, at_start: bool = False) -> None:
        """Switch to the backend `wanted` (None: automatic); at start, take the one site/start.mjs
        chose for the page's `wanted`. Then watch it, in case it stops working. The note beside the
        menu is the caller's: "using" it once it has given a model or a result."""
        self.backend, note = await (tfbridge.page_backend() if at_start else
                                    tfbridge.select_backend(wanted, self.backend_times, self.lost_backends))
        self.lost_backends.discard(self.backend)  # chosen again, and working
        element("backend").value = wanted if wanted in names.BACKENDS else "auto"
        if note:
            page.show_error(note)
        self._backend_choices += 1
        asyncio.ensure_future(self.watch_backend(self._backend_choices))

    async def watch_backend(self, choice: int) -> None:
        """When the backend in use stops working (a lost WebGPU device or WebGL context), say so and
        carry on, on the next fastest, with the picture shown analysed again."""
        backend, reason = await tfbridge.backend_lost()
        if choice != self._backend_choices:  # another backend was chosen since
            return
        self.lost_backends.add(backend)
        async with self.one_at_a_time:  # the frame in flight fails with BackendLost
            try:
                await self.switch_backend(None)
            except Exception as exc:  # noqa: BLE001
                page.report_unexpected(f"leaving {tfbridge.BACKEND_NAMES[backend]}, which stopped working", exc)
                return
        page.show_error(f"{tfbridge.BACKEND_NAMES[backend]} stopped working ({reason}); carrying on with "
                        f"{tfbridge.BACKEND_NAMES[self.backend]}.")
        self.show_backend_times()
        self.publish()

    async def switch_backend(self, wanted: str | None) -> None:
        """Switch to the backend `wanted` (None: automatic), have each view build or drop its models
        on it, and run the picture shown again; meanwhile the status says what is going on and the
        result shown is marked as the last backend's. Call holding the lock."""
        await self.use_backend(wanted)
        name = tfbridge.BACKEND_NAMES[self.backend]
        element("backend-active").textContent = f"switching to {name}…"
        shown = self.still_picture_in(self.view)
        stage = element("stage")
        if shown:
            stage.classList.add("stale")  # until the shell presents the new result
        try:
            for view in self.views.values():
                await view.backend_changed()
            if shown:
                page.busy(f"Compiling {name}'s shaders for the first frame (once per visit)…"
                          if self.backend not in tfbridge.CPU_BACKENDS else f"The first frame on {name}…")
                await self.rerun()
        finally:
            stage.classList.remove("stale")
            element("loading").hidden = True
        self.show_backend_in_use()

    def show_backend_in_use(self) -> None:
        element("backend-active").textContent = f"using {tfbridge.BACKEND_NAMES[self.backend]}"

    async def on_backend_change(self, event) -> None:
        wanted = event.target.value
        select = element("backend")
        select.disabled = True
        async with self.one_at_a_time:
            try:
                await self.switch_backend(None if wanted == "auto" else wanted)
                page.set_url_param("backend", None if wanted == "auto" else wanted)
            except Exception as exc:  # noqa: BLE001
                page.report_unexpected("switching the backend", exc)
        select.disabled = False

    async def detector_changed(self) -> None:
        """Another detector: the backend times kept here are the detector's. Timed anew (after the
        first result's own work) unless kept."""
        self.backend_times = await tfbridge.kept_backend_times(self.mask.card.id)
        self.show_backend_times()
        if self._after_first_result is not None and self._after_first_result.done():
            self._after_first_result = asyncio.ensure_future(self.time_backends())

    async def time_backends(self) -> None:
        """Unless this browser has timed it already, the detector timed on every backend beside the
        app (the built site keeps the times, for the automatic choice); then, on automatic, the
        fastest taken if it is clearly faster than the backend in use."""
        card = self.mask.card
        if not self.backend_times:
            times = await js.pylensStart.timeBackends(
                card.id, f"{self.models_url}{card.id}/{card.entry}", card.format,
                to_js([1, card.input_height, card.input_width, 3]))
            if card is not self.mask.card:  # another detector was chosen meanwhile: time that one
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
            async with self.one_at_a_time:
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

    # ------------------------------------------------------------ views and frames

    async def on_tab(self, event) -> None:
        await self.show_view(str(event.target.closest("[role=tab]").id).removeprefix("view-"))

    async def show_view(self, name: str) -> None:
        """Switch views; the picture shown is processed again by the new one."""
        if name not in self.views or self.views[name] is self.view:
            return
        self.view = self.views[name]
        for other in self.views.values():
            active = other is self.view
            tab = element(f"view-{other.name}")
            tab.setAttribute("aria-selected", str(active).lower())
            tab.tabIndex = 0 if active else -1  # the tabs are one Tab stop (see site/shell.js)
            element(f"{other.name}-panel").hidden = not active
        for id_ in {id_ for view in self.views.values() for id_ in view.setting_controls}:
            element(id_).hidden = id_ not in self.view.setting_controls
        page.set_url_param("view", None if self.view is self.mask else name)
        if self.view is self.batch:
            await self.batch.show_chosen()  # its own picture: the row chosen in its table
        elif self.still_picture_in(self.view):
            async with self.one_at_a_time:
                await self.present_undrawn()  # the last view's drawing goes at once
                await self.guarded_rerun()
        elif self.source_size is None and self.sources.webcam is None:
            self.shell.blank()  # the page's own placeholder

    async def present_undrawn(self) -> None:
        """The picture shown with nothing drawn over it, while the view computes its drawing."""
        self.overlay.getContext("2d").clearRect(0, 0, self.overlay.width, self.overlay.height)
        await self.present()

    def still_picture_in(self, view: View) -> bool:
        """Whether `view` is the active one, showing a picture that no camera replaces."""
        return view is self.view and self.source_size is not None and self.sources.webcam is None

    async def rerun_for(self, view: View) -> None:
        """A view's control moved: process the picture shown again, coalescing the changes that
        arrive meanwhile."""
        if not self.still_picture_in(view) or self._rerun_pending:
            return
        self._rerun_pending = True
        async with self.one_at_a_time:
            self._rerun_pending = False
            await self.guarded_rerun()

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """The active view on the picture canvas (its result drawn and shown); a frame must leave as
        many tensors as it found. Call holding the lock."""
        view = self.view
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
        """Run the active view again on the picture shown. Call holding the lock."""
        await self.run_frame(self.picture, {"image_decode": self.decode_ms})

    async def guarded_rerun(self) -> None:
        try:
            await self.rerun()
        except tfbridge.ModelLoadError as exc:
            page.show_load_error(str(exc))
        except Exception as exc:  # noqa: BLE001
            page.report_unexpected("processing the picture", exc)

    async def present(self, with_picture: bool = True) -> None:
        """Show the overlay, and the picture under it, on the page; after the first, what makes the
        next visit quicker is prepared beside the app."""
        await self.shell.present(self.picture if with_picture else None, self.overlay, self.source_caption())
        if self._after_first_result is None:
            self._after_first_result = asyncio.ensure_future(self.prepare_next_visit())

    def source_caption(self) -> str:
        """What the stage shows: the file's name and size, or the camera."""
        if self.sources.webcam is not None or self.source_size is None:
            return self.source_name
        width, height = self.source_size
        return f"{self.source_name} · {width}×{height}"

    async def prepare_next_visit(self) -> None:
        """Pillow, for the pictures to come; a snapshot of Python, then the backends timed, for the
        next visit. One after the other, so as to leave the app a core."""
        with contextlib.suppress(ImageError):  # said when a picture needs it
            await load_pillow()
        self.snapshot = str(await js.pylensStart.keepSnapshot(to_js(stdlib_modules())))
        self.publish()
        await self.time_backends()

    def show_stage(self) -> None:
        """A picture is shown: the placeholder goes, and the views can save."""
        element("placeholder").hidden = True
        for view in self.views.values():
            for id_ in view.save_buttons:
                element(id_).disabled = False

    def show_fps(self, text: str) -> None:
        for view in self.views.values():
            element(view.fps_output).textContent = text

    # ------------------------------------------------------------ saving

    async def save_png(self, suffix: str) -> None:
        """The picture with what the view drew over it, as a PNG download."""
        page.download(await composite_png(self.picture, self.overlay), f"{self.stem()}-{suffix}.png")

    async def on_snapshot(self) -> None:
        """The frame shown now (a camera's or a video's too), with what the view drew, as a PNG."""
        async with self.one_at_a_time:  # not half-way through the next frame
            await self.save_png("snapshot")

    def stem(self) -> str:
        return (self.source_name.rsplit(".", 1)[0] or "pylens").replace("/", "_")

    # ------------------------------------------------------------ live editing

    async def on_live_edit(self, event) -> None:
        """Files saved in the editor under `build.py serve` (py/ modules, model cards): taken in
        place, then the picture shown runs again; one line in the console says what was done."""
        import live  # noqa: PLC0415 — only the development server sends this event

        start = now_ms()
        paths = json.loads(str(event.detail))
        async with self.one_at_a_time:  # no frame runs while its code changes
            try:
                texts = {path: await fetch_text(path) for path in paths}
                modules = live.reload_modules({live.module_name(path): text for path, text in texts.items()
                                               if path.endswith(".py")})
                for path, text in texts.items():
                    if path.endswith(".toml"):
                        await self.card_changed(path, text)
            except live.LiveError as exc:
                page.show_error(f"{exc.name} could not be taken; the previous code still runs.\n{exc.trace}")
                window.console.error(f"live: failed {exc.name}: {exc.error}")  # last: the page says it already
                return
            except Exception as exc:  # noqa: BLE001 — a reload that went wrong half-way
                page.show_error(f"{', '.join(paths)} could not be taken in place (reload the page):\n"
                                f"{traceback.format_exc(limit=-4)}")
                window.console.error(f"live: failed {', '.join(paths)}: {exc!r}")
                return
            page.hide_error()
            if self.still_picture_in(self.view):
                try:
                    await self.rerun()
                except Exception:  # noqa: BLE001 — the new code's error, shown to its author
                    page.show_error(f"The picture could not be processed again:\n{traceback.format_exc(limit=-4)}")
        done = [*modules, *(Path(path).name for path in paths if path.endswith(".toml"))]
        window.console.log(f"live: reloaded {', '.join(done)} in {now_ms() - start:.0f} ms")
        self.publish()

    async def card_changed(self, path: str, text: str) -> None:
        """A model card saved: parsed, written where the app reads cards, and given to each view."""
        import live  # noqa: PLC0415

        try:
            card = parse_card(text, Path(path).name)
        except CardError as exc:
            raise live.LiveError(Path(path).name, f"CardError: {exc}", str(exc)) from None
        (CARDS_DIR / Path(path).name).write_text(text)
        self.cards[card.id] = card
        for view in self.views.values():
            await view.card_changed(card)

    # ------------------------------------------------------------ the headless API

    def api(self) -> dict:
        """window.pylens: what the headless commands and tests call (the same code paths as the UI).
        The shell forwards each call here; `stats` it answers itself, from what `publish` sent last."""
        return {names.DETECT_IMAGE: self.api_detect_image, names.SEGMENT_IMAGE: self.api_segment_image,
                names.STYLIZE_IMAGE: self.api_stylize_image, names.START_WEBCAM: self.sources.start_webcam,
                names.STOP_WEBCAM: self.sources.stop_webcam, names.SHOW_VIEW: self.show_view,
                names.BENCH_FACE_MASK: self.api_bench, names.BENCH_SEGMENT_STYLE: self.api_bench_style,
                names.SOAK: self.api_soak, names.BATCH_RESULTS: self.api_batch_results}

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
        self.shell.send("stats", json=json.dumps(self.stats()))

    def publishing(self, handler):
        """The handler (given the event or message when it takes one), then `publish`: the stats the
        page shows follow every event."""
        takes_event = bool(inspect.signature(handler).parameters)

        async def handle(*args) -> None:
            result = handler(*args) if takes_event else handler()
            if asyncio.iscoroutine(result):
                await result
            self.publish()
        return handle

    def stats(self) -> dict:
        stats = {
            "tensors": tfbridge.tensor_count(),
            "frames": self.sources.frames,
            "leaky_frames": self.leaky_frames,
            "backend": self.backend,
            "view": self.view.name,
            "webcam": self.sources.webcam is not None,
            "wasm_threads": tfbridge.wasm_threads(),
            "snapshot": self.snapshot,
            "backend_times": self.backend_times,
        }
        for view in self.views.values():
            stats |= view.stats()
        return stats

    async def api_batch_results(self) -> str:
        return json.dumps(self.batch.results())

    async def api_detect_image(self, data, name: str) -> str:
        return json.dumps(await self.sources.analyse_bytes(data.to_bytes(), name))

    async def api_segment_image(self, data, name: str, model: str) -> str:
        """The person mask of an image as an 8-bit PNG (base64), for `build.py segment`."""
        style = self.views["style"]
        if model not in style.segmenter_cards:
            return json.dumps({"error": f"There is no segmentation model '{model}'."})
        return await self._headless_png(data.to_bytes(), name, lambda canvas: style.mask_png(canvas, model))

    async def api_stylize_image(self, data, name: str, style_id: str, mask: str | None, max_side: int) -> str:
        """An image stylized (whole, or only the person or the background) as a PNG (base64)."""
        style = self.views["style"]
        if style_id not in style.style_cards:
            return json.dumps({"error": f"There is no style '{style_id}'."})
        target = mask or "whole"
        if target not in TARGETS:
            return json.dumps({"error": f"The mask must be person or background, not '{mask}'."})
        return await self._headless_png(data.to_bytes(), name,
                                        lambda canvas: style.stylized_png(canvas, style_id, target, int(max_side)))

    async def _headless_png(self, data: bytes, name: str, make_png) -> str:
        await self.sources.stop_webcam()
        async with self.one_at_a_time:
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

        mask = self.mask
        async with self.one_at_a_time:
            figures = await bench.face_mask(mask.detector, self.picture, mask.result.width, mask.result.height,
                                            int(frames), getattr(window, "jsReference", None), element("picture"))
        return json.dumps({"backend": self.backend, **figures})

    async def api_soak(self, frames: int) -> str:
        """Run the active view's whole frame on the picture shown now, `frames` times (see bench.py)."""
        import bench  # noqa: PLC0415 — as in api_bench

        async with self.one_at_a_time:
            return json.dumps(await bench.soak(self.run_frame, self.picture, int(frames)))

    async def api_bench_style(self, frames: int) -> str:
        """Time segment & stylize on the picture shown now, with the view's settings (see bench.py)."""
        import bench  # noqa: PLC0415 — as in api_bench

        async with self.one_at_a_time:
            figures = await bench.segment_style(self.views["style"], self.picture, int(frames))
        return json.dumps({"backend": self.backend, **figures})
