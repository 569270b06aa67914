"""The backend that runs the networks: one of tf.js's, or one of ONNX Runtime Web's (`ort-…`), chosen
at start or from the Backend menu. With ONNX Runtime, tf.js still does the steps around a network
(resizing, scaling, blending) on wasm, and a model without an ONNX version runs on tf.js there.
"""

from __future__ import annotations

from pyodide.ffi import JsException

import names
import start
from names import BACKEND_NAMES

_in_use = globals().get("_in_use", "")  # kept by a live reload


class BackendLost(RuntimeError):
    """The GPU backend in use stopped working: the browser lost its WebGPU device or WebGL context."""


def engine_of(backend: str) -> str:
    return "onnx" if backend in names.ONNX_BACKENDS else "tfjs"


def backend_in_use() -> str:
    """The backend that runs the networks ("" before the first choice)."""
    return _in_use


def compiles_shaders(backend: str) -> bool:
    """Whether a backend runs on the GPU, whose first frame compiles its shaders."""
    return backend in ("webgpu", "webgl", "ort-webgpu")


async def page_backend() -> tuple[str, str | None]:
    """The backend site/start.mjs chose as the app started (the page's `?backend=`, else
    automatically), as `select_backend` returns it."""
    return await _backend_choice(start.page_backend())


async def select_backend(wanted: str | None, times: dict[str, float], avoid: set[str]) -> tuple[str, str | None]:
    """Switch to `wanted`, or choose automatically: the fastest by `times` (the detector's, measured
    in this browser), else as site/start.mjs does at start; never one of `avoid`. Returns the active
    backend and, when `wanted` could not run, a sentence saying so."""
    return await _backend_choice(start.use_backend(wanted, times, avoid))


async def backend_lost() -> tuple[str, str]:
    """Wait until the backend in use stops working; its name and the browser's reason."""
    lost = await start.backend_lost()
    return str(lost.backend), str(lost.reason)


async def until_lost(work, backend: str):
    """Await `work` (a promise of the backend's), unless the backend stops working first: then
    BackendLost, saying why. WebGPU's readback rejects too (an AbortError) as its device goes."""
    try:
        return await start.until_lost(work)
    except JsException as exc:
        if exc.name in ("BackendLost", "AbortError"):
            raise BackendLost(f"{BACKEND_NAMES[backend]} stopped working ({exc.message})") from None
        raise


async def _backend_choice(choosing) -> tuple[str, str | None]:
    global _in_use
    try:
        choice = await choosing
    except JsException:
        raise RuntimeError("No TensorFlow.js backend could start in this browser.") from None
    _in_use, missed = str(choice.backend), choice.missed
    note = f"{BACKEND_NAMES[missed]} is not available in this browser; using {BACKEND_NAMES[_in_use]} instead." \
        if missed else None
    return _in_use, note
