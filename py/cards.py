"""Model cards: one TOML file per model under `models/`, parsed and validated.

A card says where a model's files come from, how its input is prepared, what its
outputs mean and how they are post-processed, so that another SSD-style detector
is a new card rather than new code. Pure Python: no `js`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass


class CardError(ValueError):
    """A model card is missing a field or has a wrong one."""


@dataclass(frozen=True)
class Source:
    file: str
    url: str
    sha256: str


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
class DetectorCard:
    id: str
    name: str
    format: str
    entry: str
    sources: tuple[Source, ...]
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
    licence: str
    attribution: str
    homepage: str


MODEL_FORMATS = ("tfjs-layers", "tfjs-graph")


def _get(table: dict, key: str, kind: type, where: str):
    """table[key], checked to be a `kind` (an int is accepted as a float, a bool never as a number)."""
    if key not in table:
        raise CardError(f"{where}: missing field '{key}'")
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CardError(f"{where}: field '{key}' must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _numbers(values, where: str) -> tuple[float, ...]:
    if not isinstance(values, list) or not values:
        raise CardError(f"{where} must be a non-empty list of numbers")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise CardError(f"{where} must hold positive numbers, found {v!r}")
    return tuple(float(v) for v in values)


def _feature_map(value, where: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value, value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        return (value[0], value[1])
    raise CardError(f"{where} must be a positive integer or [rows, columns], found {value!r}")


def _anchor_spec(table: dict, where: str) -> AnchorSpec:
    maps = _get(table, "feature_maps", list, where)
    sizes = _get(table, "sizes", list, where)
    ratios = _get(table, "ratios", list, where)
    if not maps:
        raise CardError(f"{where}: 'feature_maps' is empty")
    if not (len(maps) == len(sizes) == len(ratios)):
        raise CardError(
            f"{where}: 'feature_maps', 'sizes' and 'ratios' must have one entry per feature map "
            f"(found {len(maps)}, {len(sizes)} and {len(ratios)})"
        )
    return AnchorSpec(
        feature_maps=tuple(_feature_map(m, f"{where}.feature_maps[{i}]") for i, m in enumerate(maps)),
        sizes=tuple(_numbers(s, f"{where}.sizes[{i}]") for i, s in enumerate(sizes)),
        ratios=tuple(_numbers(r, f"{where}.ratios[{i}]") for i, r in enumerate(ratios)),
    )


def parse_card(text: str, origin: str = "model card") -> DetectorCard:
    """Parse a detector card from TOML text; raises CardError naming the bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{origin}: not valid TOML ({exc})") from None

    task = _get(data, "task", str, origin)
    if task != "detection":
        raise CardError(f"{origin}: task '{task}' is not a detector card")
    fmt = _get(data, "format", str, origin)
    if fmt not in MODEL_FORMATS:
        raise CardError(f"{origin}: format must be one of {', '.join(MODEL_FORMATS)}, not '{fmt}'")

    sources = []
    for i, src in enumerate(_get(data, "sources", list, origin)):
        where = f"{origin}: sources[{i}]"
        sha = _get(src, "sha256", str, where).lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise CardError(f"{where}: 'sha256' must be 64 hexadecimal digits")
        sources.append(Source(_get(src, "file", str, where), _get(src, "url", str, where), sha))

    inp = _get(data, "input", dict, origin)
    outs = _get(data, "outputs", dict, origin)
    post = _get(data, "postprocess", dict, origin)
    variances = _numbers(_get(_get(data, "decode", dict, origin), "variances", list, "decode"), "decode.variances")
    if len(variances) != 4:
        raise CardError(f"{origin}: decode.variances must have 4 numbers (cx, cy, w, h)")
    labels = tuple(
        Label(_get(lab, "name", str, f"{origin}: labels[{i}]"), _get(lab, "color", str, f"{origin}: labels[{i}]"))
        for i, lab in enumerate(_get(data, "labels", list, origin))
    )
    if not labels:
        raise CardError(f"{origin}: 'labels' is empty")
    licence = _get(data, "licence", dict, origin)

    card = DetectorCard(
        id=_get(data, "id", str, origin),
        name=_get(data, "name", str, origin),
        format=fmt,
        entry=_get(data, "entry", str, origin),
        sources=tuple(sources),
        input_width=_get(inp, "width", int, f"{origin}: input"),
        input_height=_get(inp, "height", int, f"{origin}: input"),
        input_scale=_get(inp, "scale", float, f"{origin}: input"),
        box_output=_get(outs, "box_offsets", int, f"{origin}: outputs"),
        score_output=_get(outs, "class_scores", int, f"{origin}: outputs"),
        anchors=_anchor_spec(_get(data, "anchors", dict, origin), f"{origin}: anchors"),
        variances=variances,  # type: ignore[arg-type]
        score_threshold=_get(post, "score_threshold", float, f"{origin}: postprocess"),
        iou_threshold=_get(post, "iou_threshold", float, f"{origin}: postprocess"),
        max_detections=_get(post, "max_detections", int, f"{origin}: postprocess"),
        labels=labels,
        licence=_get(licence, "name", str, f"{origin}: licence"),
        attribution=_get(licence, "attribution", str, f"{origin}: licence"),
        homepage=_get(licence, "url", str, f"{origin}: licence"),
    )
    for name in ("score_threshold", "iou_threshold"):
        if not 0.0 <= getattr(card, name) <= 1.0:
            raise CardError(f"{origin}: postprocess.{name} must be between 0 and 1")
    if card.max_detections < 1:
        raise CardError(f"{origin}: postprocess.max_detections must be at least 1")
    if card.input_width < 1 or card.input_height < 1 or card.input_scale <= 0:
        raise CardError(f"{origin}: input width, height and scale must be positive")
    if card.entry not in {s.file for s in card.sources}:
        raise CardError(f"{origin}: entry '{card.entry}' is not one of the card's source files")
    return card
