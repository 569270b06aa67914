"""Box decoding, IoU and non-maximum suppression for SSD detectors. Pure numpy.

Boxes are (xmin, ymin, xmax, ymax) in normalised [0, 1] input coordinates unless said otherwise.
"""

from __future__ import annotations

import numpy as np


def decode_boxes(offsets: np.ndarray, anchors: np.ndarray, variances) -> np.ndarray:
    """Turn SSD box offsets into corner boxes.

    offsets: [N, 4] raw (dcx, dcy, dw, dh); anchors: [N, 4] (cx, cy, w, h); variances: 4 numbers.
    Returns [N, 4] (xmin, ymin, xmax, ymax), float32.
    """
    scaled = offsets * np.asarray(variances, dtype=np.float32)
    centre = scaled[:, :2] * anchors[:, 2:] + anchors[:, :2]
    half = np.exp(scaled[:, 2:]) * anchors[:, 2:] / 2
    return np.concatenate([centre - half, centre + half], axis=1)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of [..., 4] corner boxes; inverted boxes have area 0."""
    return np.maximum(boxes[..., 2] - boxes[..., 0], 0) * np.maximum(boxes[..., 3] - boxes[..., 1], 0)


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one [4] box with each of [M, 4] boxes: shape [M].

    Column by column, in few numpy calls: in Pyodide each call costs microseconds, whatever its size.
    """
    width = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    height = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    inter = np.maximum(width, 0) * np.maximum(height, 0)
    union = box_area(box) + box_area(others) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def non_max_suppression(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, score_threshold: float, max_output: int
) -> np.ndarray:
    """Greedy NMS with the semantics of tf.image.nonMaxSuppression.

    Candidates are the boxes with score > score_threshold, taken by descending score
    (ties keep the lower index first); a candidate is dropped when its IoU with an
    already kept box exceeds iou_threshold. Returns at most max_output indices into
    `boxes`, best first.
    """
    candidates = np.flatnonzero(scores > score_threshold)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    keep: list[int] = []
    while order.size and len(keep) < max_output:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        order = rest[iou(boxes[best], boxes[rest]) <= iou_threshold]
    return np.array(keep, dtype=np.int64)
