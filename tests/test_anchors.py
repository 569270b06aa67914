"""Anchor generation against the layout the face-mask model was trained with."""

import math
from pathlib import Path

import numpy as np
import pytest

from anchors import anchor_shapes, generate_anchors
from cards import AnchorSpec, parse_card

CARD = parse_card((Path(__file__).parents[1] / "models" / "aizoo-face-mask.toml").read_text())


def test_face_mask_anchor_count_matches_model_output():
    # 33² + 17² + 9² + 5² + 3² locations, 4 anchors each: the model's 5972 outputs.
    assert generate_anchors(CARD.anchors).shape == (5972, 4)


def test_shapes_are_sizes_with_first_ratio_then_ratios_with_first_size():
    shapes = anchor_shapes((0.04, 0.056), (1.0, 0.62, 0.42))
    expected = [(0.04, 0.04), (0.056, 0.056),
                (0.04 * math.sqrt(0.62), 0.04 / math.sqrt(0.62)),
                (0.04 * math.sqrt(0.42), 0.04 / math.sqrt(0.42))]
    np.testing.assert_allclose(shapes, expected)


def test_centres_are_row_major_cell_centres():
    spec = AnchorSpec(feature_maps=((2, 3),), sizes=((0.5,),), ratios=((1.0,),))
    anchors = generate_anchors(spec)
    expected_centres = [((x + 0.5) / 3, (y + 0.5) / 2) for y in range(2) for x in range(3)]
    np.testing.assert_allclose(anchors[:, :2], expected_centres, rtol=1e-6)
    np.testing.assert_allclose(anchors[:, 2:], 0.5)


@pytest.mark.parametrize("index, expected", [
    (0, (0.5 / 33, 0.5 / 33, 0.04, 0.04)),                      # first map, first location, first size
    (4, (1.5 / 33, 0.5 / 33, 0.04, 0.04)),                      # next location is the next column
    (33 * 4, (0.5 / 33, 1.5 / 33, 0.04, 0.04)),                 # a row later
    (33 * 33 * 4 + 1, (0.5 / 17, 0.5 / 17, 0.11, 0.11)),        # second map, second size
    (5972 - 1, (2.5 / 3, 2.5 / 3, 0.64 * math.sqrt(0.42), 0.64 / math.sqrt(0.42))),  # last anchor
])
def test_face_mask_anchor_positions(index, expected):
    np.testing.assert_allclose(generate_anchors(CARD.anchors)[index], expected, rtol=1e-6)
