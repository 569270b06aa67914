"""Face detectors: pixels on the device -> model -> one readback -> numpy decoding.

A detector card names its family (`model.family`); DETECTORS maps each family to its class, so
another family is one class and one entry here. The UI and the headless commands call the same code.
"""

from __future__ import annotations

import functools

import numpy as np
from pyscript.ffi import to_js

import tfbridge
from anchors import generate_anchors
from boxes import decode_boxes
from cards import DetectorCard
from clock import now_ms
from model import CardModel, Progress
from results import DecodedFrame

# Candidates scoring at most this are dropped before decoding: no threshold the page offers
# goes lower (the score slider starts here), and most of the 5972 anchors fall below it.
CANDIDATE_FLOOR = 0.05


class SsdDetector(CardModel):
    """A single-shot detector: box offsets and class scores per anchor, the anchors computed once
    from the card; one call per frame (`infer`)."""

    card: DetectorCard

    def __init__(self, card: DetectorCard, network, note: str | None = None) -> None:
        super().__init__(card, network, note)
        self.anchors = generate_anchors(card.anchors)

    @classmethod
    async def load(cls, card: DetectorCard, models_url: str, on_progress: Progress) -> SsdDetector:
        """Load, then run once on zeros, so that the first frame does not pay for kernel set-up."""
        detector = await super().load(card, models_url, on_progress)
        await tfbridge.read_array(await detector.predict(
            tfbridge.tf().zeros(to_js([1, card.input_height, card.input_width, 3]))))
        return detector

    async def predict(self, batch):
        """The network on an input batch (disposed here), its box and score outputs joined into one
        [1, N, 4 + classes] tensor, to be read back in one transfer (the caller's)."""
        outputs = await self.run(batch)
        joined = tfbridge.kept(lambda: outputs[self.card.box_output].concat(outputs[self.card.score_output], 2))
        tfbridge.dispose([batch, *outputs])
        return joined

    async def infer(self, canvas, timings: dict[str, float]) -> DecodedFrame:
        """Detect on a canvas; adds its stage times to `timings` (ms)."""
        start = now_ms()
        batch = tfbridge.kept(lambda: tfbridge.preprocess(canvas, self.card))
        mark = now_ms()
        joined = await self.predict(batch)
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


DETECTORS: dict[str, type[SsdDetector]] = {"ssd": SsdDetector}  # a card's model.family -> its class


async def load_detector(card: DetectorCard, models_url: str, on_progress: Progress) -> SsdDetector:
    """The detector of a card's family, loaded and warmed up."""
    return await DETECTORS[card.family].load(card, models_url, on_progress)
