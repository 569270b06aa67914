"""The stage: the picture shown and what the active view drew over it, on two canvases here that the
page's shell (site/shell.js) shows together; what the picture is (its name, size, scale); and the
lock that keeps frames, analyses and switches one at a time.

Sources put pictures on it (py/intake.py, py/feed.py), views draw over it (py/views/), and the
views' switch tells it which view is active (py/viewer.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import page
from draw import composite_png, new_canvas, show_bitmap, show_picture
from page import element
from picture import Picture
from shell import Shell


class Stage:
    def __init__(self, shell: Shell, save_buttons: Iterable[str], fps_outputs: Iterable[str]) -> None:
        self.shell = shell
        self.picture = new_canvas(640, 480)
        self.overlay = new_canvas(640, 480)
        self.name = ""  # of the picture shown: a file's name, "webcam" or a video's
        self.size: tuple[int, int] | None = None  # of the picture shown (source pixels); None: none yet
        self.scale = 1.0  # picture canvas pixels per source pixel
        self.serial = 0  # one more at each still picture: what a view keeps of a picture is of one
        self.decode_ms = 0.0
        self.feed: str | None = None  # what gives the frames shown, "camera" or "video" (py/feed.py); None: a still
        self.one_at_a_time = asyncio.Lock()  # frames, analyses and switches never interleave
        self.first_result = asyncio.Event()  # set once a result has been shown
        self._save_buttons = tuple(save_buttons)  # enabled once a picture is shown
        self._fps_outputs = tuple(fps_outputs)

    # ---- what is shown

    def show_still(self, name: str, picture: Picture) -> None:
        """A decoded picture on the picture canvas (upright, shrunk to fit); `reveal` shows the stage."""
        show_picture(self.picture, picture)
        self._still(name, (picture.source_width, picture.source_height))

    def show_still_bitmap(self, name: str, bitmap) -> None:
        """A picture the browser decoded (an ImageBitmap of the demo photo) on the picture canvas."""
        size = (bitmap.width, bitmap.height)
        show_bitmap(self.picture, bitmap)
        self._still(name, size)

    def _still(self, name: str, size: tuple[int, int]) -> None:
        self.name, self.size = name, size
        self.serial += 1
        self.scale = self.picture.width / size[0]

    def show_feed(self, feed: str, name: str) -> None:
        """A camera's or video's frames from now on."""
        self.feed, self.name, self.scale = feed, name, 1.0
        self.reveal()

    def show_frame(self, bitmap) -> None:
        """A frame of the feed on the picture canvas (the camera's as a mirror)."""
        show_bitmap(self.picture, bitmap, mirrored=self.feed == "camera")
        self.size = (self.picture.width, self.picture.height)

    def feed_ended(self) -> None:
        """The feed stopped: its last frame stays as the picture shown."""
        self.feed = None
        self.show_fps("")

    def reveal(self) -> None:
        """A picture is on the stage: the placeholder goes, and the views can save."""
        element("placeholder").hidden = True
        for id_ in self._save_buttons:
            element(id_).disabled = False

    @property
    def has_still(self) -> bool:
        """Whether it shows a picture that no feed replaces."""
        return self.size is not None and self.feed is None

    def caption(self) -> str:
        """What the stage shows: the file's name and size, or the feed's name."""
        if self.feed or self.size is None:
            return self.name
        width, height = self.size
        return f"{self.name} · {width}×{height}"

    # ---- on the page

    async def present(self, with_picture: bool = True) -> None:
        """Show the overlay, and the picture under it, on the page."""
        await self.shell.present(self.picture if with_picture else None, self.overlay, self.caption())
        self.first_result.set()

    async def present_undrawn(self) -> None:
        """The picture shown with nothing drawn over it, while a view computes its drawing."""
        self.overlay.getContext("2d").clearRect(0, 0, self.overlay.width, self.overlay.height)
        await self.present()

    def blank(self, text: str | None = None) -> None:
        """No picture on the page's stage: its placeholder says `text` (None: what the page says first)."""
        self.shell.blank(text)

    def show_fps(self, text: str) -> None:
        for id_ in self._fps_outputs:
            element(id_).textContent = text

    # ---- saving

    def stem(self) -> str:
        """The picture's name without its extension, for the names of files saved from it."""
        return (self.name.rsplit(".", 1)[0] or "pylens").replace("/", "_")

    async def save_png(self, suffix: str) -> None:
        """The picture with what the view drew over it, as a PNG download."""
        page.download(await composite_png(self.picture, self.overlay), f"{self.stem()}-{suffix}.png")
