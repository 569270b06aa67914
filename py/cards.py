"""Model cards: one TOML file per model under `models/`, parsed and validated.

A card says where a model's files come from (with their checksums), whether they are
served as downloaded or converted first, how the model's input is prepared, what its
outputs mean and how they are post-processed, and whom to credit. Another SSD-style
detector, segmenter or style network is a new card rather than new code.
Pure Python: no `js`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

import fields
from fields import CardError
from names import ENGINE_NAMES

MODEL_FORMATS = ("tfjs-layers", "tfjs-graph")
# The engines a model can run on: tf.js (every card), ONNX Runtime Web (a card with a [convert]
# section, which build.py models also writes as ONNX_ENTRY).
ENGINES = tuple(ENGINE_NAMES)
ONNX_ENTRY = "model.onnx"
TASKS = ("detection", "segmentation", "style")
# tfjs-graph-model: a tf.js graph model served as published, its ONNX model written beside it.
CONVERTERS = ("tf-frozen-graph", "fast-style-checkpoint", "tfjs-layers-model", "tfjs-graph-model")
QUANTIZATIONS = ("float16", "uint8")
ACTIVATIONS = ("none", "softmax")
DETECTOR_FAMILIES = ("ssd",)  # how a detector's outputs become boxes: py/detector.py DETECTORS


@dataclass(frozen=True)
class Sources:
    """The model's upstream files: `url` + file name is each file's address."""

    url: str
    mirror: str  # the folder under MODEL_MIRROR that holds the same files
    sha256: dict[str, str]


@dataclass(frozen=True)
class Conversion:
    """How `build.py models` turns the sources into the served tf.js model: a graph model, for
    tfjs-layers-model the same layers model with its weights stored as `quantize`, for
    tfjs-graph-model the sources themselves (only their ONNX model is made)."""

    kind: str
    graph: str | None  # tf-frozen-graph: the .pb source file
    model: str | None  # tfjs-layers-model, tfjs-graph-model: the source model's JSON file
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]  # node names, in the order of the model's outputs
    quantize: str | None
    sha256: dict[str, str]  # the converted files, where the card pins them (the converter's bytes are fixed)

    @property
    def format(self) -> str:
        return "tfjs-layers" if self.kind == "tfjs-layers-model" else "tfjs-graph"

    @property
    def serves_sources(self) -> bool:
        """The served tf.js files are the source files, under their own names."""
        return self.kind == "tfjs-graph-model"


@dataclass(frozen=True)
class Label:
    name: str
    color: str


@dataclass(frozen=True)
class AnchorSpec:
    """SSD anchor layout; `feature_maps` are (rows, columns) per map."""

    feature_maps: tuple[tuple[int, int], ...]
    sizes: tuple[tuple[float, ...], ...]
    ratios: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class ModelCard:
    id: str
    name: str
    task: str
    format: str
    entry: str  # the served model's JSON file
    sources: Sources
    conversion: Conversion | None
    licence: str
    attribution: str
    homepage: str
    engines: tuple[str, ...]  # of ENGINES, "tfjs" first

    @property
    def served_checksums(self) -> dict[str, str]:
        """sha256 of each served file the card knows: all of them when served as downloaded, the
        pinned ones when converted."""
        if self.conversion and not self.conversion.serves_sources:
            return dict(self.conversion.sha256)
        return dict(self.sources.sha256)


@dataclass(frozen=True)
class DetectorCard(ModelCard):
    family: str
    input_width: int
    input_height: int
    input_scale: float
    box_output: int
    score_output: int
    anchors: AnchorSpec
    variances: tuple[float, float, float, float]
    score_threshold: float
    iou_threshold: float
    max_detections: int
    labels: tuple[Label, ...]


@dataclass(frozen=True)
class SegmenterCard(ModelCard):
    input_width: int
    input_height: int
    input_scale: float
    person_channel: int  # the channel of the output that scores "person"
    activation: str  # applied over the channels to get a probability: none or softmax


@dataclass(frozen=True)
class StyleCard(ModelCard):
    """A feed-forward style network: RGB 0…255 in, stylized RGB 0…255 out, any size."""


def _anchor_spec(table: dict, where: str) -> AnchorSpec:
    maps = fields.get(table, "feature_maps", list, where)
    sizes = fields.get(table, "sizes", list, where)
    ratios = fields.get(table, "ratios", list, where)
    if not maps:
        raise CardError(f"{where}: 'feature_maps' is empty")
    if not (len(maps) == len(sizes) == len(ratios)):
        raise CardError(
            f"{where}: 'feature_maps', 'sizes' and 'ratios' must have one entry per feature map "
            f"(found {len(maps)}, {len(sizes)} and {len(ratios)})"
        )
    return AnchorSpec(
        feature_maps=tuple(fields.feature_map(m, f"{where}.feature_maps[{i}]") for i, m in enumerate(maps)),
        sizes=tuple(fields.numbers(s, f"{where}.sizes[{i}]") for i, s in enumerate(sizes)),
        ratios=tuple(fields.numbers(r, f"{where}.ratios[{i}]") for i, r in enumerate(ratios)),
    )


def _sources(table: dict, where: str) -> Sources:
    url = fields.get(table, "url", str, where)
    if not url.startswith("https://") or not url.endswith("/"):
        raise CardError(f"{where}: 'url' must be an https:// folder address ending in '/'")
    return Sources(url, fields.get(table, "mirror", str, where), fields.checksums(table, where))


def _conversion(table: dict, sources: Sources, where: str) -> Conversion:
    kind = fields.choice(table, "from", CONVERTERS, where)
    graph = model = None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    quantize = fields.choice(table, "quantize", QUANTIZATIONS, where) if "quantize" in table else None
    if kind == "tf-frozen-graph":
        graph = fields.get(table, "graph", str, where)
        if graph not in sources.sha256:
            raise CardError(f"{where}: graph '{graph}' is not one of the card's source files")
        inputs = fields.names(table, "inputs", where)
        outputs = fields.names(table, "outputs", where)
    elif kind in ("tfjs-layers-model", "tfjs-graph-model"):
        model = fields.get(table, "model", str, where)
        if model not in sources.sha256:
            raise CardError(f"{where}: model '{model}' is not one of the card's source files")
        if kind == "tfjs-graph-model" and (quantize or "sha256" in table):
            raise CardError(f"{where}: a tfjs-graph-model is served as published: no 'quantize' or 'sha256'")
        if kind == "tfjs-layers-model" and quantize is None:
            raise CardError(f"{where}: a tfjs-layers-model conversion stores the weights anew and needs 'quantize'")
    elif "manifest.json" not in sources.sha256:
        raise CardError(f"{where}: a fast-style checkpoint needs 'manifest.json' among the source files")
    checksums = fields.checksums(table, where) if "sha256" in table else {}
    return Conversion(kind, graph, model, inputs, outputs, quantize, checksums)


def _engines(model: dict, conversion: Conversion | None, where: str) -> tuple[str, ...]:
    """[model] engines: tf.js always; ONNX for a model converted here (from a TensorFlow graph, or a
    layers model through Keras)."""
    engines = fields.names(model, "engines", where) if "engines" in model else ("tfjs",)
    unknown = [engine for engine in engines if engine not in ENGINES]
    if unknown or engines[0] != "tfjs" or len(set(engines)) != len(engines):
        raise CardError(f"{where}: engines must be \"tfjs\" and then any of {', '.join(ENGINES[1:])}, "
                        f"not {list(engines)}")
    if "onnx" in engines and conversion is None:
        raise CardError(f"{where}: an ONNX model is made by build.py models: engine \"onnx\" needs a [convert] section")
    return engines


def _input(data: dict, origin: str) -> tuple[int, int, float]:
    inp = fields.get(data, "input", dict, origin)
    where = f"{origin}: input"
    width, height = fields.get(inp, "width", int, where), fields.get(inp, "height", int, where)
    scale = fields.get(inp, "scale", float, where)
    if width < 1 or height < 1 or scale <= 0:
        raise CardError(f"{origin}: input width, height and scale must be positive")
    return width, height, scale


def _detector_fields(data: dict, origin: str) -> dict:
    width, height, scale = _input(data, origin)
    outs = fields.get(data, "outputs", dict, origin)
    post = fields.get(data, "postprocess", dict, origin)
    decode = fields.get(data, "decode", dict, origin)
    variances = fields.numbers(fields.get(decode, "variances", list, "decode"), "decode.variances")
    if len(variances) != 4:
        raise CardError(f"{origin}: decode.variances must have 4 numbers (cx, cy, w, h)")
    labels = tuple(
        Label(fields.get(lab, "name", str, f"{origin}: labels[{i}]"),
              fields.get(lab, "color", str, f"{origin}: labels[{i}]"))
        for i, lab in enumerate(fields.get(data, "labels", list, origin))
    )
    if not labels:
        raise CardError(f"{origin}: 'labels' is empty")
    found = dict(
        family=fields.choice(fields.get(data, "model", dict, origin), "family", DETECTOR_FAMILIES,
                             f"{origin}: model"),
        input_width=width, input_height=height, input_scale=scale,
        box_output=fields.get(outs, "box_offsets", int, f"{origin}: outputs"),
        score_output=fields.get(outs, "class_scores", int, f"{origin}: outputs"),
        anchors=_anchor_spec(fields.get(data, "anchors", dict, origin), f"{origin}: anchors"),
        variances=variances,
        score_threshold=fields.get(post, "score_threshold", float, f"{origin}: postprocess"),
        iou_threshold=fields.get(post, "iou_threshold", float, f"{origin}: postprocess"),
        max_detections=fields.get(post, "max_detections", int, f"{origin}: postprocess"),
        labels=labels,
    )
    for name in ("score_threshold", "iou_threshold"):
        if not 0.0 <= found[name] <= 1.0:
            raise CardError(f"{origin}: postprocess.{name} must be between 0 and 1")
    if found["max_detections"] < 1:
        raise CardError(f"{origin}: postprocess.max_detections must be at least 1")
    return found


def _segmenter_fields(data: dict, origin: str) -> dict:
    width, height, scale = _input(data, origin)
    out = fields.get(data, "output", dict, origin)
    channel = fields.get(out, "person_channel", int, f"{origin}: output")
    if channel < 0:
        raise CardError(f"{origin}: output.person_channel must be 0 or more")
    return dict(input_width=width, input_height=height, input_scale=scale, person_channel=channel,
                activation=fields.choice(out, "activation", ACTIVATIONS, f"{origin}: output"))


CARD_TYPES = {
    "detection": (DetectorCard, _detector_fields),
    "segmentation": (SegmenterCard, _segmenter_fields),
    "style": (StyleCard, lambda data, origin: {}),
}


def parse_card(text: str, origin: str = "model card") -> ModelCard:
    """Parse a card from TOML text into the card type of its task; raises CardError naming the bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{origin}: not valid TOML ({exc})") from None

    task = fields.choice(data, "task", TASKS, origin)
    sources = _sources(fields.get(data, "source", dict, origin), f"{origin}: source")
    model = fields.get(data, "model", dict, origin)
    fmt = fields.choice(model, "format", MODEL_FORMATS, f"{origin}: model")
    conversion = _conversion(data["convert"], sources, f"{origin}: convert") if "convert" in data else None
    if conversion:
        entry = conversion.model if conversion.serves_sources else "model.json"  # what the converter writes
        if fmt != conversion.format:
            raise CardError(f"{origin}: model.format of a model converted from {conversion.kind} "
                            f"must be {conversion.format}")
    else:
        entry = fields.get(model, "entry", str, f"{origin}: model")
        if entry not in sources.sha256:
            raise CardError(f"{origin}: model.entry '{entry}' is not one of the card's source files")
    card_id = fields.get(data, "id", str, origin)
    if not card_id or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in card_id):
        raise CardError(f"{origin}: id '{card_id}' must be lower-case letters, digits and '-'")
    licence = fields.get(data, "licence", dict, origin)
    engines = _engines(model, conversion, f"{origin}: model")
    card_type, task_fields = CARD_TYPES[task]
    return card_type(
        id=card_id,
        name=fields.get(data, "name", str, origin),
        task=task,
        format=fmt,
        entry=entry,
        sources=sources,
        conversion=conversion,
        licence=fields.get(licence, "name", str, f"{origin}: licence"),
        attribution=fields.get(licence, "attribution", str, f"{origin}: licence"),
        homepage=fields.get(licence, "url", str, f"{origin}: licence"),
        engines=engines,
        **task_fields(data, origin),
    )
