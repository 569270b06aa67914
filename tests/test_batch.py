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
from playwright.sync_api import expect

import names
import samples
from conftest import ROOT, assert_same_detections
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


# No header's word broken across lines (no more lines than words) and none wider than its button.
WHOLE_HEADERS = """[...document.querySelectorAll('#batch-head button')].every((button) => {
    const range = document.createRange();
    range.selectNodeContents(button);
    const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
    return lines <= button.textContent.split(' ').length && button.scrollWidth <= button.clientWidth;
})"""
# In each photo's cell, the end of its name in sight, within the cell and the table's box.
NAME_ENDS_SHOWN = """[...document.querySelectorAll('#batch-rows td.photo')].every((cell) => {
    const end = cell.querySelector('.tail').getBoundingClientRect().right;
    const box = document.querySelector('.batch-table-wrap').getBoundingClientRect();
    return end <= cell.getBoundingClientRect().right && end <= box.right;
})"""
# The arrow after each header's text, left to right.
ARROW = "[...document.querySelectorAll('#batch-head button')].map((b) => getComputedStyle(b, '::after').content)"


def sort_by(app: HeadlessApp, column: str, order: str) -> list[str]:
    """Click a column's header until the table is sorted by it in that order (its aria-sort says so
    once the rows are); the photos' names, top to bottom."""
    header = f"document.querySelector('#batch-head th:has([data-sort={column}])').ariaSort"
    for _ in range(2):
        before = app.page.evaluate(header)
        app.page.click(f"#batch-head [data-sort={column}]")
        app.wait_until(f"{header} !== '{before}'")
        if app.page.evaluate(header) == order:
            return app.page.locator("#batch-rows td.photo .name").all_text_contents()
    raise AssertionError(f"the {column} column was not sorted {order}")


def test_a_batch_of_photos_and_broken_files_matches_build_py_detect(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    files = [samples.photo_path(name) for name in samples.PHOTOS]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a JPEG")
    (tmp_path / "notes.txt").write_text("not a picture")
    files[2:2] = [tmp_path / "broken.jpg", tmp_path / "notes.txt"]
    tensors = app.stats()["tensors"]
    page.set_input_files("#file", [str(path) for path in files])
    batch = batch_done(app, len(files))
    # No photo chosen yet: the picture says so, rather than show one that is not in the table.
    expect(page.locator("#placeholder")).to_have_text("Choose a photo in the table to see it here with its boxes.")
    expect(page.locator("#picture")).to_be_hidden()
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
    assert page.locator("#batch-totals").text_content().startswith(
        f"7 files: 5 analysed, 2 could not be read; {len(faces)} faces: ")
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

    # Sorted by a column, each way (none of these orders is the order given); a photo with no face has
    # no top score and comes after those with one, those not analysed last.
    given = [path.name for path in files]
    by_name = sorted(given, key=str.lower)
    assert sort_by(app, "image", "ascending") == by_name != given
    assert sort_by(app, "image", "descending") == by_name[::-1]
    scored = sorted((r for r in results if r.get("detections")), key=lambda r: max(d["score"] for d in r["detections"]))
    faceless = [r["image"] for r in results if "detections" in r and not r["detections"]]
    failed = [r["image"] for r in results if "error" in r]
    assert sort_by(app, "top_score", "descending") == [r["image"] for r in scored[::-1]] + faceless + failed != given
    assert sort_by(app, "top_score", "ascending") == [r["image"] for r in scored] + faceless + failed
    # By faces, most first; a click shows that photo with its boxes.
    assert sort_by(app, "faces", "descending")[0] == "aizoo_demo.jpg"
    page.locator("#batch-rows [data-index]").first.click()
    app.wait_until("JSON.parse(window.pylens.stats()).result?.image === 'aizoo_demo.jpg'")
    assert len(app.stats()["result"]["detections"]) == 3
    assert page.locator("#batch-rows tr.shown").text_content().startswith("aizoo_demo.jpg")

    # The headers whole, the sorted one with its arrow; on a phone too, with every name's end shown.
    assert page.evaluate(ARROW) == ["none", '" ▼"', "none", "none", "none", "none"]
    viewport = page.viewport_size
    for width, height in ((viewport["width"], viewport["height"]), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate(WHOLE_HEADERS), width
        assert page.evaluate(NAME_ENDS_SHOWN), width
    page.set_viewport_size(viewport)
    # Clear forgets the sort: the next batch is in the order given.
    page.click("#batch-clear")
    app.wait_until("JSON.parse(window.pylens.stats()).batch.rows === 0")
    assert page.evaluate(ARROW) == ["none"] * 6
    assert page.evaluate("[...document.querySelectorAll('#batch-head th')].every((th) => th.ariaSort === 'none')")
    # and the photo that was shown goes with its row: the picture says what to do instead.
    expect(page.locator("#picture")).to_be_hidden()
    expect(page.locator("#placeholder")).to_have_text(
        "Open or drop several photos or a folder; choose one in the table to see it here.")


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


def copies_of(name: str, count: int, folder) -> list:
    """`count` copies of a test photo in folder, named copy-00.jpg, copy-01.jpg, …"""
    copies = [folder / f"copy-{i:02}.jpg" for i in range(count)]
    for copy in copies:
        shutil.copy(samples.photo_path(name), copy)
    return copies


def test_cancel_leaves_out_the_photos_not_begun(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    copies = copies_of("fmd_demo2.jpg", 30, tmp_path)
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


def test_a_batch_takes_the_face_masks_views_thresholds_and_detector(fresh_batch, reference):
    app, page = fresh_batch, fresh_batch.page
    page.click("#view-mask")
    page.select_option("#detector", "aizoo-face-mask-graph")
    app.wait_until("JSON.parse(window.pylens.stats()).model === 'aizoo-face-mask-graph'", 120_000)
    page.fill("#mask-score", "0.9")  # above the score of the demo photo's face in a mask (0.886)
    try:
        page.click("#view-batch")
        page.set_input_files("#file", [str(samples.photo_path(name)) for name in samples.PHOTOS])
        batch_done(app, len(samples.PHOTOS))
        for result in json.loads(app.call(names.BATCH_RESULTS)):
            assert result["model"] == "aizoo-face-mask-graph"
            expected = [d for d in reference[result["image"]]["detections"] if d["score"] >= 0.9]
            assert_same_detections(result["detections"], expected, score_threshold=0.9)
        assert app.stats()["batch"]["totals"]["faces"] == 4  # the mask photo's face left out
    finally:
        page.click("#view-mask")
        page.fill("#mask-score", "0.5")
        page.select_option("#detector", "aizoo-face-mask")
        app.wait_until("JSON.parse(window.pylens.stats()).model === 'aizoo-face-mask'", 120_000)


def test_files_given_while_a_batch_runs_join_its_count(fresh_batch, tmp_path):
    app, page = fresh_batch, fresh_batch.page
    copies = copies_of("fmd_demo2.jpg", 35, tmp_path)
    page.set_input_files("#file", [str(path) for path in copies[:30]])
    app.wait_until("(b => b.rows >= 1 && b.running)(JSON.parse(window.pylens.stats()).batch)")
    page.set_input_files("#file", [str(path) for path in copies[30:]])
    assert app.stats()["batch"]["running"]  # given during the run, not after it
    batch_done(app, 35)
    assert page.locator("#batch-status").text_content() == "Done: 35 of 35 analysed."
    results = json.loads(app.call(names.BATCH_RESULTS))
    assert [result["image"] for result in results] == [path.name for path in copies]


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
