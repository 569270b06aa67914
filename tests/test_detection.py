"""The Python pipeline in the real page agrees with the JavaScript pipeline of the face-mask model."""

import io

import pytest
from PIL import Image

import samples
from conftest import assert_finds_the_faces, assert_same_detections


@pytest.mark.parametrize("name", samples.PHOTOS)
def test_matches_the_reference_results(app, reference, name):
    result = app.detect(samples.photo_bytes(name), name)
    expected = reference[name]
    assert (result["width"], result["height"]) == (expected["width"], expected["height"])
    assert_same_detections(result["detections"], expected["detections"])
    labels = {0: "Mask", 1: "NoMask"}
    assert all(d["label"] == labels[d["class_id"]] for d in result["detections"])
    assert set(result["timings_ms"]) == {"image_decode", "preprocess", "inference", "readback", "box_decode",
                                         "nms", "draw"}
    assert app.stats()["leaky_frames"] == 0


@pytest.mark.parametrize("name", sorted(samples.VARIATIONS))
def test_new_photos_show_their_known_faces_as_a_plain_javascript_pipeline_does(app, js_reference, reference,
                                                                                name):
    variation = samples.variation(name)
    out = io.BytesIO()
    variation.image.save(out, "JPEG", quality=92)
    result = app.detect(out.getvalue(), name + ".jpg")
    # The faces of the source photos, where the photo was made to put them.
    assert_finds_the_faces(result["detections"], variation.faces(reference))
    # Both pipelines run on the very same pixels: the canvas the app shows.
    assert_same_detections(result["detections"], js_reference())


@pytest.mark.parametrize("name", sorted(samples.AWKWARD_IMAGES))
def test_awkward_formats_find_the_same_faces(app, js_reference, name):
    result = app.detect(samples.awkward_image(name)[0], name)
    assert (result["width"], result["height"]) == (520, 686)
    assert_same_detections(result["detections"], js_reference())
    original = app.detect(samples.photo_bytes("aizoo_demo.jpg"), "aizoo_demo.jpg")
    if name != "greyscale-alpha.png":  # a see-through grey photo is a different picture for the model
        assert len(result["detections"]) == len(original["detections"])


@pytest.mark.parametrize("orientation", range(2, 9))
def test_phone_photos_are_analysed_upright(app, reference, orientation):
    upright = samples.photo("aizoo_demo.jpg").convert("RGB")
    result = app.detect(samples.with_orientation(upright, orientation), f"phone-{orientation}.jpg")
    assert (result["width"], result["height"]) == (520, 686)
    assert_same_detections(result["detections"], reference["aizoo_demo.jpg"]["detections"],
                           min_iou=0.8, max_score_diff=0.05)


def resized_faces(reference: dict, width: int, height: int) -> list[dict]:
    """The reference faces of the demo photo resized to width × height."""
    return samples.placed_faces(reference, "aizoo_demo.jpg", samples.scaled(width / 520, height / 686))


def test_huge_image_is_analysed_and_reported_in_its_own_pixels(app, reference):
    result = app.detect(samples.huge_jpeg(), "huge.jpg")
    assert (result["width"], result["height"]) == (9000, 7000)
    assert_finds_the_faces(result["detections"], resized_faces(reference, 9000, 7000), 0.8)


def test_huge_phone_photo_is_turned_upright_and_reported_in_its_own_pixels(app, reference):
    upright = samples.photo("aizoo_demo.jpg").convert("RGB").resize((4680, 6174), Image.Resampling.BILINEAR)
    result = app.detect(samples.with_orientation(upright, 8, quality=85), "huge-phone.jpg")
    assert (result["width"], result["height"]) == (4680, 6174)
    assert_finds_the_faces(result["detections"], resized_faces(reference, 4680, 6174), 0.8)


@pytest.mark.parametrize("name", sorted(samples.BROKEN_FILES))
def test_broken_files_give_an_error_and_the_app_goes_on(app, name):
    make, phrase = samples.BROKEN_FILES[name]
    data = make()
    result = app.detect(data, name)
    assert phrase in result["error"] and name in result["error"]
    assert app.page.locator("#error").is_visible()
    assert phrase in app.page.locator("#error-text").inner_text()
    after = app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
    assert len(after["detections"]) == 1
    assert not app.page.locator("#error").is_visible()
