"""Box decoding, IoU and NMS, including property tests of NMS against a brute-force version."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from boxes import box_area, decode_boxes, iou, non_max_suppression


def test_zero_offsets_decode_to_the_anchor():
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]], dtype=np.float32)
    np.testing.assert_allclose(decode_boxes(np.zeros((1, 4), np.float32), anchors, [0.1, 0.1, 0.2, 0.2]),
                               [[0.4, 0.3, 0.6, 0.7]], rtol=1e-6)


def test_offsets_scale_by_variance_and_anchor_size():
    anchors = np.array([[0.5, 0.5, 0.2, 0.4]], dtype=np.float32)
    offsets = np.array([[1.0, -1.0, 5.0, 0.0]], dtype=np.float32)
    cx, cy = 0.5 + 1.0 * 0.1 * 0.2, 0.5 - 1.0 * 0.1 * 0.4
    w, h = np.exp(5.0 * 0.2) * 0.2, 0.4
    np.testing.assert_allclose(decode_boxes(offsets, anchors, [0.1, 0.1, 0.2, 0.2]),
                               [[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]], rtol=1e-5)


def test_iou_of_known_boxes():
    box = np.array([0, 0, 2, 2], dtype=np.float32)
    others = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [5, 5, 6, 6], [1, 1, 1, 1]], dtype=np.float32)
    np.testing.assert_allclose(iou(box, others), [1.0, 1 / 7, 0.0, 0.0])


def brute_force_nms(boxes, scores, iou_threshold, score_threshold, max_output):
    """The definition, one pair at a time."""
    def pair_iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        union = box_area(a) + box_area(b) - inter
        return inter / union if union > 0 else 0.0

    order = sorted((i for i in range(len(scores)) if scores[i] > score_threshold), key=lambda i: (-scores[i], i))
    keep = []
    for i in order:
        if len(keep) == max_output:
            break
        if all(pair_iou(boxes[i], boxes[k]) <= iou_threshold for k in keep):
            keep.append(i)
    return keep


@st.composite
def box_sets(draw):
    n = draw(st.integers(0, 40))
    corners = draw(arrays(np.float32, (n, 4), elements=st.floats(0, 1, width=32)))
    boxes = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])], 1)
    # Few distinct scores, so that ties (kept in index order) are exercised.
    scores = draw(arrays(np.float32, (n,), elements=st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9, 0.95])))
    return boxes, scores


@settings(max_examples=300, deadline=None)
@given(box_sets(), st.floats(0, 1), st.sampled_from([0.0, 0.5, 0.8]), st.integers(1, 50))
def test_nms_matches_brute_force(data, iou_threshold, score_threshold, max_output):
    boxes, scores = data
    kept = non_max_suppression(boxes, scores, iou_threshold, score_threshold, max_output)
    assert kept.tolist() == brute_force_nms(boxes, scores, iou_threshold, score_threshold, max_output)


@settings(max_examples=100, deadline=None)
@given(box_sets(), st.floats(0, 1))
def test_kept_boxes_overlap_each_other_at_most_the_threshold(data, iou_threshold):
    boxes, scores = data
    kept = non_max_suppression(boxes, scores, iou_threshold, 0.0, 100)
    for n, i in enumerate(kept):
        assert np.all(iou(boxes[i], boxes[kept[n + 1:]]) <= iou_threshold)
    assert np.all(np.diff(scores[kept]) <= 0)  # best first
