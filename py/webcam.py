"""The camera as a frame source. The page's shell (site/shell.js) opens it, previews it and hands
over its newest frame, as an ImageBitmap, each time one is asked for; failures become sentences here."""

from __future__ import annotations

import asyncio

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
    "Ended": "The camera stopped: it was disconnected, or another application took it. Reconnect it and press "
    "Start webcam again.",
    "NotSupportedError": "This browser gives no camera access to this page (a camera needs https or "
    "localhost). Open an image instead.",
}

FRAME_WAIT_S = 0.25


def camera_error(name: str, message: str) -> str:
    """The sentence for a getUserMedia failure, by the error's name."""
    return CAMERA_ERRORS.get(name, f"The camera could not be started ({message}).")


class Webcam:
    """The running camera: `next_frame` asks the shell for the newest frame and waits for it."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self._frame: asyncio.Future | None = None
        shell.on("frame", self._frame_arrived)

    def _frame_arrived(self, message) -> None:
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(message.bitmap)
        elif message.bitmap is not None:
            message.bitmap.close()  # came after its wait ended

    async def next_frame(self):
        """The newest camera frame (an ImageBitmap the caller closes), or None when none came within
        FRAME_WAIT_S: a frame that never comes must not stall the loop."""
        self._frame = asyncio.get_running_loop().create_future()
        self.shell.send("next-frame")
        try:
            return await asyncio.wait_for(self._frame, FRAME_WAIT_S)
        except TimeoutError:
            return None

    def close(self) -> None:
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(None)  # wakes the frame loop, which sees the camera closed
