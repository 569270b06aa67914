"""The face-mask pipeline in CPython: bytes -> upright pixels (py/imaging.py) -> the network's input
(py/ssd.py) -> onnxruntime -> candidates (py/ssd.py) -> NMS (py/results.py), the same steps as the
page's, with the numpy resize in place of tf.js's. Gives the result `build.py detect` prints."""

from __future__ import annotations

import time

import numpy as np

from anchors import generate_anchors
from cards import DetectorCard
from imaging import load_picture
from picture import ImageError
from pixels import rgb_array
from results import FrameResult, select_detections
from ssd import decode_candidates, input_batch

from .engine import OnnxNetwork


def elapsed_ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


class FaceMaskPipeline:
    """A detector card's network with its anchors, for one image after another."""

    def __init__(self, card: DetectorCard, network: OnnxNetwork) -> None:
        self.card, self.network = card, network
        self.anchors = generate_anchors(card.anchors)

    def detect(self, data: bytes, name: str, score_threshold: float | None = None,
               iou_threshold: float | None = None) -> dict:
        """An image's result (size, detections in its pixels, stage times), or {"error": why}; the
        thresholds default to the card's."""
        card = self.card
        start = time.perf_counter()
        try:
            picture = load_picture(data, name)
        except ImageError as exc:
            return {"error": str(exc)}
        timings = {"image_decode": elapsed_ms(start)}
        mark = time.perf_counter()
        batch = input_batch(rgb_array(picture.rgba, picture.width, picture.height), card)
        timings["preprocess"] = elapsed_ms(mark)
        mark = time.perf_counter()
        outputs = self.network.run(batch)
        timings["inference"] = elapsed_ms(mark)
        mark = time.perf_counter()
        raw = np.concatenate([outputs[card.box_output][0], outputs[card.score_output][0]], axis=1)
        frame = decode_candidates(raw, self.anchors, card.variances)
        timings["box_decode"] = elapsed_ms(mark)
        mark = time.perf_counter()
        detections = select_detections(
            frame, card, picture.source_width, picture.source_height,
            card.score_threshold if score_threshold is None else score_threshold,
            card.iou_threshold if iou_threshold is None else iou_threshold)
        timings["nms"] = elapsed_ms(mark)
        return FrameResult(picture.source_width, picture.source_height, detections, timings).as_dict()
