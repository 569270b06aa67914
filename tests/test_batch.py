"""The Batch view in the real page: many photos and a folder, given as a person gives them, against
`build.py detect` on the same files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

import names
import samples
from conftest import ROOT
from pylens_build.headless import HeadlessApp

# For memory figures: `gc()` in every context, and the page's memory measured at once, workers included.
MEMORY_FLAGS = ("--js-flags=--expose-gc", "--enable-blink-features=ForceEagerMeasureMemory")


@pytest.fixture(scope="module")
def batch_app(site_url):
    with HeadlessApp(site_url, "wasm", chromium_args=MEMORY_FLAGS) as headless:
        yield headless


def js_memory(app: HeadlessApp) -> int:
    """Bytes of JavaScript memory of the page and its workers (Python's among them), after a full
    garbage collection in each."""
    for context in (app.page, *app.page.workers):
        context.evaluate("gc()")
    return app.page.evaluate("""performance.measureUserAgentSpecificMemory().then(({breakdown}) =>
        breakdown.filter((part) => part.types.includes("JavaScript")).reduce((sum, part) => sum + part.bytes, 0))""")


@pytest.fixture
def fresh_batch(batch_app):
    """The Batch view, emptied."""
    batch_app.page.click("#view-batch")
    if not batch_app.page.locator("#batch-clear").is_disabled():
        batch_app.page.click("#batch-clear")
    batch_app.wait_until("JSON.parse(window.pylens.stats()).batch.rows === 0")
    return batch_app


def batch_done(app: HeadlessApp, rows: int, timeout_ms: float = 300_000) -> dict:
    app.wait_until(f"(b => b.rows === {rows} && !b.running)(JSON.parse(window.pylens.stats()).batch)", timeout_ms)
    return app.stats()["batch"]


def cli_detect(*paths) -> list[dict]:
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "detect", "--backend", "wasm", *map(str, paths)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    return [json.loads(line) for line in run.stdout.splitlines()]


def downloaded(app: HeadlessApp, button: str) -> str:
    with app.page.expect_download() as download:
        app.page.click(button)
    return download.value.path().read_text()


def test_a_batch_of_photos_and_broken_files_matches_build_py_detect(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    files = [samples.photo_path(name) for name in samples.PHOTOS]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    (tmp_path / "notes.txt").write_text("not a picture")
    files[2:2] = [tmp_path / "broken.jpg", tmp_path / "notes.txt"]
    tensors = app.stats()["tensors"]
    page.set_input_files("#file", [str(path) for path in files])
    batch = batch_done(app, len(files))
    results = json.loads(app.call(names.BATCH_RESULTS))
    expected = cli_detect(*files)

    # Every file is a row, in the order given, with what build.py detect says of it.
    assert [result["image"] for result in results] == [path.name for path in files]
    for result, line in zip(results, expected, strict=True):
        if "error" in line:
            assert result == {"image": line["image"].rsplit("/", 1)[-1], "error": line["error"]}
            continue
        assert (result["width"], result["height"]) == (line["width"], line["height"])
        assert [(d["label"], d["box"]) for d in result["detections"]] == [
            (d["label"], d["box"]) for d in line["detections"]]
        assert result["backend"] == "wasm"
    faces = [d["label"] for line in expected if "error" not in line for d in line["detections"]]
    assert batch["totals"]["faces"] == len(faces)
    assert batch["totals"]["by_label"] == {"Mask": faces.count("Mask"), "NoMask": faces.count("NoMask")}
    assert (batch["totals"]["photos"], batch["totals"]["unreadable"]) == (5, 2)
    assert app.stats()["tensors"] == tensors
    assert page.locator("#batch-status").text_content() == f"Done: {len(files)} of {len(files)} analysed."
    assert page.locator("#batch-rows tr").count() == len(files)
    assert page.locator("#batch-rows img").count() == 5  # a thumbnail for each photo read
    assert "broken.jpg is not an image this app can read" in page.locator("#batch-rows").text_content()

    # The downloads: the CSV parsed back, one row per file; the JSON, the results.
    rows = list(csv.DictReader(io.StringIO(downloaded(app, "#batch-csv"))))
    assert [row["image"] for row in rows] == [path.name for path in files]
    for row, line in zip(rows, expected, strict=True):
        labels = [d["label"] for d in line.get("detections", [])]
        assert row["faces"] == ("" if "error" in line else str(len(labels)))
        assert row["Mask"] == ("" if "error" in line else str(labels.count("Mask")))
        assert row["error"] == line.get("error", "")
    assert json.loads(downloaded(app, "#batch-json")) == results

    # Sorted by faces, most first; a click shows that photo with its boxes.
    page.click("#batch-head [data-sort=faces]")
    app.wait_until("document.querySelector('#batch-head th:nth-child(2)').ariaSort === 'descending'")
    page.locator("#batch-rows [data-index]").first.click()
    app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
    assert len(app.stats()["result"]["detections"]) == 3
    assert page.locator("#batch-rows tr.shown").text_content().startswith("aizoo_demo.jpg")


def drop_paths(app: HeadlessApp, *paths) -> None:
    """Drop files or folders from disk on the picture, as the browser does for a person's drag."""
    cdp = app.context.new_cdp_session(app.page)
    box = app.page.locator("#stage").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    data = {"items": [], "files": [str(path) for path in paths], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})


def test_a_dropped_folder_is_analysed_in_path_order(fresh_batch, tmp_path):
    folder = tmp_path / "photos"
    (folder / "b").mkdir(parents=True)
    for name, place in (("fmd_demo2.jpg", "b"), ("aizoo_demo.jpg", "."), ("fst_face.jpg", "b")):
        shutil.copy(samples.photo_path(name), folder / place / name)
    (folder / "b" / "readme.txt").write_text("not looked at in a folder")
    drop_paths(fresh_batch, folder)
    batch_done(fresh_batch, 3)
    results = json.loads(fresh_batch.call(names.BATCH_RESULTS))
    assert [result["image"] for result in results] == ["photos/aizoo_demo.jpg", "photos/b/fmd_demo2.jpg",
                                                      "photos/b/fst_face.jpg"]
    assert [len(result["detections"]) for result in results] == [3, 1, 1]


def test_cancel_leaves_out_the_photos_not_begun(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    copies = []
    for i in range(30):
        copies.append(tmp_path / f"copy-{i:02}.jpg")
        shutil.copy(samples.photo_path("fmd_demo2.jpg"), copies[-1])
    page.set_input_files("#file", [str(path) for path in copies])
    app.wait_until("JSON.parse(window.pylens.stats()).batch.rows >= 2")
    page.click("#batch-cancel")
    app.wait_until("!JSON.parse(window.pylens.stats()).batch.running")
    batch = app.stats()["batch"]
    assert 2 <= batch["rows"] < 30 and batch["queued"] == 0
    assert batch["rows"] + batch["cancelled"] == 30
    assert page.locator("#batch-status").text_content() == (
        f"Cancelled: {batch['rows']} of 30 analysed, {batch['cancelled']} left out.")
    assert page.locator("#batch-rows tr").count() == batch["rows"]


def generated_photos(folder, count: int) -> list:
    """`count` small JPEGs cut from the test photos, each a different crop."""
    from PIL import Image  # noqa: PLC0415

    sources = [Image.open(samples.photo_path(name)).convert("RGB") for name in samples.PHOTOS]
    paths = []
    for i in range(count):
        source = sources[i % len(sources)]
        side = min(source.size) * (60 + i % 40) // 100
        left, top = (i * 37) % (source.width - side + 1), (i * 53) % (source.height - side + 1)
        paths.append(folder / f"photo-{i:04}.jpg")
        source.crop((left, top, left + side, top + side)).resize((160, 160)).save(paths[-1], quality=80)
    return paths


def test_a_thousand_photos_keep_memory_bounded_and_leave_no_tensor(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    photos = generated_photos(tmp_path, 1050)
    page.set_input_files("#file", [str(path) for path in photos[:50]])  # Pillow and Python's heap at their size
    batch_done(app, 50)
    tensors, memory = app.stats()["tensors"], js_memory(app)
    page.set_input_files("#file", [str(path) for path in photos[50:]])
    batch = batch_done(app, 1050, timeout_ms=900_000)
    growth = js_memory(app) - memory
    print(f"JS memory over 1,000 photos: {memory / 1e6:.1f} MB, then {growth / 1e6:+.2f} MB")
    assert batch["totals"]["photos"] == 1050 and app.stats()["tensors"] == tensors
    assert growth < 1000 * 4_000  # a row's result and File; the thumbnails are blobs, outside the heap
    assert page.locator("#batch-rows tr").count() == 1050
