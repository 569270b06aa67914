"""The one contract of every model wrapper: it loads from its card on the engine of the backend in
use, runs a batch (`run`, the same call on either engine), and frees its model in `dispose()`.
Detectors (detector.py), segmenters and stylizers (stylize.py) build on it.

Under one of ONNX Runtime's backends a card with an ONNX model runs there; one without, or one
whose ONNX model ONNX Runtime cannot build, runs on tf.js (on wasm), and `note` says why.
"""

from __future__ import annotations

from collections.abc import Callable

import engines
import ortbridge
import tfbridge
from cards import ModelCard
from names import BACKEND_NAMES

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


class CardModel:
    """A network (tfbridge.TfjsNetwork or ortbridge.OnnxNetwork) with the card that describes it;
    owns the network."""

    def __init__(self, card: ModelCard, network, note: str | None = None) -> None:
        self.card = card
        self.network = network
        self.note = note  # why the network runs on another engine than the backend in use

    @classmethod
    async def load(cls, card: ModelCard, models_url: str, on_progress: Progress) -> CardModel:
        """Download the card's files (checked against its checksums where it pins them) and build
        the network on the engine in use, else on tf.js."""
        backend, note = engines.backend_in_use(), None
        if engines.engine_of(backend) == "onnx":
            if "onnx" in card.engines:
                try:
                    return cls(card, await ortbridge.load_network(card, models_url, backend, on_progress))
                except tfbridge.ModelLoadError as exc:
                    note = f"{exc} It runs on TensorFlow.js instead."
            else:
                note = f"{card.name} has no ONNX model: it runs on TensorFlow.js, not {BACKEND_NAMES[backend]}."
        return cls(card, await tfbridge.load_network(card, models_url, on_progress), note)

    async def run(self, batch) -> list:
        """The network's output tensors for an input batch (a tf.js tensor, left to the caller), in
        the order the card numbers them; the caller disposes them."""
        return await self.network.run(batch)

    async def outputs(self, make_batch: Callable[[], object]) -> list:
        """The network's output tensors for the batch that `make_batch` builds with tf.js operations
        (in a scope of its own, and disposed after the run); the caller disposes them."""
        batch = tfbridge.kept(make_batch)
        try:
            return await self.run(batch)
        finally:
            batch.dispose()

    def dispose(self) -> None:
        """Free the network's weights; the wrapper is not used after this."""
        self.network.dispose()
