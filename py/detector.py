"""Face detectors: pixels on the device -> model -> one readback -> numpy decoding.

A detector card names its family (`model.family`); DETECTORS maps each family to its class, so
another family is one class and one entry here. The UI and the headless commands call the same code.
"""

from __future__ import annotations

from pyscript.ffi import to_js

import tfbridge
from anchors import generate_anchors
from cards import DetectorCard
from clock import now_ms
from model import CardModel, Progress
from results import DecodedFrame
from ssd import decode_candidates


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
        frame = decode_candidates(raw, self.anchors, self.card.variances)
        timings.update(
            preprocess=mark - start, inference=inferred - mark, readback=read - inferred, box_decode=now_ms() - read
        )
        return frame


DETECTORS: dict[str, type[SsdDetector]] = {"ssd": SsdDetector}  # a card's model.family -> its class


async def load_detector(card: DetectorCard, models_url: str, on_progress: Progress) -> SsdDetector:
    """The detector of a card's family, loaded and warmed up."""
    return await DETECTORS[card.family].load(card, models_url, on_progress)
