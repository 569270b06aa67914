"""`build.py detect`: the headless command other tools depend on, run as they run it."""

import json
import subprocess
import sys

import samples
from conftest import ROOT, assert_same_detections

PHOTOS = ["aizoo_demo.jpg", "fmd_demo2.jpg", "fst_face.jpg", "fst_stata.jpg", "fmd_author.jpg"]


def detect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "detect", *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_detect_matches_the_reference_and_reports_bad_files(reference, tmp_path, site_url):
    images = [str(samples.shared_dir() / "images" / name) for name in PHOTOS]
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not a picture")
    missing = str(tmp_path / "missing.png")
    run = detect("--backend", "wasm", images[0], str(text_file), missing, *images[1:])
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["image"] for line in lines] == [images[0], str(text_file), missing, *images[1:]]
    assert lines[1] == {"image": str(text_file), "error": lines[1]["error"]}
    assert "notes.jpg is not an image" in lines[1]["error"]
    assert lines[2]["error"] == f"{missing} cannot be read: No such file or directory."
    for line in [lines[0], *lines[3:]]:
        expected = reference[line["image"].rsplit("/", 1)[-1]]
        assert (line["width"], line["height"]) == (expected["width"], expected["height"])
        assert_same_detections(line["detections"], expected["detections"])
        assert set(line) == {"image", "width", "height", "detections", "timings_ms"}
        for det in line["detections"]:
            assert set(det) == {"box", "class_id", "label", "score"}
            assert all(isinstance(v, int) for v in det["box"])


def test_detect_exits_zero_when_every_image_is_read(site_url):
    run = detect(str(samples.shared_dir() / "images" / "fmd_demo2.jpg"))
    assert run.returncode == 0, run.stderr
    (line,) = [json.loads(line) for line in run.stdout.splitlines()]
    assert [d["label"] for d in line["detections"]] == ["Mask"]


def test_detect_usage_errors():
    run = detect("--backend", "tpu", "x.jpg")
    assert run.returncode == 2 and "invalid choice: 'tpu'" in run.stderr
