"""The engine bridge of CPython: a card's ONNX model in an onnxruntime session, numpy in, numpy out,
the contract the page's bridges (py/tfbridge.py, py/ortbridge.py) keep with tf.js tensors."""

from __future__ import annotations

import onnxruntime

from cards import ONNX_ENTRY, ModelCard

from ..project import BUILD, SetupError

# names.CPYTHON_BACKENDS by onnxruntime's execution providers
PROVIDERS = {"ort-cpu": ["CPUExecutionProvider"], "ort-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"]}


def onnx_model(card: ModelCard) -> bytes:
    """The card's ONNX model as `build.py models` wrote it."""
    if "onnx" not in card.engines:
        raise SetupError(f"{card.name} has no ONNX model: run it with a browser backend (--backend wasm).")
    path = BUILD / "models" / card.id / ONNX_ENTRY
    try:
        return path.read_bytes()
    except OSError:
        raise SetupError(f"{path} is missing: run `python3 build.py models`.") from None


class OnnxNetwork:
    """An onnxruntime session of a card's ONNX model on `backend`, using `threads` threads."""

    def __init__(self, card: ModelCard, model: bytes, backend: str = "ort-cpu", threads: int = 0) -> None:
        wanted = PROVIDERS[backend]
        if wanted[0] not in onnxruntime.get_available_providers():
            raise SetupError(f"{backend} needs onnxruntime's {wanted[0]}, which this onnxruntime lacks "
                             "(for CUDA: pip install onnxruntime-gpu, with a GPU and its driver).")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # onnxruntime reads no OMP_NUM_THREADS; 0: one per core
        options.inter_op_num_threads = 1
        self.card, self.backend = card, backend
        self.session = onnxruntime.InferenceSession(model, options, providers=wanted)
        self.input_name = self.session.get_inputs()[0].name

    def run(self, batch) -> list:
        """The network's outputs for a float32 batch, in the order the card numbers them."""
        return self.session.run(None, {self.input_name: batch})
