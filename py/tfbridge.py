"""The thin layer between Python and tf.js: model loading and running, tensors in and out.

Every tensor made here is either disposed here (inside `tensor_scope`) or returned to a
caller that owns it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import js
import numpy as np
from pyodide.ffi import JsException
from pyscript.ffi import to_js

import engines
import start
from cards import DetectorCard, ModelCard

CPU_BACKENDS = ("wasm", "cpu")  # tensors live in main memory: no texture upload, no wait to read


class ModelLoadError(RuntimeError):
    """A model file is missing, damaged or cannot be built; the message says which and why."""


_tfjs = globals().get("_tfjs")  # the tf.js module (tools/tfjs-entry.mjs bundled), once imported; kept by a live reload


async def load_tfjs() -> None:
    """Take tf.js, which site/start.mjs began to import as the app started."""
    global _tfjs
    try:
        _tfjs = await start.tfjs()
    except JsException as exc:
        raise RuntimeError(f"TensorFlow.js did not load ({exc}). Reload the page; if it persists, the files "
                           "under vendor/ are missing from the server (run build.py serve).") from None


def tf():
    """The tf.js namespace (after load_tfjs)."""
    return _tfjs.tf


def kept(make: Callable[[], object]):
    """The tensor that `make` builds with tf.js operations, in a scope of its own: the one tensor
    kept, for the caller to dispose."""
    with tensor_scope():
        return tf().keep(make())


def dispose(tensors: list) -> None:
    tf().dispose(to_js(tensors))


@contextmanager
def tensor_scope() -> Iterator[None]:
    """Dispose every tensor made inside the block, except those passed to tf.keep (like tf.tidy)."""
    engine = tf().engine()
    engine.startScope()
    try:
        yield
    finally:
        engine.endScope()


async def fetch_bytes(url: str, sha256: str | None, on_bytes: Callable[[int, int | None], None]) -> bytes:
    """Download one file, reporting (bytes so far, total or None), and check its sha256 when known."""
    name = url.rsplit("/", 1)[-1]
    try:
        response = await start.fetch(url)
    except JsException as exc:
        raise ModelLoadError(f"Model file {name} could not be downloaded ({exc}). Check the connection "
                             "and reload the page.") from None
    if not response.ok:
        raise ModelLoadError(f"Model file {name} is missing on the server (HTTP {response.status}). "
                             "Run `python3 build.py models` and reload the page.")
    length = response.headers.get("Content-Length")
    total = int(length) if length else None
    reader = response.body.getReader()
    chunks: list[bytes] = []
    received = 0
    while True:
        chunk = await reader.read()
        if chunk.done:
            break
        data = chunk.value.to_bytes()
        chunks.append(data)
        received += len(data)
        on_bytes(received, total)
    data = b"".join(chunks)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ModelLoadError(f"Model file {name} is damaged: its checksum does not match the model card. "
                             "Run `python3 build.py models` to fetch it again, then reload the page.")
    return data


async def load_model(card: ModelCard, base_url: str, on_progress: Callable[[int, int | None], None]):
    """Fetch a card's model (its JSON, then the weight files it lists), checking every file whose
    checksum the card gives, and build the tf.js model from memory.

    on_progress(bytes so far, total bytes or None) is called as the files arrive.
    """
    folder = f"{base_url}{card.id}/"
    checksums = card.served_checksums
    done = 0

    async def fetch(name: str) -> bytes:
        nonlocal done

        def progress(received: int, total: int | None, before: int = done) -> None:
            on_progress(before + received, None if total is None else before + total)

        data = await fetch_bytes(folder + name, checksums.get(name), progress)
        done += len(data)
        return data

    entry = await fetch(card.entry)
    try:
        manifest = json.loads(entry)
        weight_specs = [w for group in manifest["weightsManifest"] for w in group["weights"]]
        paths = [p for group in manifest["weightsManifest"] for p in group["paths"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"Model file {card.entry} is not a tf.js model manifest ({exc}).") from None
    weight_data = b"".join([await fetch(path) for path in paths])
    # Through JSON.parse rather than to_js: the topology's nulls must stay null, not become undefined.
    artifacts = js.JSON.parse(json.dumps({
        "modelTopology": manifest["modelTopology"],
        "format": manifest.get("format"),
        "generatedBy": manifest.get("generatedBy"),
        "convertedBy": manifest.get("convertedBy"),
        "signature": manifest.get("signature"),
        "userDefinedMetadata": manifest.get("userDefinedMetadata"),
        "weightSpecs": weight_specs,
    }))
    artifacts.weightData = to_js(weight_data).buffer
    tfjs = tf()
    handler = tfjs.io.fromMemory(artifacts)
    try:
        if card.format == "tfjs-layers":
            return await tfjs.loadLayersModel(handler)
        return await tfjs.loadGraphModel(handler)
    except JsException as exc:
        raise ModelLoadError(f"The model {card.name} could not be built: {exc}") from None


class TfjsNetwork:
    """A card's tf.js model."""

    def __init__(self, card: ModelCard, model) -> None:
        self.card, self.model = card, model

    async def run(self, batch) -> list:
        """The model's outputs for a batch, kept for the caller, who disposes them."""
        with tensor_scope():
            outputs = model_outputs(self.model, batch, self.card)
            for output in outputs:
                tf().keep(output)
        return outputs

    def dispose(self) -> None:
        self.model.dispose()


async def load_network(card: ModelCard, base_url: str, on_progress: Callable[[int, int | None], None]) -> TfjsNetwork:
    return TfjsNetwork(card, await load_model(card, base_url, on_progress))


def model_outputs(model, batch, card: ModelCard) -> list:
    """The model's output tensors for a batch, in the order the card numbers them: the converted
    graph's named outputs, else the model's own order."""
    names = card.conversion.outputs if card.conversion else ()
    result = model.execute(batch, to_js(list(names))) if names else model.predict(batch)
    return list(result) if js.Array.isArray(result) else [result]


def preprocess(canvas, card: DetectorCard):
    """Pixels of a canvas -> [1, H, W, 3] float32 model input.

    On the GPU backends fromPixels is a texture upload and tf.js resizes. On wasm and cpu it
    copies every pixel into memory, so the canvas shrinks the frame to the input size first
    (6 ms less for a 640×480 frame here). Call inside tensor_scope; the result belongs to that scope.
    """
    tfjs = tf()
    if tfjs.getBackend() in CPU_BACKENDS:
        return tfjs.browser.fromPixels(_shrunk(canvas, card.input_width, card.input_height)) \
            .div(card.input_scale).expandDims(0)
    pixels = tfjs.browser.fromPixels(canvas)
    resized = tfjs.image.resizeBilinear(pixels, to_js([card.input_height, card.input_width]))
    return resized.div(card.input_scale).expandDims(0)


def float_pixels(source):
    """A canvas's pixels as a float32 [H, W, 3] RGB tensor, 0…255. Call inside tensor_scope.

    On WebGPU, tf.js 4.22 casts int32 to float32 by relabelling the int32 buffer, and the
    shader of a convolution read straight from it (the style network's first layer) does not
    compile, so the network answers a flat grey picture. One element-wise op writes a real
    float32 buffer."""
    pixels = tf().browser.fromPixels(source).cast("float32")
    return pixels.mul(1) if tf().getBackend() == "webgpu" else pixels


_SMALL_CONTEXTS: dict[tuple[int, int], object] = {}  # a canvas's 2-D context per input size, reused every frame


def _shrunk(canvas, width: int, height: int):
    """The canvas drawn at width × height, sampled where tf.image.resizeBilinear samples: output
    pixel i reads source pixel i × scale, where the canvas reads at pixel centres, hence the offset
    of half a pixel less half a source pixel. Chromium covers every pixel with it (no antialiased
    edge), so no earlier frame shows through. On the test photos, scores stay within 0.012 of those
    with tf.js's own resize."""
    context = _SMALL_CONTEXTS.get((width, height))
    if context is None:
        small = js.OffscreenCanvas.new(width, height)
        context = _SMALL_CONTEXTS[(width, height)] = small.getContext("2d", to_js({"willReadFrequently": True}))
    context.drawImage(canvas, 0.5 * (1 - width / canvas.width), 0.5 * (1 - height / canvas.height), width, height)
    return context.canvas


async def read_values(tensor):
    """A tensor's values as a JS typed array, left in JS; disposes the tensor. Awaited on the GPU
    backends, until the backend is lost (BackendLost): a lost WebGL context never answers; on the
    CPU ones the values are ready, and copied at once."""
    backend = tf().getBackend()
    try:
        if backend in CPU_BACKENDS:
            return tensor.dataSync()
        return await engines.until_lost(tensor.data(), backend)
    finally:
        tensor.dispose()


async def read_array(tensor, dtype=np.float32) -> np.ndarray:
    """Read a tensor (float32, or int32 with dtype=np.int32) back into numpy, and dispose it."""
    shape = tuple(tensor.shape.to_py())
    return np.frombuffer((await read_values(tensor)).to_py(), dtype=dtype).reshape(shape)


def wasm_threads() -> bool:
    """Whether the active backend is wasm running multi-threaded (the page cross-origin isolated)."""
    return tf().getBackend() == "wasm" and bool(tf().env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"))


def tensor_count() -> int:
    return int(tf().memory().numTensors)
