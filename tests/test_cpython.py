"""The pipelines in CPython on onnxruntime (`build.py detect`, `segment` and `stylize` on ort-cpu), run
as their users run them: the same answers as the original JavaScript pipeline and the page, one row
per input in every output format, and a run that is killed or interrupted finished by --resume with
nothing twice."""

import csv
import io
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import samples
from conftest import ROOT, assert_masks_agree, assert_same_detections
from pylens_build.cpython.engine import OnnxNetwork, onnx_model
from pylens_build.cpython.face_mask import FaceMaskPipeline
from pylens_build.cpython.style import mask_png
from pylens_build.models import ensure_models, model_cards
from samples import image_bytes, png_array
from test_cli import build_py, detect, photo_folder, without_timings
from test_conversion import psnr


@pytest.fixture(scope="module")
def detector():
    card = next(c for c in model_cards() if c.id == "aizoo-face-mask")
    ensure_models([card])
    return FaceMaskPipeline(card, OnnxNetwork(card, onnx_model(card), threads=1))


@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_cpython_pipeline_matches_the_reference(detector, reference, photo):
    result = detector.detect(samples.photo_bytes(photo), photo)
    expected = reference[photo]
    assert (result["width"], result["height"]) == (expected["width"], expected["height"])
    assert_same_detections(result["detections"], expected["detections"])
    assert set(result["timings_ms"]) == {"image_decode", "preprocess", "inference", "box_decode", "nms"}


def test_thresholds_are_the_pipeline_s_own(detector):
    data = samples.photo_bytes("aizoo_demo.jpg")
    scores = [d["score"] for d in detector.detect(data, "a.jpg")["detections"]]
    assert len(scores) == 3
    high = [d["score"] for d in detector.detect(data, "a.jpg", score_threshold=0.9995)["detections"]]
    assert high == [score for score in scores if score > 0.9995] and 0 < len(high) < 3


def many_photos(folder, copies: int) -> list[str]:
    """`copies` of each test photo in a folder (links), and the names in the order a run takes them."""
    folder.mkdir()
    for copy in range(copies):
        for name in samples.PHOTOS:
            (folder / f"{copy:03d}-{name}").symlink_to(samples.photo_path(name))
    return sorted(str(path) for path in folder.iterdir())


def test_outputs_hold_one_row_per_input_in_every_format(tmp_path, reference):
    images = [str(path) for path in photo_folder(tmp_path / "photos")]
    printed = detect(str(tmp_path / "photos"))
    assert printed.returncode == 1, printed.stderr  # the broken image
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert [line["image"] for line in lines] == images
    assert all(line["backend"] == "ort-cpu" for line in lines)
    for fmt in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"results.{fmt}"
        run = detect("--out", str(out), str(tmp_path / "photos"))
        assert run.returncode == 1 and f"wrote {out} (6 images)" in run.stderr, run.stderr
        assert not (tmp_path / f"results.{fmt}.journal.jsonl").exists()
        if fmt == "jsonl":
            rows = [json.loads(line) for line in out.read_text().splitlines()]
        elif fmt == "parquet":
            rows = [{key: value for key, value in row.items() if value is not None}
                    for row in pq.read_table(out).to_pylist()]
            for row in rows:
                row["timings_ms"] = dict(row.get("timings_ms", ()))
        else:
            rows = list(csv.DictReader(out.open()))
            assert [row["image"] for row in rows] == images
            assert [row["faces"] for row in rows] == [str(len(line.get("detections", ""))) if "detections" in line
                                                      else "" for line in lines]
            continue
        assert [without_timings(row) for row in rows] == [
            {key: value for key, value in without_timings(line).items() if not (key == "timings_ms")}
            for line in lines]
    broken = next(line for line in lines if line["image"].endswith("broken.png"))
    assert "broken.png is not an image" in broken["error"]


def test_usage_errors_of_the_cpython_backend(tmp_path):
    photo = str(samples.photo_path("fmd_demo2.jpg"))
    for args, message in (
        (("--out", str(tmp_path / "r.xlsx"), photo), "r.xlsx: the output is written by its suffix"),
        (("--resume", photo), "--resume finishes an earlier run into --out FILE"),
        (("--score-threshold", "1.5", photo), "--score-threshold must be between 0 and 1, not 1.5."),
        (("--backend", "wasm", "--cluster", "127.0.0.1:1", photo), "--cluster go with the CPython backends"),
        (("--model", "selfie", photo), "There is no detector 'selfie'"),
    ):
        run = detect(*args)
        assert run.returncode == 1 and message in run.stderr and "Traceback" not in run.stderr, (args, run.stderr)


def start_detect(*args: str) -> subprocess.Popen:
    """`build.py detect` started as from a terminal, where Ctrl+C reaches it: a shell's background
    job (a CI run's, say) starts its commands with SIGINT ignored, which Python would keep."""
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "detect", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_rows(journal, count: int, process: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not (journal.exists() and journal.read_text().count("\n") >= count):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"fewer than {count} rows in {journal} after {timeout_s} s"
        time.sleep(0.1)


def rows_of(out) -> list[dict]:
    return [without_timings(json.loads(line)) for line in out.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_a_run_killed_or_interrupted_is_finished_by_resume(tmp_path, stop):
    images = many_photos(tmp_path / "photos", 40)
    whole = tmp_path / "whole.jsonl"
    assert detect("--out", str(whole), str(tmp_path / "photos")).returncode == 0
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal.jsonl"
    process = start_detect("--out", str(out), str(tmp_path / "photos"))
    wait_for_rows(journal, 20, process)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert not out.exists()
    kept = journal.read_text().count("\n")
    assert 20 <= kept < len(images)
    if stop == signal.SIGINT:
        assert process.returncode == 130 and "the same command with --resume does the rest" in stderr, stderr
        assert "Traceback" not in stderr
    again = detect("--out", str(out), str(tmp_path / "photos"))
    assert again.returncode == 1 and "add --resume to finish it" in again.stderr
    resumed = detect("--out", str(out), "--resume", str(tmp_path / "photos"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {kept} of {len(images)} images were done" in resumed.stderr
    assert rows_of(out) == rows_of(whole)
    assert [row["image"] for row in rows_of(out)] == images
    assert not journal.exists()


def test_resume_drops_a_row_cut_short_by_a_crash(tmp_path):
    images = many_photos(tmp_path / "photos", 1)
    out, journal = tmp_path / "out.jsonl", tmp_path / "out.jsonl.journal.jsonl"
    first = {"image": images[0], "backend": "ort-cpu", "width": 1, "height": 1, "detections": [], "timings_ms": {}}
    journal.write_text(json.dumps(first) + "\n" + json.dumps({"image": images[1]})[:20])
    run = detect("--out", str(out), "--resume", str(tmp_path / "photos"))
    assert run.returncode == 0 and "resuming: 1 of 5 images were done" in run.stderr, run.stderr
    rows = rows_of(out)
    assert rows[0] == without_timings(first) and [row["image"] for row in rows] == images


@pytest.mark.parametrize("model", ["selfie", "meet"])
@pytest.mark.parametrize("name", sorted([*samples.PHOTOS, *samples.VARIATIONS]))
def test_segment_in_cpython_gives_the_page_s_mask(app, model, name):
    """The person mask in CPython against the page's (tf.js on wasm): IoU ≥ 0.99 at probability 0.5,
    the picture given as a PNG: each host decodes a JPEG with its own Pillow and libjpeg, whose
    pixels differ (by up to 52 of 255 on the test photos), and the masks by more where a model is unsure."""
    card = next(c for c in model_cards() if c.id == model)
    ensure_models([card])
    data = png_bytes(Image.open(io.BytesIO(image_bytes(name))))
    png, _ = mask_png(card, "ort-cpu", data, name)
    ours = np.asarray(Image.open(io.BytesIO(png)))
    page = png_array(app.on_image("segmentImage", data, name, model))
    assert ours.shape == page.shape and ours.dtype == np.uint8
    assert_masks_agree(ours >= 128, page >= 128, 0.99)


@pytest.mark.parametrize(("style", "max_side", "mask"), [("wave", 256, None), ("udnie", 1024, None),
                                                         ("wave", 256, "person"), ("scream", 512, "background")])
def test_stylize_in_cpython_gives_the_page_s_picture(app, tmp_path, style, max_side, mask):
    """`build.py stylize` runs in CPython: the page's picture, within 40 dB, shrunk for the network and
    enlarged back (256, 512) or at the photo's own size (1024), whole or by the person mask."""
    photo = samples.photo_path("fmd_demo2.jpg")
    out = tmp_path / "out.png"
    run = build_py("stylize", "--style", style, "--max-side", str(max_side), *(["--mask", mask] if mask else []),
                   str(photo), "--out", str(out))
    assert run.returncode == 0 and "wrote" in run.stderr, run.stderr
    page = png_array(app.on_image("stylizeImage", photo.read_bytes(), photo.name, f"style-{style}", mask, max_side))
    got = np.asarray(Image.open(out))
    assert got.shape == page.shape == (330, 464, 3)
    assert psnr(got, page) >= 40


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_segment_in_cpython_writes_the_mask(tmp_path):
    """`build.py segment` runs in CPython by default: an 8-bit mask at the photo's size, the person in it."""
    out = tmp_path / "mask.png"
    run = build_py("segment", "--model", "meet", str(samples.photo_path("fmd_demo2.jpg")), "--out", str(out))
    assert run.returncode == 0 and "wrote" in run.stderr, run.stderr
    mask = Image.open(out)
    assert (mask.mode, mask.size) == ("L", (464, 330))
    assert 0.05 < (np.asarray(mask) >= 128).mean() < 0.95


def test_segment_and_stylize_in_cpython_bad_input(tmp_path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    for command, args in (("stylize", ("--style", "wave")), ("stylize", ("--style", "wave", "--mask", "person")),
                          ("segment", ())):
        run = build_py(command, *args, str(notes), "--out", str(tmp_path / "s.png"))
        assert run.returncode == 1 and "notes.jpg is not an image this app can read" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr and not (tmp_path / "s.png").exists()


def test_inputs_from_a_list_file_and_any_file_name(tmp_path):
    """@FILE stands for the inputs it lists (a folder among them); a file named on the command line is
    taken whatever its name, a .txt too."""
    photos = photo_folder(tmp_path / "photos")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    listed = tmp_path / "inputs"
    listed.write_text(f"# the photos\n{tmp_path / 'photos' / 'more'}\n\n{photos[0]}\n")
    run = detect(f"@{listed}", str(notes))
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    more = [str(path) for path in photos if path.parent.name == "more"]
    assert [line["image"] for line in lines] == [*more, str(photos[0]), str(notes)]
    assert "notes.txt is not an image" in lines[-1]["error"]
    run = detect(f"@{tmp_path / 'missing'}")
    assert run.returncode == 1 and "The list of inputs" in run.stderr and "Traceback" not in run.stderr
