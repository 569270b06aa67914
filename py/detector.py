"""The face-mask pipeline: pixels on the device -> model -> one readback -> numpy post-processing.

The UI and the headless commands call this same code.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np

import tfbridge
from anchors import generate_anchors
from boxes import decode_boxes
from cards import DetectorCard
from results import DecodedFrame

# Candidates scoring at most this are dropped before decoding: no threshold the page offers
# goes lower (the score slider starts here), and most of the 5972 anchors fall below it.
CANDIDATE_FLOOR = 0.05


def now_ms() -> float:
    return time.perf_counter() * 1000.0


class FaceMaskDetector:
    """An SSD detector described by a model card: anchors computed once, one public call (`infer`)."""

    def __init__(self, card: DetectorCard, model) -> None:
        self.card = card
        self.model = model
        self.anchors = generate_anchors(card.anchors)

    @classmethod
    async def load(
        cls, card: DetectorCard, models_url: str, on_progress: Callable[[int, int | None], None]
    ) -> FaceMaskDetector:
        model = await tfbridge.load_model(card, models_url, on_progress)
        await tfbridge.warm_up(model, card)
        return cls(card, model)

    def dispose(self) -> None:
        self.model.dispose()

    async def infer(self, canvas, timings: dict[str, float]) -> DecodedFrame:
        """Detect on a canvas; adds its stage times to `timings` (ms)."""
        start = now_ms()
        with tfbridge.tensor_scope():
            batch = tfbridge.preprocess(canvas, self.card)
            mark = now_ms()
            joined = tfbridge.tf().keep(tfbridge.predict_joined(self.model, batch, self.card))
        inferred = now_ms()
        raw = (await tfbridge.read_array(joined))[0]
        read = now_ms()
        frame = self.decode(raw)
        timings.update(
            preprocess=mark - start, inference=inferred - mark, readback=read - inferred, box_decode=now_ms() - read
        )
        return frame

    def decode(self, raw: np.ndarray) -> DecodedFrame:
        """[N, 4 + classes] model output -> the candidates above CANDIDATE_FLOOR: their boxes,
        best class and its score."""
        class_scores = raw[:, 4:]
        # Class by class: numpy's row-wise max over so few columns is eight times slower in Pyodide.
        scores = functools.reduce(np.maximum, class_scores.T)
        keep = np.flatnonzero(scores > CANDIDATE_FLOOR)
        boxes = decode_boxes(raw[keep, :4], self.anchors[keep], self.card.variances)
        return DecodedFrame(boxes, scores[keep], class_scores[keep].argmax(axis=1))
