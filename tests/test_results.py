"""Result types of the face-mask pipeline, in CPython: boxes to pixels, the detections kept, JSON."""

import numpy as np
import pytest

from cards import parse_card
from conftest import ROOT
from results import DecodedFrame, Detection, FrameResult, select_detections, to_pixels

CARD = parse_card((ROOT / "models" / "aizoo-face-mask.toml").read_text())


def test_a_box_in_pixels_is_clipped_to_the_image_and_halves_round_up():
    assert to_pixels(np.array([0.1, 0.25, 0.5, 0.75]), 100, 200) == (10, 50, 50, 150)
    assert to_pixels(np.array([0.125, 0.0625, 0.375, 0.3125]), 4, 8) == (1, 1, 2, 3)  # 0.5, 0.5, 1.5, 2.5
    assert to_pixels(np.array([-0.2, -0.1, 1.3, 1.01]), 520, 686) == (0, 0, 520, 686)


def frame(boxes, scores, classes) -> DecodedFrame:
    return DecodedFrame(np.array(boxes, np.float32), np.array(scores, np.float32), np.array(classes, np.int32))


def test_detections_are_the_candidates_nms_keeps_best_first_with_their_labels():
    decoded = frame([[0.1, 0.1, 0.3, 0.3], [0.11, 0.1, 0.31, 0.3], [0.6, 0.6, 0.9, 0.9], [0.0, 0.5, 0.2, 0.7]],
                    [0.8, 0.9, 0.7, 0.4], [0, 1, 0, 1])
    kept = select_detections(decoded, CARD, 200, 100, score_threshold=0.5, iou_threshold=0.5)
    # The second box overlaps the first (IoU 0.9) and scores higher; the last is under the threshold.
    assert kept == [Detection((22, 10, 62, 30), 1, "NoMask", pytest.approx(0.9)),
                    Detection((120, 60, 180, 90), 0, "Mask", pytest.approx(0.7))]
    assert [d.label for d in select_detections(decoded, CARD, 200, 100, 0.3, 0.95)] == [
        "NoMask", "Mask", "Mask", "NoMask"]  # nothing suppressed at IoU 0.95


def test_no_more_detections_than_the_card_allows():
    boxes = [[i / 200, 0.0, i / 200 + 0.004, 0.004] for i in range(150)]  # apart: none overlaps another
    kept = select_detections(frame(boxes, [0.9] * 150, [0] * 150), CARD, 1000, 1000, 0.5, 0.5)
    assert len(kept) == CARD.max_detections == 100


def test_results_as_json():
    detection = Detection((1, 2, 3, 4), 0, "Mask", 0.123456789)
    assert detection.as_dict() == {"box": [1, 2, 3, 4], "class_id": 0, "label": "Mask", "score": 0.123457}
    result = FrameResult(520, 686, [detection], {"inference": 12.34567, "nms": 0.0004})
    assert result.as_dict("photo.jpg") == {"image": "photo.jpg", "width": 520, "height": 686,
                                           "detections": [detection.as_dict()],
                                           "timings_ms": {"inference": 12.346, "nms": 0.0}}
    assert "image" not in result.as_dict()
