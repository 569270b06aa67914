"""`build.py models`: verified sources, conversion that gives the same bytes from the same inputs
(the tf.js models; the ONNX models give the same numbers, see test_conversion.py), reuse of converted
models until their card changes, and clear errors that leave nothing half-written."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from cards import ONNX_ENTRY
from pylens_build.models import ensure_models, model_cards
from pylens_build.project import BUILD, ROOT, SetupError

CONVERTED = ("aizoo-face-mask-graph", "style-wave")


def card(card_id: str):
    return next(c for c in model_cards() if c.id == card_id)


def served_files(folder):
    """The tf.js model's files, by name (tf2onnx's optimisers visit nodes in an order that varies
    from run to run, so model.onnx is the same model but not the same bytes)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if not p.name.startswith(".") and p.name != ONNX_ENTRY}


@pytest.fixture(scope="module")
def sources():
    ensure_models()
    return BUILD / "sources"


@pytest.mark.slow
def test_conversion_is_reproducible_and_cached(tmp_path, sources, capfd):
    cards = [card(c) for c in CONVERTED]
    ensure_models(cards, tmp_path, sources)
    assert "converting aizoo-face-mask-graph, style-wave" in capfd.readouterr().err
    for c in CONVERTED:  # the same inputs give the same bytes as the build of the served tree
        assert served_files(tmp_path / c) == served_files(BUILD / "models" / c)
        assert (tmp_path / c / ONNX_ENTRY).stat().st_size > 1_000_000  # and an ONNX model beside
    made = {c: (tmp_path / c / "model.json").stat().st_mtime_ns for c in CONVERTED}

    ensure_models(cards, tmp_path, sources)
    assert "converting" not in capfd.readouterr().err
    assert made == {c: (tmp_path / c / "model.json").stat().st_mtime_ns for c in CONVERTED}

    # A changed card (here: uint8 weights instead of float16) rebuilds that model only.
    wave = cards[1]
    half = dataclasses.replace(wave, conversion=dataclasses.replace(wave.conversion, quantize="uint8"))
    ensure_models([cards[0], half], tmp_path, sources)
    assert "converting style-wave…" in capfd.readouterr().err
    assert (tmp_path / CONVERTED[0] / "model.json").stat().st_mtime_ns == made[CONVERTED[0]]
    sizes = {name: len(data) for name, data in served_files(tmp_path / "style-wave").items()
             if name.endswith(".bin")}
    full = {name: len(data) for name, data in served_files(BUILD / "models" / "style-wave").items()
            if name.endswith(".bin")}
    assert abs(sum(sizes.values()) - sum(full.values()) / 2) < 1024
    assert not list(tmp_path.glob(".*"))  # no work folders left behind


@pytest.mark.slow
def test_converted_bytes_other_than_the_card_pins_stop_the_build(tmp_path, sources):
    face_mask = card("aizoo-face-mask")
    made = face_mask.conversion.sha256["group1-shard1of1.bin"]
    pins = {**face_mask.conversion.sha256, "group1-shard1of1.bin": "0" * 64}
    wrong = dataclasses.replace(face_mask, conversion=dataclasses.replace(face_mask.conversion, sha256=pins))
    with pytest.raises(SetupError, match=f"wrote group1-shard1of1.bin with sha256 {made}, but .* gives 0{{64}}"):
        ensure_models([wrong], tmp_path, sources)
    assert not list(tmp_path.iterdir())  # nothing served, no work folder left


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A copy of the wave checkpoint's mirror folder, set as MODEL_MIRROR."""
    root = tmp_path / "mirror"
    shutil.copytree(BUILD / "sources" / "fast-style" / "wave", root / "fast-style" / "wave")
    monkeypatch.setenv("MODEL_MIRROR", str(root))
    return root / "fast-style" / "wave"


def test_checksum_mismatch_names_the_file_and_installs_nothing(tmp_path, mirror):
    data = bytearray((mirror / "Variable_7").read_bytes())
    data[100] ^= 0x01
    (mirror / "Variable_7").write_bytes(bytes(data))
    with pytest.raises(SetupError, match=r"Variable_7: checksum mismatch .* The file was not installed"):
        ensure_models([card("style-wave")], tmp_path / "models", tmp_path / "sources")
    fetched = tmp_path / "sources" / "fast-style" / "wave"
    assert not (fetched / "Variable_7").exists()
    assert not list(fetched.glob("*.part"))
    assert not (tmp_path / "models").exists()


def test_missing_source_is_named(tmp_path, mirror):
    (mirror / "manifest.json").unlink()
    with pytest.raises(SetupError, match="manifest.json: not found in the mirror"):
        ensure_models([card("style-wave")], tmp_path / "models", tmp_path / "sources")


def test_a_broken_card_stops_the_build_naming_the_field(tmp_path):
    text = (ROOT / "models" / "selfie.toml").read_text()
    (tmp_path / "selfie.toml").write_text(text.replace("scale = 255.0\n", ""))
    with pytest.raises(SetupError, match=r"models/selfie.toml: input: missing field 'scale'"):
        model_cards(tmp_path)
    (tmp_path / "selfie.toml").write_text(text.replace('id = "selfie"', 'id = "meet"'))
    with pytest.raises(SetupError, match="id 'meet' must match the file name"):
        model_cards(tmp_path)
