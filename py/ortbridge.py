"""The thin layer between Python and ONNX Runtime Web: a session from a card's ONNX model, run on
tf.js tensors and answering tf.js tensors, so that the steps around a network (resizing, scaling,
decoding, blending) are the same code whatever engine runs it. Under ONNX Runtime, tf.js runs on
wasm: its tensors are in main memory, handed over without a wait.
"""

from __future__ import annotations

import js
from pyodide.ffi import JsException
from pyscript.ffi import to_js

import engines
import start
import tfbridge
from cards import ONNX_ENTRY, ModelCard
from names import BACKEND_NAMES
from tfbridge import ModelLoadError


class OnnxNetwork:
    """A card's ONNX model in an ONNX Runtime session on one of its backends (`ort-wasm`, `ort-webgpu`)."""

    def __init__(self, card: ModelCard, session, ort, backend: str) -> None:
        self.card, self.session, self.ort, self.backend = card, session, ort, backend

    async def run(self, batch) -> list:
        """The network's outputs for a float32 batch, as tf.js tensors (the caller disposes them), in the
        order the card numbers them (the converted graph's, which the ONNX model keeps)."""
        tensor = self.ort.Tensor.new("float32", batch.dataSync(), batch.shape)
        feeds = js.Object.fromEntries(to_js([[self.session.inputNames[0], tensor]]))
        try:
            results = await engines.until_lost(self.session.run(feeds), self.backend)
        except JsException as exc:
            raise RuntimeError(f"{BACKEND_NAMES[self.backend]} could not run {self.card.name}: {exc.message}") from None
        finally:
            tensor.dispose()
        outputs = []
        for name in self.session.outputNames:
            output = getattr(results, name)
            outputs.append(tfbridge.tf().tensor(output.data, output.dims, "float32"))
            output.dispose()
        return outputs

    def dispose(self) -> None:
        self.session.release()


async def load_network(card: ModelCard, base_url: str, backend: str, on_progress) -> OnnxNetwork:
    """Fetch a card's ONNX model and build its session on `backend` (ModelLoadError, saying why, when
    the file is missing or the engine cannot build it: damaged, or an operation it lacks)."""
    data = await tfbridge.fetch_bytes(f"{base_url}{card.id}/{ONNX_ENTRY}", None, on_progress)
    try:
        ort = await start.onnx_runtime(backend)
        session = await start.onnx_session(backend, to_js(data))
    except JsException as exc:
        raise ModelLoadError(f"{BACKEND_NAMES[backend]} could not build {card.name} ({exc.message}).") from None
    return OnnxNetwork(card, session, ort, backend)
