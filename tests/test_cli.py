"""The headless commands (detect, segment, stylize) that other tools depend on, run as they run them."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import samples
from conftest import ROOT, assert_same_detections
from samples import png_array


def detect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "detect", *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_detect_matches_the_reference_and_reports_bad_files(reference, tmp_path, site_url):
    images = [str(samples.photo_path(name)) for name in samples.PHOTOS]
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not a picture")
    missing = str(tmp_path / "missing.png")
    run = detect("--backend", "wasm", images[0], str(text_file), missing, *images[1:])
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines] == [images[0], str(text_file), missing, *images[1:]]
    assert lines[1] == {"image": str(text_file), "backend": "wasm", "error": lines[1]["error"]}
    assert "notes.jpg is not an image" in lines[1]["error"]
    assert lines[2]["error"] == f"{missing} cannot be read: No such file or directory."
    for line in [lines[0], *lines[3:]]:
        expected = reference[line["image"].rsplit("/", 1)[-1]]
        assert (line["width"], line["height"]) == (expected["width"], expected["height"])
        assert_same_detections(line["detections"], expected["detections"])
        assert set(line) == {"image", "backend", "width", "height", "detections", "timings_ms"}
        assert line["backend"] == "wasm"
        for det in line["detections"]:
            assert set(det) == {"box", "class_id", "label", "score"}
            assert all(isinstance(v, int) for v in det["box"])


def test_detect_exits_zero_when_every_image_is_read(site_url):
    run = detect(str(samples.photo_path("fmd_demo2.jpg")))
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["label"] for d in line["detections"]] == ["Mask"]


def photo_folder(root):
    """The test photos in a folder and a subfolder, with a broken image and a file that is no image."""
    (root / "more").mkdir(parents=True)
    for i, name in enumerate(samples.PHOTOS):
        (root / ("more" if i % 2 else ".") / name).write_bytes(samples.photo_bytes(name))
    (root / "more" / "broken.png").write_bytes(b"not a picture")
    (root / "notes.txt").write_text("not looked at")
    return sorted([root / "aizoo_demo.jpg", root / "fst_face.jpg", root / "fmd_author.jpg",
                   root / "more" / "broken.png", root / "more" / "fmd_demo2.jpg", root / "more" / "fst_stata.jpg"])


def without_timings(line: dict) -> dict:
    return {key: value for key, value in line.items() if key != "timings_ms"}


def test_detect_takes_folders_in_parallel_in_input_order_and_writes_csv(reference, tmp_path, site_url):
    expected_images = photo_folder(tmp_path / "photos")
    runs = {jobs: detect("--backend", "wasm", "--jobs", str(jobs), "--csv", str(tmp_path / f"{jobs}.csv"),
                         str(tmp_path / "photos")) for jobs in (1, 2)}
    lines = {}
    for jobs, run in runs.items():
        assert run.returncode == 1, run.stderr  # for the broken image
        lines[jobs] = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines[1]] == [str(path) for path in expected_images]
    assert [without_timings(line) for line in lines[2]] == [without_timings(line) for line in lines[1]]
    for line in lines[1]:
        if line["image"].endswith("broken.png"):
            assert "broken.png is not an image" in line["error"]
        else:
            assert_same_detections(line["detections"], reference[line["image"].rsplit("/", 1)[-1]]["detections"])

    rows = list(csv.DictReader((tmp_path / "2.csv").open()))
    assert list(rows[0]) == ["image", "width", "height", "faces", "Mask", "NoMask", "top_score", "time_ms", "error"]
    assert [row["image"] for row in rows] == [line["image"] for line in lines[2]]
    for row, line in zip(rows, lines[2], strict=True):
        if "error" in line:
            assert (row["error"], row["faces"]) == (line["error"], "")
            continue
        labels = [det["label"] for det in line["detections"]]
        assert (int(row["faces"]), int(row["Mask"]), int(row["NoMask"])) == (
            len(labels), labels.count("Mask"), labels.count("NoMask"))
        scores = [det["score"] for det in line["detections"]]
        assert row["top_score"] == (str(max(scores)) if scores else "")
        assert float(row["time_ms"]) == pytest.approx(sum(line["timings_ms"].values()), abs=0.1)
        assert row["error"] == ""


def test_detect_usage_errors(tmp_path):
    run = detect("--backend", "tpu", "x.jpg")
    assert run.returncode == 2 and "invalid choice: 'tpu'" in run.stderr
    run = detect("--jobs", "0", "x.jpg")
    assert run.returncode == 1 and "--jobs must be at least 1, not 0." in run.stderr
    run = detect(str(tmp_path))
    assert run.returncode == 1 and f"No image in {tmp_path}" in run.stderr
    run = detect("--csv", str(tmp_path / "missing" / "out.csv"), "x.jpg")
    assert run.returncode == 1 and "is not a folder: the CSV cannot be written there." in run.stderr


def build_py(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_segment_and_stylize_write_pngs(tmp_path, app):
    """With a browser backend, the files hold what the page computes: the person mask, and the
    background stylized around the untouched person."""
    photo = samples.photo_path("fmd_demo2.jpg")
    run = build_py("segment", "--backend", "wasm", "--model", "meet", str(photo), "--out", str(tmp_path / "mask.png"))
    assert run.returncode == 0, run.stderr
    mask = Image.open(tmp_path / "mask.png")
    assert (mask.mode, mask.size) == ("L", (464, 330))
    page_mask = png_array(app.on_image("segmentImage", photo.read_bytes(), photo.name, "meet"))
    assert np.abs(np.asarray(mask, np.int16) - page_mask).max() <= 1
    run = build_py("stylize", "--backend", "wasm", "--style", "la_muse", "--mask", "background", "--max-side", "256",
                   str(photo), "--out", str(tmp_path / "out.png"))
    assert run.returncode == 0, run.stderr
    out = Image.open(tmp_path / "out.png")
    assert (out.mode, out.size) == ("RGB", (464, 330))
    person = png_array(app.on_image("segmentImage", photo.read_bytes(), photo.name, "selfie")) / 255
    change = np.abs(np.asarray(out, np.float64) - np.asarray(Image.open(photo).convert("RGB"), np.float64)).mean(axis=2)
    assert change[person > 0.9].mean() < 2 and change[person < 0.1].mean() > 10


def test_segment_and_stylize_bad_input(tmp_path, site_url):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    photo = str(samples.photo_path("fmd_demo2.jpg"))
    for args, message in (
        (("segment", str(notes), "--out", str(tmp_path / "m.png")), "notes.txt is not an image"),
        (("segment", str(tmp_path / "none.jpg"), "--out", str(tmp_path / "m.png")), "cannot be read"),
        (("stylize", "--style", "cubism", photo, "--out", str(tmp_path / "s.png")), "There is no style 'cubism'"),
        (("stylize", "--style", "wave", photo, "--out", str(tmp_path / "no" / "s.png")), "is not a folder"),
    ):
        run = build_py(*args)
        assert run.returncode == 1 and message in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert not (tmp_path / "m.png").exists() and not (tmp_path / "s.png").exists()
