"""The models of models/*.toml: their sources fetched and verified, converted where a card says so,
and the demo photos."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cards import CardError, parse_card

from .fetch import fetch_verified
from .project import BUILD, ROOT, SetupError, log
from .runtimes import ensure_venv

CONVERT_VENV = ROOT / ".venv-convert"
CONVERT_REQUIREMENTS = ROOT / "models" / "convert-requirements.txt"
CONVERTER = ROOT / "models" / "convert.py"


def model_cards(folder: Path = ROOT / "models") -> list:
    """Every card in folder, parsed and validated (a bad card stops the command, naming the field)."""
    cards = []
    for path in sorted(folder.glob("*.toml")):
        try:
            card = parse_card(path.read_text(), f"models/{path.name}")
        except CardError as exc:
            raise SetupError(str(exc)) from None
        if card.id != path.stem:
            raise SetupError(f"models/{path.name}: id '{card.id}' must match the file name")
        cards.append(card)
    return cards


def fetch_sources(card, dest: Path) -> None:
    """A card's source files in dest/, each verified by sha256, from MODEL_MIRROR when set."""
    mirror = os.environ.get("MODEL_MIRROR")
    for file, sha256 in card.sources.sha256.items():
        fetch_verified(dest / file, sha256, card.sources.url + file,
                       Path(mirror, card.sources.mirror, file) if mirror else None)


def thumbnail_photo() -> dict:
    """The demo photo that style thumbnails are made from (the first of site/demos.json)."""
    return demo_photos()[0]


def conversion_stamp(card) -> str:
    """What a converted model is made from: its card (every field, sources' checksums included),
    the converter and its pinned environment, and for a style its thumbnail's photo."""
    photo = thumbnail_photo()["sha256"] if card.task == "style" else ""
    digest = hashlib.sha256()
    for part in (repr(card).encode(), CONVERTER.read_bytes(), CONVERT_REQUIREMENTS.read_bytes(), photo.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def ensure_convert_env() -> Path:
    """.venv-convert with the pinned TensorFlow and tensorflowjs; returns its python."""
    return ensure_venv(CONVERT_VENV, ["--no-deps", "-r", str(CONVERT_REQUIREMENTS)], CONVERT_REQUIREMENTS.read_text(),
                       "TensorFlow and tensorflowjs (about 3 GB, once)")


def convert_models(cards: list, dest_root: Path, sources_root: Path) -> None:
    """Run the converter on each card, each into a fresh folder that replaces the old one only when whole."""
    jobs = []
    for card in cards:
        work = dest_root / f".{card.id}.new"
        shutil.rmtree(work, ignore_errors=True)
        jobs.append({"from": card.conversion.kind, "graph": card.conversion.graph, "model": card.conversion.model,
                     "inputs": card.conversion.inputs, "outputs": card.conversion.outputs,
                     "quantize": card.conversion.quantize, "onnx": "onnx" in card.engines,
                     "sources": str(sources_root / card.sources.mirror), "out": str(work),
                     "thumbnail": str(BUILD / "demos" / thumbnail_photo()["file"]) if card.task == "style" else None})
    log(f"converting {', '.join(card.id for card in cards)}…")
    with tempfile.TemporaryDirectory() as tmp:
        job_file = Path(tmp, "jobs.json")
        job_file.write_text(json.dumps(jobs))
        result = subprocess.run([str(ensure_convert_env()), str(CONVERTER), "build", str(job_file)],
                                capture_output=True, text=True)
    if result.returncode:
        raise SetupError(f"model conversion failed:\n{result.stderr.strip()[-3000:]}")
    for card in cards:
        final, work, old = dest_root / card.id, dest_root / f".{card.id}.new", dest_root / f".{card.id}.old"
        try:
            check_converted(card, work)
        except SetupError:
            for left in cards:
                shutil.rmtree(dest_root / f".{left.id}.new", ignore_errors=True)
            raise
        (work / ".stamp").write_text(conversion_stamp(card))
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        work.rename(final)
        shutil.rmtree(old, ignore_errors=True)


def check_converted(card, folder: Path) -> None:
    """The converted files whose checksums the card pins are those bytes (the page checks them too)."""
    for file, sha256 in card.conversion.sha256.items():
        path = folder / file
        got = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "no such file"
        if got != sha256:
            raise SetupError(f"models/{card.id}.toml: the converter wrote {file} with sha256 {got}, but "
                             f"[convert.sha256] gives {sha256}; if the converter or its pins changed on "
                             "purpose, put the new checksum in the card")


def original_model(card, models_root: Path = BUILD / "models", sources_root: Path = BUILD / "sources") -> Path:
    """The folder of a tf.js card's model as its authors publish it: the files it is re-quantized
    from, or else the served ones."""
    if card.conversion and card.conversion.kind == "tfjs-layers-model":
        return sources_root / card.sources.mirror
    return models_root / card.id


def ensure_models(cards: list | None = None, dest_root: Path = BUILD / "models",
                  sources_root: Path = BUILD / "sources") -> None:
    """Each card's model (default: every card in models/) in dest_root/<id>/: files served as
    downloaded are verified by sha256; converted ones are made from verified sources in
    sources_root/ and rebuilt only when their card, sources or converter changed."""
    stale = []
    for card in model_cards() if cards is None else cards:
        if card.conversion is None:
            fetch_sources(card, dest_root / card.id)
            continue
        fetch_sources(card, sources_root / card.sources.mirror)
        stamp = dest_root / card.id / ".stamp"
        if not (stamp.is_file() and stamp.read_text() == conversion_stamp(card)):
            stale.append(card)
    if stale:
        if any(card.task == "style" for card in stale):
            ensure_demos()  # the thumbnails' photo
        convert_models(stale, dest_root, sources_root)
    log(f"models ready in {dest_root.relative_to(ROOT) if dest_root.is_relative_to(ROOT) else dest_root}/")


def demo_photos() -> list[dict]:
    """The demo photos of site/demos.json: file, url, sha256, credit."""
    return json.loads((ROOT / "site" / "demos.json").read_text())["demos"]


def fetch_photos(photos: list[dict], dest: Path) -> Path:
    """Photos (entries like site/demos.json's) in dest, each verified by sha256, from IMAGE_MIRROR
    by file name when set."""
    mirror = os.environ.get("IMAGE_MIRROR")
    for photo in photos:
        fetch_verified(dest / photo["file"], photo["sha256"], photo["url"],
                       Path(mirror, photo["file"]) if mirror else None)
    return dest


def ensure_demos(dest: Path = BUILD / "demos") -> None:
    """Fetch the demo photos listed in site/demos.json, verified by sha256."""
    fetch_photos(demo_photos(), dest)
