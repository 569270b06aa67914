"""The frame feed: a camera's or a video file's frames, one kind of source. Python owns its state
(opening, running, stopped); the page's shell (site/shell/media.mjs) opens the camera or plays the file,
previews it and hands over its newest frame, as an ImageBitmap, each time one is asked for, and
reports what happened to it. Failures become sentences here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import page
import tfbridge
from clock import now_ms

if TYPE_CHECKING:
    from collections.abc import Callable

    from shell import Shell
    from stage import Stage
    from viewer import Viewer

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


class NewestFrame:
    """A running feed's frames: `next` asks the shell for the newest frame and waits for it."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self._frame: asyncio.Future | None = None
        shell.on("frame", self._arrived)

    def _arrived(self, message) -> None:
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(message.bitmap)
        elif message.bitmap is not None:
            message.bitmap.close()  # came after its wait ended

    async def next(self):
        """The newest frame (an ImageBitmap the caller closes), or None when none came within
        FRAME_WAIT_S: a frame that never comes must not stall the loop."""
        self._frame = asyncio.get_running_loop().create_future()
        self.shell.send("next-frame")
        try:
            return await asyncio.wait_for(self._frame, FRAME_WAIT_S)
        except TimeoutError:
            return None

    def close(self) -> None:
        if self._frame is not None and not self._frame.done():
            self._frame.set_result(None)  # wakes the frame loop, which sees the feed closed


class FrameFeed:
    def __init__(self, stage: Stage, viewer: Viewer, shell: Shell, publish: Callable[[], None]) -> None:
        self.stage, self.viewer, self.shell, self.publish = stage, viewer, shell, publish
        self.frames_in: NewestFrame | None = None  # while a camera or a video gives frames
        self.mirrored = True  # the frames are shown as a mirror (the camera's)
        self.frames = 0
        self.fps = 0.0
        self._last_frame_at = 0.0
        self._loop: asyncio.Task | None = None
        self._camera_opening = False  # the shell is opening the camera, and nothing has cancelled it since
        self._camera_answer: asyncio.Future | None = None  # start_camera waits on it

    @property
    def running(self) -> bool:
        return self.frames_in is not None

    def listen(self, shell: Shell) -> None:
        """Take the shell's news of the camera and of a video file."""
        shell.on("camera", page.handler(self.on_camera, self.publish))
        shell.on("video", page.handler(self.on_video, self.publish))

    async def start_camera(self) -> bool:
        """Ask the shell for the camera, as its Start webcam button does; True once frames come."""
        if self.running:
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
                self.begin("webcam")
            else:  # an image was opened while the camera started
                self.shell.send("camera", want=False)
        elif message.state == "off":
            await self.stop_frames()
        else:  # could not be opened, or stopped while in use
            await self.stop_frames()
            page.show_error(camera_error(message.name, message.message))
        if self._camera_answer is not None and not self._camera_answer.done():
            self._camera_answer.set_result(self.running)

    async def on_video(self, message) -> None:
        """A video file plays in the shell (its frames come as the camera's do), has stopped, or
        cannot be played."""
        if message.state == "on":
            await self.stop_frames()
            self.begin(str(message.name), mirrored=False)
        elif message.state == "off":
            await self.stop_frames()
        else:
            page.show_error(f"{message.name} cannot be played: {message.message}. Use an MP4, WebM or MOV "
                            "video that this browser plays.")

    def begin(self, name: str, mirrored: bool = True) -> None:
        """Run the active view on the frames the shell hands over: the camera's (shown mirrored) or a
        video file's."""
        page.hide_error()
        self.frames_in = NewestFrame(self.shell)
        self.mirrored = mirrored
        self.frames, self.fps, self._last_frame_at = 0, 0.0, 0.0
        self.stage.show_feed(name)
        self._loop = asyncio.ensure_future(self.run(self.frames_in))

    async def stop(self) -> None:
        """Stop the camera (or its start) or the video file, and wait for the frame in progress, so
        nothing draws after it."""
        if self.running or self._camera_opening:
            self.shell.send("camera", want=False)
        await self.stop_frames()

    async def stop_frames(self) -> None:
        """End the frame loop, the shell having stopped what gave the frames."""
        self._camera_opening = False
        self.release()
        loop = self._loop
        if loop is not None:
            await loop
            if self._loop is loop:  # no other loop began meanwhile
                self._loop = None

    def release(self) -> None:
        frames_in, self.frames_in = self.frames_in, None
        if frames_in is None:
            return
        frames_in.close()
        self.stage.feed_ended()

    async def run(self, frames_in: NewestFrame) -> None:
        """Process the newest frame whenever the previous one is done, until `frames_in` is no longer
        the feed's (stopped, perhaps before the loop began): frames that arrive while a frame is being
        processed are dropped, never queued. The view runs on the frame as shown (the camera's
        mirrored), so boxes and the saved PNG and JSON all agree with the preview."""
        stage = self.stage
        while self.frames_in is frames_in:
            try:
                frame = await frames_in.next()
                if frame is None:
                    continue
                async with stage.one_at_a_time:  # a re-run of the view or a switch may be under way
                    if self.frames_in is not frames_in:
                        frame.close()
                        break
                    start = now_ms()
                    stage.show_frame(frame, self.mirrored)
                    timings = {"capture": now_ms() - start}
                    await self.viewer.run_frame(stage.picture, timings)
            except tfbridge.BackendLost:  # the app carries on with another backend: so does the feed
                continue
            except Exception as exc:  # noqa: BLE001
                if self.frames_in is frames_in:
                    self.shell.send("camera", want=False)
                    self.release()
                    page.report_unexpected("processing the webcam", exc)
                break
            if self.frames_in is not frames_in:  # stopped during the frame: it was the last, not counted
                break
            self.count_frame(start)
            self.publish()

    def count_frame(self, started: float) -> None:
        self.frames += 1
        if self._last_frame_at:
            instant = 1000.0 / max(started - self._last_frame_at, 1e-3)
            self.fps = instant if self.fps == 0 else 0.9 * self.fps + 0.1 * instant
            self.stage.show_fps(f"{self.fps:.1f} fps")
        self._last_frame_at = started

    def stats(self) -> dict:
        return {"frames": self.frames, "webcam": self.running}
