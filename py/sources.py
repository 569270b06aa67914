"""Where pictures come from: a file (picker, drop, paste), a demo photo, the webcam or a video file,
and many files at once (to the Batch view). Each becomes upright pixels on the app's picture canvas,
handed to the active view.

The page's shell (site/shell.js) takes files and opens the camera, so that they work before Python
is ready; it sends them here over its channel (py/shell.py).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pyodide_js
from pyodide.ffi import JsException

import page
import tfbridge
from detector import now_ms
from draw import show_bitmap, show_picture
from picture import ImageError, Picture
from webcam import Webcam, camera_error

if TYPE_CHECKING:
    from app import App

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


class Sources:
    def __init__(self, app: App) -> None:
        self.app = app
        self.webcam: Webcam | None = None  # the frame source: the camera, or a video file the shell plays
        self.mirrored = True  # the frames are shown as a mirror (the camera's)
        self.frames = 0
        self.fps = 0.0
        self._last_frame_at = 0.0
        self._frame_loop: asyncio.Task | None = None
        self._camera_opening = False  # the shell is opening the camera, and nothing has cancelled it since
        self._camera_answer: asyncio.Future | None = None  # start_webcam waits on it

    def listen(self, shell) -> None:
        """Take what the shell sends: images (those given during start-up were kept) and camera news."""
        for kind, handler in (("image", self.on_image), ("demo", self.on_demo), ("batch", self.on_batch),
                              ("empty-folder", self.on_empty_folder),
                              ("nothing-dropped", self.on_nothing_dropped),
                              ("nothing-pasted", self.on_nothing_pasted), ("camera", self.on_camera),
                              ("video", self.on_video)):
            shell.on(kind, self.app.publishing(handler))

    # ------------------------------------------------------------ files and demos

    async def on_image(self, message) -> None:
        """A File from the picker, a drop or a paste; in the Batch view, one more photo of the batch."""
        if self.app.view is self.app.batch:
            self.app.batch.add([(str(message.name), message.file, None)])
            return
        try:
            data = (await message.file.arrayBuffer()).to_bytes()
        except JsException as exc:
            page.show_error(f"{message.name} could not be read ({exc}).")
            return
        await self.analyse_bytes(data, message.name)

    async def on_batch(self, message) -> None:
        """Several files, or a folder's images: to the Batch view, which analyses them in turn."""
        await self.app.show_view(self.app.batch.name)
        self.app.batch.add([(str(given.name), given.file, getattr(given, "error", None))
                            for given in message.files])

    def on_empty_folder(self, message) -> None:
        page.show_error("That folder holds no image this app can read (JPEG, PNG, GIF, WebP or BMP).")

    async def on_demo(self, message) -> None:
        """A demo photo, decoded by the browser (the shell hands over its pixels, or why it has none)."""
        if message.error:
            page.show_error(f"The demo photo {message.file} could not be opened: {message.error}.")
            return
        await self.stop_webcam()
        async with self.app.one_at_a_time:
            start = now_ms()
            size = (message.bitmap.width, message.bitmap.height)
            show_bitmap(self.app.picture, message.bitmap)
            await self.analyse_shown(message.file, size, start)

    def on_nothing_dropped(self, message) -> None:
        page.show_error("Nothing to analyse: drop an image file (from your files, not a link or text).")

    def on_nothing_pasted(self, message) -> None:
        page.show_error("The clipboard holds no image. Copy an image itself (not its file name), then paste "
                            "again.")

    async def analyse_bytes(self, data: bytes, name: str) -> dict:
        """Decode an image, show it and run the active view on it. Bad input leaves the previous
        picture in place."""
        await self.stop_webcam()
        async with self.app.one_at_a_time:
            start = now_ms()
            try:
                picture = await decode_picture(data, name)
            except ImageError as exc:
                page.show_error(str(exc))
                return {"error": str(exc)}
            except Exception as exc:  # noqa: BLE001 — a decoder bug must not take the app down
                page.report_unexpected(f"decoding {name}", exc)
                return {"error": f"{name} could not be decoded ({exc})."}
            show_picture(self.app.picture, picture)
            return await self.analyse_shown(name, (picture.source_width, picture.source_height), start)

    async def analyse_shown(self, name: str, source_size: tuple[int, int], decode_started: float) -> dict:
        """Run the active view on the picture canvas, just given a picture of source_size (upright
        source pixels). Call holding the app's lock."""
        app = self.app
        timings = {"image_decode": now_ms() - decode_started}
        app.decode_ms = timings["image_decode"]
        page.hide_error()
        app.show_stage()
        app.source_name = name
        app.source_size = source_size
        app.picture_serial += 1
        app.scale = app.picture.width / source_size[0]
        try:
            return await app.run_frame(app.picture, timings)
        except tfbridge.ModelLoadError as exc:
            page.show_load_error(str(exc))
            return {"error": str(exc)}
        except tfbridge.BackendLost as exc:  # the app carries on with another backend, and runs this again
            return {"error": f"{name} could not be analysed: {exc}."}
        except Exception as exc:  # noqa: BLE001
            page.report_unexpected(f"analysing {name}", exc)
            return {"error": f"{name} could not be analysed ({exc})."}

    # ------------------------------------------------------------ the webcam

    async def start_webcam(self) -> bool:
        """Ask the shell for the camera, as its Start webcam button does; True once frames come."""
        if self.webcam is not None:
            return True
        self._camera_answer = asyncio.get_running_loop().create_future()
        self.app.shell.send("camera", want=True)
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
                self.app.shell.send("camera", want=False)
        elif message.state == "off":
            await self.stop_frames()
        else:  # could not be opened, or stopped while in use
            await self.stop_frames()
            page.show_error(camera_error(message.name, message.message))
        if self._camera_answer is not None and not self._camera_answer.done():
            self._camera_answer.set_result(self.webcam is not None)

    async def on_video(self, message) -> None:
        """A video file plays in the shell (its frames come as the camera's do), has stopped, or
        cannot be played."""
        if message.state == "on":
            await self.stop_frames()
            self.begin_webcam(str(message.name), mirrored=False)
        elif message.state == "off":
            await self.stop_frames()
        else:
            page.show_error(f"{message.name} cannot be played: {message.message}. Use an MP4, WebM or MOV "
                                "video that this browser plays.")

    def begin_webcam(self, name: str = "webcam", mirrored: bool = True) -> None:
        """Run the active view on the frames the shell hands over: the camera's (shown mirrored) or a
        video file's."""
        app = self.app
        page.hide_error()
        self.webcam = Webcam(app.shell)
        self.mirrored = mirrored
        self.frames, self.fps, self._last_frame_at = 0, 0.0, 0.0
        app.source_name, app.scale = name, 1.0
        app.show_stage()
        self._frame_loop = asyncio.ensure_future(self.webcam_loop(self.webcam))

    async def stop_webcam(self) -> None:
        """Stop the camera (or its start) or the video file, and wait for the frame in progress, so
        nothing draws after it."""
        if self.webcam is not None or self._camera_opening:
            self.app.shell.send("camera", want=False)
        await self.stop_frames()

    async def stop_frames(self) -> None:
        """End the frame loop, the shell having stopped what gave the frames."""
        self._camera_opening = False
        self.release_camera()
        loop = self._frame_loop
        if loop is not None:
            await loop
            if self._frame_loop is loop:  # no other loop began meanwhile
                self._frame_loop = None

    def release_camera(self) -> None:
        cam, self.webcam = self.webcam, None
        if cam is None:
            return
        cam.close()
        self.app.show_fps("")

    async def webcam_loop(self, cam: Webcam) -> None:
        """Process the newest frame of `cam` whenever the previous one is done, until `cam` is no
        longer the source (stopped, perhaps before the loop began): frames that arrive while a frame
        is being processed are dropped, never queued. The view runs on the frame as shown (the
        camera's mirrored), so boxes and the saved PNG and JSON all agree with the preview."""
        app = self.app
        while self.webcam is cam:
            try:
                frame = await cam.next_frame()
                if frame is None:
                    continue
                async with app.one_at_a_time:  # a re-run of the view or a switch may be under way
                    if self.webcam is not cam:
                        frame.close()
                        break
                    start = now_ms()
                    show_bitmap(app.picture, frame, mirrored=self.mirrored)
                    app.source_size = (app.picture.width, app.picture.height)
                    timings = {"capture": now_ms() - start}
                    await app.run_frame(app.picture, timings)
            except tfbridge.BackendLost:  # the app carries on with another backend: so does the camera
                continue
            except Exception as exc:  # noqa: BLE001
                if self.webcam is cam:
                    app.shell.send("camera", want=False)
                    self.release_camera()
                    page.report_unexpected("processing the webcam", exc)
                break
            if self.webcam is not cam:  # stopped during the frame: it was the last, not counted
                break
            self.count_frame(start)
            app.publish()

    def count_frame(self, started: float) -> None:
        self.frames += 1
        if self._last_frame_at:
            instant = 1000.0 / max(started - self._last_frame_at, 1e-3)
            self.fps = instant if self.fps == 0 else 0.9 * self.fps + 0.1 * instant
            self.app.show_fps(f"{self.fps:.1f} fps")
        self._last_frame_at = started

