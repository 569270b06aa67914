"""Model cards: the face-mask card parses, and broken cards fail naming the field."""

from pathlib import Path

import pytest

from cards import CardError, parse_card

CARD_TEXT = (Path(__file__).parents[1] / "models" / "aizoo-face-mask.toml").read_text()


def test_face_mask_card():
    card = parse_card(CARD_TEXT)
    assert (card.input_width, card.input_height, card.input_scale) == (260, 260, 255.0)
    assert [label.name for label in card.labels] == ["Mask", "NoMask"]
    assert card.variances == (0.1, 0.1, 0.2, 0.2)
    assert (card.score_threshold, card.iou_threshold, card.max_detections) == (0.5, 0.5, 100)
    assert card.anchors.feature_maps == ((33, 33), (17, 17), (9, 9), (5, 5), (3, 3))
    assert {s.file for s in card.sources} == {"model.json", "group1-shard1of1.bin"}


@pytest.mark.parametrize("edit, message", [
    (("width = 260\n", ""), "missing field 'width'"),
    (('format = "tfjs-layers"', 'format = "onnx"'), "format must be one of"),
    (("variances = [0.1, 0.1, 0.2, 0.2]", "variances = [0.1, 0.1]"), "4 numbers"),
    (("score_threshold = 0.5", "score_threshold = 1.5"), "between 0 and 1"),
    (("score_threshold = 0.5", 'score_threshold = "high"'), "'score_threshold' must be a float"),
    (("feature_maps = [33, 17, 9, 5, 3]", "feature_maps = [33, 17, 9, 5]"), "one entry per feature map"),
    (("feature_maps = [33, 17", "feature_maps = [-33, 17"), "positive integer"),
    (('sha256 = "fb84', 'sha256 = "zz84'), "64 hexadecimal digits"),
    (('entry = "model.json"', 'entry = "other.json"'), "not one of the card's source files"),
    (("max_detections = 100", "max_detections = true"), "must be a int"),
    (("[decode]", "[decode"), "not valid TOML"),
])
def test_broken_card_names_the_problem(edit, message):
    old, new = edit
    assert old in CARD_TEXT
    with pytest.raises(CardError, match=message):
        parse_card(CARD_TEXT.replace(old, new, 1), "broken.toml")
