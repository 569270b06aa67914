"""The frame feed: a camera's or a video file's frames, one kind of source. Python owns its state
(opening, giving frames, stopped); the page's shell (site/shell/media.mjs) holds the camera or the
file, previews it, hands over its newest frame, as an ImageBitmap, each time one is asked for, and
reports what happened to it ("feed" messages: opening, on, off, error). Failures become sentences here.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import engines
import page
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


def feed_error(source: str, name: str, message: str) -> str:
    """The sentence for a camera that could not be opened or stopped (by the error's name), or for a
    video file that cannot be played."""
    if source == "camera":
        return CAMERA_ERRORS.get(name, f"The camera could not be started ({message}).")
    return f"{name} cannot be played: {message}. Use an MP4, WebM or MOV video that this browser plays."


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
        self.frames = 0
        self.fps = 0.0
        self._frames_in: NewestFrame | None = None  # the frame loop's, while the feed gives frames
        self._opening: str | None = None  # the source the shell is opening, nothing having stopped it since
        self._last_frame_at = 0.0
        self._loop: asyncio.Task | None = None
        self._opened: asyncio.Future | None = None  # start_camera waits on it

    def listen(self, shell: Shell) -> None:
        """Take the shell's news of the feed."""
        shell.on("feed", page.handler(self.on_feed, self.publish))

    async def start_camera(self) -> bool:
        """Ask the shell for the camera, as its Start webcam button does; True once frames come."""
        if self.stage.feed == "camera":
            return True
        self._opened = asyncio.get_running_loop().create_future()
        if self._opening != "camera":
            self.shell.send("open-camera")
        return await self._opened

    async def on_feed(self, message) -> None:
        """The shell is opening the camera or a video file, has it giving frames, has closed it, or
        could not open it (or lost it)."""
        source, state, name = str(message.source), str(message.state), str(message.name or "")
        if state == "opening":
            self._opening = source
            return
        opened, self._opening = self._opening == source, None
        if state == "on":
            await self.stop_frames()
            if opened:
                self.begin(source, "webcam" if source == "camera" else name)
            else:  # stopped here while it opened (an image was opened meanwhile)
                self.shell.send("stop-feed")
        else:  # off, or an error: it could not be opened, or stopped while in use
            await self.stop_frames()
            if state == "error":
                page.show_error(feed_error(source, name, str(message.message)))
        if self._opened is not None and not self._opened.done():
            self._opened.set_result(self.stage.feed == "camera")

    def begin(self, source: str, name: str) -> None:
        """Run the active view on the frames the shell hands over: the camera's (shown as a mirror) or a
        video file's."""
        page.hide_error()
        self._frames_in = NewestFrame(self.shell)
        self.frames, self.fps, self._last_frame_at = 0, 0.0, 0.0
        self.stage.show_feed(source, name)
        self._loop = asyncio.ensure_future(self.run(self._frames_in))

    async def stop(self) -> None:
        """Stop the camera (or its start) or the video file, and wait for the frame in progress, so
        nothing draws after it."""
        if self.stage.feed or self._opening:
            self.shell.send("stop-feed")
        await self.stop_frames()

    async def stop_frames(self) -> None:
        """End the frame loop, the shell having stopped what gave the frames."""
        self._opening = None
        self.release()
        loop = self._loop
        if loop is not None:
            await loop
            if self._loop is loop:  # no other loop began meanwhile
                self._loop = None

    def release(self) -> None:
        frames_in, self._frames_in = self._frames_in, None
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
        while self._frames_in is frames_in:
            try:
                frame = await frames_in.next()
                if frame is None:
                    continue
                async with stage.one_at_a_time:  # a re-run of the view or a switch may be under way
                    if self._frames_in is not frames_in:
                        frame.close()
                        break
                    start = now_ms()
                    stage.show_frame(frame)
                    timings = {"capture": now_ms() - start}
                    await self.viewer.run_frame(stage.picture, timings)
            except engines.BackendLost:  # the app carries on with another backend: so does the feed
                continue
            except Exception as exc:  # noqa: BLE001
                if self._frames_in is frames_in:
                    doing = f"processing the {stage.feed}'s frames"
                    self.shell.send("stop-feed")
                    self.release()
                    page.report_unexpected(doing, exc)
                break
            if self._frames_in is not frames_in:  # stopped during the frame: it was the last, not counted
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
        return {"frames": self.frames, "feed": self.stage.feed}
