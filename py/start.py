"""What site/start.mjs began before Python ran, as Python takes it: the one place that reads
`globalThis.pylensStart`. The channel to the page's shell, tf.js and its backend, ONNX Runtime Web
(once chosen), the detector's early download, the kept backend times and Python's snapshot for the
next visit.
"""

from __future__ import annotations

import js
from pyscript.ffi import to_js

_start = js.pylensStart


def port():
    """The MessagePort to the page's shell (py/shell.py)."""
    return _start.port


def tfjs():
    """The tf.js module being imported (a promise)."""
    return _start.tfjs


def page_backend():
    """The backend chosen for the page's `?backend=` (a promise of {backend, missed})."""
    return _start.backend


def use_backend(wanted: str | None, times: dict[str, float], avoid: set[str]):
    """Switch tf.js to `wanted` (None: the fastest by `times`, else start.mjs's order), never one of
    `avoid` (a promise of {backend, missed})."""
    return _start.useBackend(wanted, to_js(times) if times else None, to_js(sorted(avoid)))


def onnx_runtime(backend: str):
    """ONNX Runtime Web's module for one of its backends (a promise; imported the first time)."""
    return _start.onnxRuntime(backend)


def onnx_session(backend: str, model: bytes):
    """An ONNX Runtime session of a model's bytes (a Uint8Array) on one of its backends (a promise)."""
    return _start.onnxSession(backend, model)


def backend_lost():
    """A promise that settles with {backend, reason} when the backend in use stops working."""
    return _start.lost


def until_lost(work):
    """`work` (a promise), unless the backend in use stops working first: then a rejection, an
    Error named "BackendLost" with the browser's reason."""
    return _start.untilLost(work)


def default_detector() -> str:
    """The detector start.mjs downloads before Python asks for it."""
    return str(_start.defaultDetector)


def fetch(url: str):
    """A file start.mjs downloaded already, else a new download (a promise of a Response)."""
    return _start.fetch(url)


async def kept_backend_times(detector_id: str) -> dict[str, float]:
    """The detector's time on each backend, in ms, as this browser measured and kept them (the
    built site keeps them); empty when there are none."""
    times = await _start.backendTimes(detector_id)
    return times.to_py() if times else {}


async def time_backends(detector_id: str, model_url: str, model_format: str, input_shape: list[int],
                        onnx_url: str | None) -> dict:
    """The detector timed on every backend beside the app (and kept, on the built site): tf.js's, and
    ONNX Runtime's (given its ONNX model's URL) whose runtime this browser has cached."""
    times = await _start.timeBackends(detector_id, model_url, model_format, to_js(input_shape), onnx_url)
    return times.to_py() if times else {}


def snapshot() -> str:
    """The state of Python's snapshot for the next visit (see site/snapshot.mjs)."""
    return str(_start.snapshot)


async def keep_snapshot(modules: list[str]) -> str:
    """Have a snapshot of Python made, holding these standard-library modules; its new state."""
    return str(await _start.keepSnapshot(to_js(modules)))
