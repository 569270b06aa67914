"""Still pictures in: a file (picker, drop, paste), a demo photo, and many files at once (to the
view that takes a batch). Each becomes upright pixels on the stage, run through the active view.

The page's shell (site/shell/intake.mjs) takes files, so that they work before Python is ready; it sends
them here over its channel (py/shell.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyodide_js
from pyodide.ffi import JsException

import engines
import page
import tfbridge
from clock import now_ms
from picture import ImageError, Picture

if TYPE_CHECKING:
    from collections.abc import Callable

    from feed import FrameFeed
    from shell import Shell
    from stage import Stage
    from viewer import Viewer

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


class Intake:
    def __init__(self, stage: Stage, viewer: Viewer, feed: FrameFeed, publish: Callable[[], None]) -> None:
        self.stage, self.viewer, self.feed, self.publish = stage, viewer, feed, publish

    def listen(self, shell: Shell) -> None:
        """Take the pictures the shell sends (those given during start-up were kept)."""
        shell.on("image", page.handler(self.on_image, self.publish))
        shell.on("demo", page.handler(self.on_demo, self.publish))
        shell.on("batch", page.handler(self.on_batch, self.publish))
        shell.on("empty-folder", page.handler(self.on_empty_folder, self.publish))
        shell.on("nothing-dropped", page.handler(self.on_nothing_dropped, self.publish))
        shell.on("nothing-pasted", page.handler(self.on_nothing_pasted, self.publish))

    async def on_image(self, message) -> None:
        """A File from the picker, a drop or a paste; in the Batch view, one more photo of the batch."""
        if "batch" in self.viewer.active.roles:
            self.viewer.active.add([(str(message.name), message.file, None)])
            return
        try:
            data = (await message.file.arrayBuffer()).to_bytes()
        except JsException as exc:
            page.show_error(f"{message.name} could not be read ({exc}).")
            return
        await self.analyse_bytes(data, message.name)

    async def on_batch(self, message) -> None:
        """Several files, or a folder's images: to the view that takes a batch, analysed in turn."""
        batch = self.viewer.by_role("batch")
        await self.viewer.show(batch.name)
        batch.add([(str(given.name), given.file, getattr(given, "error", None)) for given in message.files])

    def on_empty_folder(self, message) -> None:
        page.show_error("That folder holds no image this app can read (JPEG, PNG, GIF, WebP or BMP).")

    async def on_demo(self, message) -> None:
        """A demo photo, decoded by the browser (the shell hands over its pixels, or why it has none)."""
        if message.error:
            page.show_error(f"The demo photo {message.file} could not be opened: {message.error}.")
            return
        await self.feed.stop()
        async with self.stage.one_at_a_time:
            start = now_ms()
            self.stage.show_still_bitmap(message.file, message.bitmap)
            await self.analyse_shown(message.file, start)

    def on_nothing_dropped(self, message) -> None:
        page.show_error("Nothing to analyse: drop an image file (from your files, not a link or text).")

    def on_nothing_pasted(self, message) -> None:
        page.show_error("The clipboard holds no image. Copy an image itself (not its file name), then paste "
                        "again.")

    async def analyse_bytes(self, data: bytes, name: str) -> dict:
        """Decode an image, show it and run the active view on it. Bad input leaves the previous
        picture in place."""
        await self.feed.stop()
        async with self.stage.one_at_a_time:
            start = now_ms()
            try:
                picture = await decode_picture(data, name)
            except ImageError as exc:
                page.show_error(str(exc))
                return {"error": str(exc)}
            except Exception as exc:  # noqa: BLE001 — a decoder bug must not take the app down
                page.report_unexpected(f"decoding {name}", exc)
                return {"error": f"{name} could not be decoded ({exc})."}
            self.stage.show_still(name, picture)
            return await self.analyse_shown(name, start)

    async def analyse_shown(self, name: str, decode_started: float) -> dict:
        """Run the active view on the picture just put on the stage. Call holding the stage's lock."""
        timings = {"image_decode": now_ms() - decode_started}
        self.stage.decode_ms = timings["image_decode"]
        page.hide_error()
        self.stage.reveal()
        try:
            return await self.viewer.run_frame(self.stage.picture, timings)
        except tfbridge.ModelLoadError as exc:
            page.show_load_error(str(exc))
            return {"error": str(exc)}
        except engines.BackendLost as exc:  # the app carries on with another backend, and runs this again
            return {"error": f"{name} could not be analysed: {exc}."}
        except Exception as exc:  # noqa: BLE001
            page.report_unexpected(f"analysing {name}", exc)
            return {"error": f"{name} could not be analysed ({exc})."}
