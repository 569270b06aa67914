"""Result types of the face-mask pipeline and their conversion to pixels and JSON. Pure Python."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from boxes import non_max_suppression
from cards import DetectorCard


@dataclass(frozen=True)
class Detection:
    """One detected face: box (xmin, ymin, xmax, ymax) in pixels of the upright image."""

    box: tuple[int, int, int, int]
    class_id: int
    label: str
    score: float

    def as_dict(self) -> dict:
        return {"box": list(self.box), "class_id": self.class_id, "label": self.label, "score": round(self.score, 6)}


@dataclass
class FrameResult:
    """What one frame gave: the image size, its detections and how long each stage took."""

    width: int
    height: int
    detections: list[Detection]
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self, image: str | None = None) -> dict:
        out: dict = {} if image is None else {"image": image}
        out.update(
            width=self.width,
            height=self.height,
            detections=[d.as_dict() for d in self.detections],
            timings_ms={k: round(v, 3) for k, v in self.timings_ms.items()},
        )
        return out


@dataclass(frozen=True)
class DecodedFrame:
    """A frame's decoded candidates, kept so that thresholds can change without re-running the model.

    boxes: [N, 4] normalised corners; scores: [N] best class score; classes: [N] its class.
    """

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def to_pixels(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A normalised corner box in pixels of a width x height image, clipped to it, halves rounded up."""
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    return (
        _round_half_up(max(xmin * width, 0.0)),
        _round_half_up(max(ymin * height, 0.0)),
        _round_half_up(min(xmax * width, float(width))),
        _round_half_up(min(ymax * height, float(height))),
    )


def select_detections(
    frame: DecodedFrame, card: DetectorCard, width: int, height: int,
    score_threshold: float, iou_threshold: float,
) -> list[Detection]:
    """Class-agnostic NMS over a frame's candidates, as Detections in pixels, best first."""
    keep = non_max_suppression(frame.boxes, frame.scores, iou_threshold, score_threshold, card.max_detections)
    return [
        Detection(
            box=to_pixels(frame.boxes[i], width, height),
            class_id=int(frame.classes[i]),
            label=card.labels[int(frame.classes[i])].name,
            score=float(frame.scores[i]),
        )
        for i in keep
    ]
