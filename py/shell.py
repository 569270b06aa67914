"""The page's shell (site/shell.js) as the app sees it: one MessagePort that brings images, camera
frames and headless calls, and takes pictures to show, camera requests and answers.

The app runs in a PyScript worker when the page is cross-origin isolated, else on the page; the
channel works the same either way, and everything else goes through `pyscript.document` and `window`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

import js
from pyodide.ffi import create_proxy
from pyscript.ffi import to_js

import names
import start


def connect() -> Shell:
    """The channel to the shell, which site/start.mjs opened as the app started."""
    return Shell(start.port())


class Shell:
    def __init__(self, port) -> None:
        self.port = port
        self.handlers: dict[str, Callable] = {}
        self._on_message = create_proxy(self._dispatch)

    def listen(self) -> None:
        """Start taking messages; until now the port kept them (an image given during start-up, say)."""
        self.port.onmessage = self._on_message

    def on(self, kind: str, handler: Callable) -> None:
        """Call handler(message) for each message of this kind (a coroutine runs as a task)."""
        if kind not in names.TO_PYTHON:
            raise ValueError(f"the shell sends no message '{kind}' (py/names.py: TO_PYTHON)")
        self.handlers[kind] = handler

    def send(self, kind: str, transfer: list | None = None, **fields) -> None:
        unknown = fields.keys() - set(names.TO_SHELL.get(kind, ()))
        if kind not in names.TO_SHELL or unknown:
            raise ValueError(f"the shell takes no message '{kind}' with {sorted(fields)} (py/names.py: TO_SHELL)")
        message = to_js({"kind": kind, **fields})
        self.port.postMessage(message, to_js(transfer or []))

    def _dispatch(self, event) -> None:
        data = event.data
        handler = self.handlers.get(data.kind)
        if handler is None:
            return
        result = handler(data)
        if inspect.isawaitable(result):
            asyncio.ensure_future(result)

    def blank(self, text: str | None = None) -> None:
        """No picture on the page's stage: its placeholder says `text` (None: what the page says first)."""
        self.send("blank", text=text)

    async def present(self, picture=None, overlay=None, caption: str = "") -> None:
        """Show canvases (OffscreenCanvas) on the page's picture and overlay canvases, together, with
        a caption naming the picture."""
        bitmaps = {name: await js.createImageBitmap(canvas)
                   for name, canvas in (("picture", picture), ("overlay", overlay)) if canvas is not None}
        self.send("present", list(bitmaps.values()), caption=caption, **bitmaps)
