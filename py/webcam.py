"""The camera as a frame source: open, wait for new frames, close; failures as sentences."""

from __future__ import annotations

import asyncio

import js
from pyodide.ffi import JsException, create_proxy, to_js

CAMERA_ERRORS = {
    "NotAllowedError": "Camera access was denied. Allow the camera for this site in the browser's "
    "settings (the icon left of the address), then press Start webcam again.",
    "SecurityError": "Camera access was denied. Allow the camera for this site in the browser's "
    "settings, then press Start webcam again.",
    "NotFoundError": "No camera was found. Connect a camera, or open an image instead.",
    "OverconstrainedError": "No camera was found that can deliver video. Connect another camera, or open "
    "an image instead.",
    "NotReadableError": "The camera could not be started: another application may be using it. Close it "
    "and press Start webcam again.",
    "AbortError": "The camera could not be started. Press Start webcam to try again.",
}


FRAME_WAIT_S = 0.25


class CameraError(RuntimeError):
    """The camera cannot be used; the message says what the person can do."""


class Webcam:
    """A camera stream shown in a <video> element, with a wait for each new frame.

    One callback proxy is made when the camera opens and destroyed when it closes.
    """

    def __init__(self, video) -> None:
        self.video = video
        self.stream = None
        self._frame: asyncio.Future | None = None
        self._on_frame = None
        self._pending: tuple[str, int] | None = None

    async def open(self, width: int = 640, height: int = 480) -> None:
        devices = getattr(js.navigator, "mediaDevices", None)
        if not devices or not hasattr(devices, "getUserMedia"):
            raise CameraError("This browser gives no camera access to this page (a camera needs https "
                              "or localhost). Open an image instead.")
        constraints = {"audio": False, "video": {"width": {"ideal": width}, "height": {"ideal": height},
                                                 "facingMode": "user"}}
        try:
            self.stream = await devices.getUserMedia(to_js(constraints, dict_converter=js.Object.fromEntries))
        except JsException as exc:
            name = getattr(exc, "name", "") or str(exc).split(":", 1)[0]
            raise CameraError(CAMERA_ERRORS.get(name, f"The camera could not be started ({exc}).")) from None
        self.video.srcObject = self.stream
        try:
            await self.video.play()
        except JsException as exc:
            self.close()  # stop the stream, or the camera stays on with nothing showing it
            raise CameraError(f"The camera started but its video could not be shown ({exc}). "
                              "Press Start webcam to try again.") from None
        self._on_frame = create_proxy(self._frame_arrived)

    def _frame_arrived(self, *_args) -> None:
        self._pending = None
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(None)

    async def next_frame(self) -> None:
        """Wait until the video shows a frame newer than the last one waited for (at most
        FRAME_WAIT_S: a browser that misses a frame callback must not stall the loop)."""
        self._frame = asyncio.get_running_loop().create_future()
        if hasattr(self.video, "requestVideoFrameCallback"):
            self._pending = ("video", self.video.requestVideoFrameCallback(self._on_frame))
        else:
            self._pending = ("window", js.requestAnimationFrame(self._on_frame))
        try:
            await asyncio.wait_for(self._frame, FRAME_WAIT_S)
        except TimeoutError:
            self._cancel_pending()

    def _cancel_pending(self) -> None:
        if self._pending is not None:
            kind, handle = self._pending
            if kind == "video":
                self.video.cancelVideoFrameCallback(handle)
            else:
                js.cancelAnimationFrame(handle)
            self._pending = None

    def close(self) -> None:
        if self.stream is not None:
            for track in self.stream.getTracks():
                track.stop()
            self.video.srcObject = None
            self.stream = None
        self._cancel_pending()  # a callback still due would call a destroyed proxy
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(None)  # wakes the frame loop, which sees the camera closed
        if self._on_frame is not None:
            self._on_frame.destroy()
            self._on_frame = None
