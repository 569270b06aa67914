"""The page as a person uses it: loading, picking, dropping and pasting images, sliders, saving, backends."""

import base64
import io
import json

from PIL import Image
from playwright.sync_api import expect

import samples
from conftest import FOCUSABLE, RECORD_PAGE_STATE, assert_same_detections, assert_switch_told, tab_order
from names import SHOW_VIEW
from pylens_build.headless import HeadlessApp, give_file
from pylens_build.models import model_cards

DEMO = "aizoo_demo.jpg"
MASK = "fmd_demo2.jpg"


def wait_for_inference(app, before: int) -> dict:
    app.page.wait_for_function(f"JSON.parse(window.pylens.stats()).inferences > {before}")
    return app.stats()


def set_thresholds(app, score: str | None = None, iou: str | None = None) -> list[dict]:
    """Move the sliders (not the model: NMS runs again on the last output); the detections shown then."""
    for selector, value in (("#mask-score", score), ("#mask-iou", iou)):
        if value is not None:
            app.page.locator(selector).fill(value)
    wanted = [float(app.page.locator(s).input_value()) for s in ("#mask-score", "#mask-iou")]
    shown = json.dumps(wanted, separators=(",", ":"))  # as JSON.stringify writes it
    app.wait_until(f"JSON.stringify(JSON.parse(window.pylens.stats()).thresholds) === '{shown}'")
    return app.stats()["result"]["detections"]


def listed(app) -> list[str]:
    return app.page.locator("#mask-detections li").all_inner_texts()


def test_page_is_ready_with_its_backend_and_credits(app):
    page = app.page
    assert page.locator("#loading").is_hidden()
    assert page.locator("#backend-active").inner_text() == "using WebAssembly"
    for button in ("#open", "#webcam", "#backend", "#detector"):
        assert page.locator(button).is_enabled()
    about = page.locator("#about")
    about.locator("summary").click()
    credits = about.locator("#credits li").all_inner_texts()
    # One line per distinct author and licence among the cards, linked to the model's home.
    assert len(credits) == len({(c.attribution, c.licence, c.homepage) for c in model_cards()}), credits
    assert any("AIZOOTech" in line and "MIT" in line for line in credits), credits
    assert any("MediaPipe" in line and "Apache-2.0" in line for line in credits), credits


def test_detector_menu_comes_from_the_cards_and_switches_the_model(app):
    page = app.page
    detectors = [c for c in model_cards() if c.task == "detection"]
    options = page.locator("#detector option")
    assert options.all_inner_texts() == [c.name for c in detectors]
    assert page.locator("#detector").input_value() == app.stats()["model"] == "aizoo-face-mask"
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    before = app.stats()
    page.select_option("#detector", "aizoo-face-mask-graph")
    stats = wait_for_inference(app, before["inferences"])
    assert stats["model"] == "aizoo-face-mask-graph" and "model=aizoo-face-mask-graph" in page.url
    # The model converted from the frozen graph finds the same faces (the picture is re-analysed).
    assert_same_detections(stats["result"]["detections"], before["result"]["detections"],
                           min_iou=0.99, max_score_diff=1e-3)
    assert stats["leaky_frames"] == 0
    page.select_option("#detector", "aizoo-face-mask")
    stats = wait_for_inference(app, stats["inferences"])
    assert stats["model"] == "aizoo-face-mask" and "model=" not in page.url
    # The detector replaced was disposed of: tf.js holds what it held before the other was loaded.
    assert stats["tensors"] == before["tensors"]


def test_models_disposed_when_the_backend_changes_leave_no_tensor(app):
    """Both views' models on a backend, then a switch: the detector is built anew and the style
    view's models dropped (each disposed), so tf.js holds the detector's tensors alone again."""

    def switch_to(backend: str, name: str) -> int:
        app.page.select_option("#backend", backend)
        app.page.wait_for_function(f"document.getElementById('backend-active').textContent === 'using {name}'")
        app.page.wait_for_function("!document.getElementById('backend').disabled")  # the switch is done
        return app.stats()["tensors"]

    app.detect(samples.photo_bytes(DEMO), DEMO)
    detector_only = switch_to("cpu", "CPU")  # what earlier tests loaded in the style view is dropped
    app.call(SHOW_VIEW, "style")  # segmenter and style network loaded, the picture stylized
    assert app.stats()["tensors"] > detector_only
    app.call(SHOW_VIEW, "mask")
    assert switch_to("wasm", "WebAssembly") == detector_only
    assert app.stats()["leaky_frames"] == 0


def test_unknown_model_in_the_address_is_named(site_url):
    with HeadlessApp(site_url + "?model=yolo") as app:
        expect(app.page.locator("#error-text")).to_have_text(
            "There is no detector 'yolo'; using AIZOO face-mask detector (layers model).")
        assert app.stats()["model"] == "aizoo-face-mask"


def test_open_image_button(app):
    before = app.stats()["inferences"]
    with app.page.expect_file_chooser() as chooser:
        app.page.click("#open")
    chooser.value.set_files(str(samples.photo_path(DEMO)))
    stats = wait_for_inference(app, before)
    assert stats["result"]["image"] == "aizoo_demo.jpg" and len(stats["result"]["detections"]) == 3
    assert app.page.locator("#mask-summary").inner_text() == "1 Mask, 2 NoMask"
    assert len(listed(app)) == 3 and listed(app)[0].startswith("NoMask 1.00")
    timing_rows = app.page.locator("#mask-timings tr").all_inner_texts()
    assert [row.split("\t")[0] for row in timing_rows] == [
        "Image decode", "Preprocess", "Inference", "Readback", "Box decode", "NMS", "Draw", "Total"]
    assert app.page.eval_on_selector("#picture", "c => [c.width, c.height]") == [520, 686]


def test_drop_an_image(app):
    before = app.stats()["inferences"]
    give_file(app.page, "drop", samples.photo_bytes(MASK), "dropped.jpg", "image/jpeg")
    stats = wait_for_inference(app, before)
    assert stats["result"]["image"] == "dropped.jpg" and len(stats["result"]["detections"]) == 1
    assert listed(app)[0].startswith("Mask 0.88")


def test_paste_an_image(app):
    before = app.stats()["inferences"]
    give_file(app.page, "paste", samples.encode(samples.photo(DEMO), "PNG"), "image.png", "image/png")
    assert len(wait_for_inference(app, before)["result"]["detections"]) == 3


def test_demo_buttons(app):
    before = app.stats()["inferences"]
    app.page.get_by_role("button", name="Demo: A person in a mask").click()
    stats = wait_for_inference(app, before)
    assert stats["result"]["image"] == "fmd_demo2.jpg" and len(stats["result"]["detections"]) == 1


def test_a_demo_photo_missing_on_the_server_is_named_and_the_result_kept(app):
    app.detect(samples.photo_bytes(MASK), "fmd_demo2.jpg")
    before = app.stats()
    missing = "**/demos/aizoo_demo.jpg"
    app.page.route(missing, lambda route: route.fulfill(status=404, body="gone"))
    try:
        app.page.get_by_role("button", name="Demo: Three people, one in a mask").click()
        expect(app.page.locator("#error-text")).to_have_text(
            "The demo photo aizoo_demo.jpg could not be opened: it is not on the server (HTTP 404).")
    finally:
        app.page.unroute(missing)
    assert app.stats()["result"] == before["result"] and len(listed(app)) == 1
    app.page.click("#error-close")


def test_sliders_rerun_only_the_postprocessing(app, js_reference, reference):
    page = app.page
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    inferences = app.stats()["inferences"]
    few = set_thresholds(app, score="0.05", iou="0.05")
    assert_same_detections(few, js_reference(0.05, 0.05), score_threshold=0.05)
    many = set_thresholds(app, iou="0.95")
    assert len(many) > len(few) and len(listed(app)) == len(many)
    assert_same_detections(many, js_reference(0.05, 0.95), score_threshold=0.05)
    strict = set_thresholds(app, score="0.99")
    # A higher score threshold keeps exactly the detections that reach it (a score tolerance small
    # enough that none of them counts as borderline).
    assert strict and strict == [d for d in many if d["score"] >= 0.99]
    assert_same_detections(strict, js_reference(0.99, 0.95), score_threshold=0.99, max_score_diff=0.004)
    # With overlaps suppressed again: the photo's three faces, whose scores are 0.995 to 1.00.
    faces = set_thresholds(app, iou="0.5")
    assert_same_detections(faces, reference["aizoo_demo.jpg"]["detections"], score_threshold=0.99,
                           max_score_diff=0.004)
    assert page.locator("#mask-score-value").inner_text() == "0.99"
    assert app.stats()["inferences"] == inferences
    # Keyboard: a focused slider moves by one step per arrow key.
    page.locator("#mask-score").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#mask-score-value")).to_have_text("0.98")
    assert len(set_thresholds(app, score="0.5", iou="0.5")) == 3


def test_save_results_json_and_annotated_png(app):
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    with app.page.expect_download() as download:
        app.page.click("#mask-save-json")
    assert download.value.suggested_filename == "aizoo_demo-detections.json"
    saved = json.loads(open(download.value.path()).read())
    assert saved == app.stats()["result"]
    with app.page.expect_download() as download:
        app.page.click("#mask-save-png")
    assert download.value.suggested_filename == "aizoo_demo-detections.png"
    png = Image.open(download.value.path()).convert("RGB")
    assert png.size == (520, 686)
    # The boxes are drawn in: a NoMask box edge is red, a Mask box edge green.
    nomask = next(d for d in saved["detections"] if d["label"] == "NoMask")["box"]
    mask = next(d for d in saved["detections"] if d["label"] == "Mask")["box"]
    r, g, b = png.getpixel((nomask[0], (nomask[1] + nomask[3]) // 2))
    assert r > 150 and g < 120
    r, g, b = png.getpixel((mask[0], (mask[1] + mask[3]) // 2))
    assert g > 150 and r < 120


def test_a_photo_without_faces_says_so(app):
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), "lightgrey").save(blank, "PNG")
    assert app.detect(blank.getvalue(), "wall.png")["detections"] == []
    assert app.page.locator("#mask-summary").inner_text() == "No faces found"
    assert listed(app) == []


def test_bad_file_keeps_the_previous_result(app):
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    before = app.stats()
    with app.page.expect_file_chooser() as chooser:
        app.page.click("#open")
    chooser.value.set_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"})
    expect(app.page.locator("#error-text")).to_contain_text("notes.txt is not an image")
    after = app.stats()
    assert after["result"] == before["result"] and len(listed(app)) == 3
    app.page.click("#error-close")
    expect(app.page.locator("#error")).to_be_hidden()


def test_drop_without_a_file_says_so(app):
    app.page.evaluate("""() => {
        const transfer = new DataTransfer();
        transfer.setData('text/plain', 'https://example.org/cat.jpg');
        document.getElementById('stage').dispatchEvent(
            new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
    }""")
    expect(app.page.locator("#error-text")).to_contain_text("drop an image file")
    app.page.click("#error-close")


def test_switch_backend_and_back(app, js_reference):
    page = app.page
    app.detect(samples.photo_bytes(MASK), "fmd_demo2.jpg")
    before = app.stats()["inferences"]
    page.select_option("#backend", "cpu")
    page.wait_for_function("document.getElementById('backend-active').textContent === 'using CPU'")
    stats = wait_for_inference(app, before)
    assert stats["backend"] == "cpu" and "backend=cpu" in page.url
    assert_same_detections(stats["result"]["detections"], js_reference())
    page.select_option("#backend", "wasm")
    page.wait_for_function("document.getElementById('backend-active').textContent === 'using WebAssembly'")
    stats = wait_for_inference(app, stats["inferences"])
    assert stats["backend"] == "wasm" and stats["leaky_frames"] == 0


def test_a_backend_switch_says_what_it_does_and_marks_the_old_result(app):
    page = app.page
    app.detect(samples.photo_bytes(MASK), "fmd_demo2.jpg")
    before = app.stats()["inferences"]
    page.evaluate(RECORD_PAGE_STATE)
    page.select_option("#backend", "cpu")
    stats = wait_for_inference(app, before)
    statuses = assert_switch_told(page, "CPU")
    assert "The first frame on CPU…" in statuses
    assert stats["backend"] == "cpu"
    page.select_option("#backend", "wasm")
    expect(page.locator("#backend-active")).to_have_text("using WebAssembly", timeout=120_000)
    expect(page.locator("#loading")).to_be_hidden()


def test_the_sliders_stay_where_they_are_as_the_detection_list_grows(app):
    page = app.page
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    places = [page.locator(slider).bounding_box() for slider in ("#mask-score", "#mask-iou")]
    many = set_thresholds(app, score="0.05", iou="0.95")
    assert len(many) > 20 and len(listed(app)) == len(many)
    assert [page.locator(slider).bounding_box() for slider in ("#mask-score", "#mask-iou")] == places
    box = page.locator("#mask-detections")
    assert box.evaluate("list => list.scrollHeight > list.clientHeight")  # the list scrolls in its own box
    set_thresholds(app, score="0.5", iou="0.5")
    # Each slider is explained where it is, and the open file is named under the picture.
    for slider in ("mask-score", "mask-iou"):
        help_text = page.locator(f"#{slider}-help")
        assert page.locator(f"#{slider}").get_attribute("aria-describedby") == f"{slider}-help"
        assert help_text.is_visible() and help_text.inner_text()
    expect(page.locator("#source-name")).to_have_text("aizoo_demo.jpg · 520×686")
    expect(page.locator(".hint.privacy")).to_be_visible()


OVERLAY_DRAWN = """(() => { const c = document.getElementById('overlay');
    return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v); })()"""


def test_each_view_shows_its_own_picture(app):
    page = app.page
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    assert page.evaluate(OVERLAY_DRAWN)  # the boxes
    # Segment & stylize: the boxes go at once, before its own drawing is ready.
    frames = app.stats()["style_frames"]
    page.click("#view-style")
    app.wait_until(f"!{OVERLAY_DRAWN} || JSON.parse(window.pylens.stats()).style_frames > {frames}", 120_000)
    assert app.stats()["style_frames"] == frames, "the face-mask boxes stayed until the style was drawn"
    app.wait_until(f"JSON.parse(window.pylens.stats()).style_frames > {frames}", 120_000)
    # Batch, with nothing in its table: a placeholder saying what to do, not the last view's picture.
    page.click("#view-batch")
    expect(page.locator("#placeholder")).to_have_text(
        "Open or drop several photos or a folder; choose one in the table to see it here.")
    expect(page.locator("#picture")).to_be_hidden()
    expect(page.locator("#source-name")).to_have_text("")
    # Back to the face masks: the photo and its boxes again.
    inferences = app.stats()["inferences"]
    page.click("#view-mask")
    wait_for_inference(app, inferences)
    expect(page.locator("#picture")).to_be_visible()
    assert page.evaluate(OVERLAY_DRAWN)
    expect(page.locator("#source-name")).to_have_text("aizoo_demo.jpg · 520×686")


def test_keyboard_opens_a_file_from_the_picture(app):
    before = app.stats()["inferences"]
    with app.page.expect_file_chooser() as chooser:
        app.page.locator("#stage").press("Enter")  # focuses the picture, then the key
    chooser.value.set_files(str(samples.photo_path(MASK)))
    assert wait_for_inference(app, before)["result"]["image"] == "fmd_demo2.jpg"


def test_tab_goes_through_every_control_in_reading_order(app):
    app.detect(samples.photo_bytes(DEMO), "aizoo_demo.jpg")
    order = tab_order(app.page)
    assert order == app.page.evaluate(FOCUSABLE)
    for control in ("view-mask", "detector", "backend", "open", "webcam", "stage", "mask-score", "mask-iou",
                    "mask-save-png", "mask-save-json"):
        assert control in order, (control, order)
    assert "view-style" not in order  # the tabs are one stop: the arrow keys go from tab to tab


def test_the_address_can_open_the_style_view(site_url):
    with HeadlessApp(site_url + "?view=style") as app:
        page = app.page
        assert app.stats()["view"] == "style"
        expect(page.locator("#style-panel")).to_be_visible()
        expect(page.locator("#mask-panel")).to_be_hidden()
        expect(page.locator("#view-style")).to_have_attribute("aria-selected", "true")
        before = app.stats()["style_frames"]
        give_file(page, "drop", samples.photo_bytes(MASK), "dropped.jpg", "image/jpeg")
        app.wait_until(f"JSON.parse(window.pylens.stats()).style_frames > {before}", 120_000)
        assert app.stats()["inferences"] == 0  # stylized, not run through the detector


def test_a_drop_beside_the_picture_is_taken_not_followed(app):
    before = app.stats()["inferences"]
    give_file(app.page, "drop", samples.photo_bytes(MASK), "beside.jpg", "image/jpeg", target=".panel")
    assert wait_for_inference(app, before)["result"]["image"] == "beside.jpg"


def test_images_opened_in_quick_succession_are_analysed_in_turn(app):
    results = app.page.evaluate(
        """async ([a, b]) => {
            const bytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
            return Promise.all([window.pylens.detectImage(bytes(a), 'first.jpg'),
                                window.pylens.detectImage(bytes(b), 'second.jpg')]);
        }""",
        [base64.b64encode(samples.photo_bytes(DEMO)).decode(), base64.b64encode(samples.photo_bytes(MASK)).decode()])
    first, second = (json.loads(r) for r in results)
    assert len(first["detections"]) == 3 and len(second["detections"]) == 1
    stats = app.stats()
    assert stats["result"]["image"] == "second.jpg" and len(listed(app)) == 1
    assert app.page.eval_on_selector("#picture", "c => [c.width, c.height]") == [464, 330]


def test_file_names_and_contents_are_never_run_or_parsed_as_html(app):
    hostile = '<img src=x onerror="window.pwned=1">.png'
    result = app.detect(b"<script>window.pwned = 1</script>", hostile)
    assert "error" in result
    expect(app.page.locator("#error-text")).to_contain_text(hostile)  # shown as the text it is
    app.detect(samples.photo_bytes(DEMO), hostile.replace(".png", ".jpg"))
    expect(app.page.locator("#error")).to_be_hidden()
    assert app.page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
    assert app.page.evaluate("window.pwned") is None
