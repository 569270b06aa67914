"""Model cards: every card under models/ parses into its task's type, and broken cards fail naming the field."""

from pathlib import Path

import pytest

from cards import CardError, DetectorCard, SegmenterCard, StyleCard, parse_card

MODELS = Path(__file__).parents[1] / "models"
FACE_MASK = (MODELS / "aizoo-face-mask.toml").read_text()
FACE_MASK_GRAPH = (MODELS / "aizoo-face-mask-graph.toml").read_text()
STYLE = (MODELS / "style-wave.toml").read_text()
SELFIE = (MODELS / "selfie.toml").read_text()
# The same model served as downloaded, as a card with no [convert] section gives it: tf.js only.
SELFIE_AS_PUBLISHED = SELFIE.replace("[convert]\n", "[unused]\n").replace('engines = ["tfjs", "onnx"]',
                                                                         'entry = "selfie.json"')
STYLES = ("la_muse", "rain_princess", "scream", "udnie", "wave", "wreck")


def test_every_card_parses_and_is_named_by_its_id():
    cards = {path.stem: parse_card(path.read_text(), path.name) for path in MODELS.glob("*.toml")}
    assert all(card.id == stem for stem, card in cards.items())
    kinds = {stem: type(card) for stem, card in cards.items()}
    assert kinds == {
        "aizoo-face-mask": DetectorCard, "aizoo-face-mask-graph": DetectorCard,
        "selfie": SegmenterCard, "meet": SegmenterCard,
        **{"style-" + s.replace("_", "-"): StyleCard for s in STYLES},
    }


def test_face_mask_cards():
    layers, graph = parse_card(FACE_MASK), parse_card(FACE_MASK_GRAPH)
    assert (layers.input_width, layers.input_height, layers.input_scale) == (260, 260, 255.0)
    assert [label.name for label in layers.labels] == ["Mask", "NoMask"]
    assert layers.variances == (0.1, 0.1, 0.2, 0.2)
    assert (layers.score_threshold, layers.iou_threshold, layers.max_detections) == (0.5, 0.5, 100)
    assert layers.anchors.feature_maps == ((33, 33), (17, 17), (9, 9), (5, 5), (3, 3))
    assert set(layers.sources.sha256) == {"model.json", "group1-shard1of1.bin"}
    # Served as its authors' layers model with the weights stored as float16, checked by pinned checksums.
    assert (layers.conversion.kind, layers.conversion.model, layers.conversion.quantize) == \
        ("tfjs-layers-model", "model.json", "float16")
    assert layers.format == "tfjs-layers" and layers.entry == "model.json"
    assert layers.served_checksums == layers.conversion.sha256
    assert set(layers.served_checksums) == {"model.json", "group1-shard1of1.bin"}
    # The graph card converts the frozen graph and post-processes exactly like the layers card.
    assert graph.conversion.kind == "tf-frozen-graph" and graph.conversion.graph == "face_mask_detection.pb"
    assert graph.format == "tfjs-graph" and graph.entry == "model.json" and graph.served_checksums == {}
    for field in ("anchors", "variances", "labels", "input_width", "input_height", "input_scale",
                  "score_threshold", "iou_threshold", "max_detections"):
        assert getattr(graph, field) == getattr(layers, field), field


def test_style_and_segmentation_cards():
    style = parse_card(STYLE)
    assert style.conversion.kind == "fast-style-checkpoint"
    assert len(style.sources.sha256) == 49 and "manifest.json" in style.sources.sha256
    selfie, meet = parse_card(SELFIE), parse_card((MODELS / "meet.toml").read_text())
    assert (selfie.input_width, selfie.input_height, selfie.person_channel, selfie.activation) == (256, 256, 0, "none")
    assert (meet.input_width, meet.input_height, meet.person_channel, meet.activation) == (256, 144, 1, "softmax")
    # Served as published (the same files and checksums); build.py models writes model.onnx beside them.
    assert (selfie.conversion.kind, selfie.conversion.model) == ("tfjs-graph-model", "selfie.json")
    assert selfie.entry == "selfie.json"
    assert selfie.format == "tfjs-graph" and selfie.served_checksums == selfie.sources.sha256


def test_engines_are_tfjs_and_onnx_where_a_model_is_converted():
    cards = {path.stem: parse_card(path.read_text(), path.name) for path in MODELS.glob("*.toml")}
    with_onnx = {card_id for card_id, card in cards.items() if card.engines == ("tfjs", "onnx")}
    assert set(cards) == with_onnx
    published = parse_card(SELFIE_AS_PUBLISHED)
    assert published.engines == ("tfjs",) and published.conversion is None and published.entry == "selfie.json"


@pytest.mark.parametrize("text, edit, message", [
    (FACE_MASK, ("width = 260\n", ""), "missing field 'width'"),
    (FACE_MASK, ('format = "tfjs-layers"', 'format = "onnx"'), "format must be one of"),
    (FACE_MASK, ('task = "detection"', 'task = "colouring"'), "task must be one of"),
    (FACE_MASK, ('id = "aizoo-face-mask"', 'id = "AIZOO mask"'), "lower-case letters"),
    (FACE_MASK, ("variances = [0.1, 0.1, 0.2, 0.2]", "variances = [0.1, 0.1]"), "4 numbers"),
    (FACE_MASK, ("score_threshold = 0.5", "score_threshold = 1.5"), "between 0 and 1"),
    (FACE_MASK, ("score_threshold = 0.5", 'score_threshold = "high"'), "'score_threshold' must be a float"),
    (FACE_MASK, ("feature_maps = [33, 17, 9, 5, 3]", "feature_maps = [33, 17, 9, 5]"), "one entry per feature map"),
    (FACE_MASK, ("feature_maps = [33, 17", "feature_maps = [-33, 17"), "positive integer"),
    (FACE_MASK, ('"model.json" = "fb84', '"model.json" = "zz84'), "sha256 of 'model.json' must be 64 hexadecimal"),
    (SELFIE, ('model = "selfie.json"', 'model = "other.json"'), "not one of the card's source files"),
    (SELFIE, ('model = "selfie.json"', 'model = "selfie.json"\nquantize = "float16"'), "served as published"),
    (FACE_MASK, ('model = "model.json"', 'model = "other.json"'), "not one of the card's source files"),
    (FACE_MASK, ('quantize = "float16"\n', ""), "needs 'quantize'"),
    (FACE_MASK, ('format = "tfjs-layers"', 'format = "tfjs-graph"'), "from tfjs-layers-model must be tfjs-layers"),
    (FACE_MASK, ('"model.json" = "cc09', '"model.json" = "cc0'), "sha256 of 'model.json' must be 64 hexadecimal"),
    (FACE_MASK, ('url = "https://raw', 'url = "http://raw'), "https:// folder address"),
    (FACE_MASK, ('mirror = "aizoo-face-mask"\n', ""), "missing field 'mirror'"),
    (FACE_MASK, ("max_detections = 100", "max_detections = true"), "must be a int"),
    (FACE_MASK, ("[decode]", "[decode"), "not valid TOML"),
    (FACE_MASK_GRAPH, ('graph = "face_mask_detection.pb"', 'graph = "other.pb"'), "not one of the card's source"),
    (FACE_MASK_GRAPH, ('outputs = ["loc_branch_concat_1/concat", "cls_branch_concat_1/concat"]', "outputs = []"),
     "non-empty list of names"),
    (FACE_MASK_GRAPH, ('format = "tfjs-graph"', 'format = "tfjs-layers"'), "must be tfjs-graph"),
    (STYLE, ('from = "fast-style-checkpoint"', 'from = "onnx"'), "from must be one of"),
    (STYLE, ('quantize = "float16"', 'quantize = "int4"'), "quantize must be one of"),
    (STYLE, ('"manifest.json" = ', '"manifest.txt" = '), "needs 'manifest.json'"),
    (SELFIE, ('activation = "none"', 'activation = "sigmoid"'), "activation must be one of"),
    (SELFIE, ("person_channel = 0", "person_channel = -1"), "person_channel must be 0 or more"),
    (STYLE, ('engines = ["tfjs", "onnx"]', 'engines = ["onnx"]'), 'engines must be "tfjs" and then any of onnx'),
    (STYLE, ('engines = ["tfjs", "onnx"]', 'engines = ["tfjs", "tflite"]'), "not \\['tfjs', 'tflite'\\]"),
    (SELFIE_AS_PUBLISHED, ('entry = "selfie.json"', 'entry = "selfie.json"\nengines = ["tfjs", "onnx"]'),
     "engine \"onnx\" needs a \\[convert\\] section"),
    (SELFIE_AS_PUBLISHED, ('entry = "selfie.json"', 'entry = "other.json"'), "not one of the card's source files"),
    (FACE_MASK, ('"model.json" = "fb84', '"../x" = "fb84'), "'../x' must be a plain file name"),
    (FACE_MASK, ('"group1-shard1of1.bin" = "ff4b', '".hidden.bin" = "ff4b'), "must be a plain file name"),
    (FACE_MASK, ("max_detections = 100", "max_detections = 0"), "max_detections must be at least 1"),
    (FACE_MASK, ("width = 260", "width = 0"), "width, height and scale must be positive"),
    (FACE_MASK, ("height = 260", "height = -260"), "width, height and scale must be positive"),
    (FACE_MASK, ("scale = 255.0", "scale = 0.0"), "width, height and scale must be positive"),
    (FACE_MASK, ("iou_threshold = 0.5", "iou_threshold = 1.01"), "iou_threshold must be between 0 and 1"),
    (FACE_MASK, ("iou_threshold = 0.5", "iou_threshold = -0.1"), "iou_threshold must be between 0 and 1"),
    (FACE_MASK[:FACE_MASK.index("[[labels]]")], ('task = "detection"\n', 'task = "detection"\nlabels = []\n'),
     "'labels' is empty"),
    (FACE_MASK, (FACE_MASK[FACE_MASK.index("[source.sha256]"):FACE_MASK.index("[convert]")], "[source.sha256]\n\n"),
     "'sha256' lists no files"),
])
def test_broken_card_names_the_problem(text, edit, message):
    old, new = edit
    assert old in text
    with pytest.raises(CardError, match=message) as error:
        parse_card(text.replace(old, new, 1), "broken.toml")
    assert str(error.value).startswith("broken.toml")


def test_quantization_is_a_card_option():
    assert parse_card(STYLE).conversion.quantize == "float16"
    assert parse_card(STYLE.replace('quantize = "float16"', 'quantize = "uint8"')).conversion.quantize == "uint8"
    assert parse_card(FACE_MASK_GRAPH).conversion.quantize is None
