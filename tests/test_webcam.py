"""The webcam mode with Chromium's fake camera playing a video made from the test photos."""

import numpy as np
import pytest
from PIL import ImageOps
from playwright.sync_api import expect

import samples
from pylens_build.bench.frames import heap_used
from pylens_build.headless import HeadlessApp
from test_segment_style import canvas_pixels

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
VIDEO_PHOTOS = ["aizoo_demo.jpg", "fmd_demo2.jpg", "fst_face.jpg"]
# What the page does with the camera, seen from outside: the streams it opened, and the frames it
# took from a video element (as ImageBitmaps).
CAMERA_WATCH = """window.cameraStreams = [];
window.framesTaken = 0;
const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (...args) => {
    const stream = await getUserMedia(...args);
    window.cameraStreams.push(stream);
    return stream;
};
const createImageBitmap = window.createImageBitmap;
window.createImageBitmap = (source, ...rest) => {
    if (source instanceof HTMLVideoElement) window.framesTaken += 1;
    return createImageBitmap(source, ...rest);
};"""
CAMERA_RELEASED = ("window.cameraStreams.length > 0 && "
                   "window.cameraStreams.every(s => s.getTracks().every(t => t.readyState === 'ended'))")


@pytest.fixture(scope="module")
def camera_app(site_url, tmp_path_factory):
    video = samples.y4m_video(tmp_path_factory.mktemp("camera") / "faces.y4m", VIDEO_PHOTOS)
    with HeadlessApp(site_url, "wasm", init_script=CAMERA_WATCH,
                           chromium_args=(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}")) as headless:
        yield headless


def frames(app) -> int:
    return app.stats()["frames"]


def test_webcam_frames_are_detected_and_drawn_mirrored(camera_app):
    page = camera_app.page
    page.click("#webcam")
    expect(page.locator("#webcam")).to_have_text("Stop webcam")
    expect(page.locator("#webcam")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("(s => s.feed && s.frames >= 20)(JSON.parse(window.pylens.stats()))", timeout=120_000)
    stats = camera_app.stats()
    result = stats["result"]
    assert result["image"] == "webcam" and (result["width"], result["height"]) == (640, 480)
    assert set(result["timings_ms"]) == {"capture", "preprocess", "inference", "readback", "box_decode", "nms",
                                         "draw"}
    expect(page.locator("#mask-fps")).to_contain_text("fps")
    # The frame analysed is the camera's picture mirrored, as in a mirror.
    shown = canvas_pixels(camera_app.page, "picture").astype(np.float64)
    distance = {(name, mirrored): np.abs(shown - np.asarray(ImageOps.mirror(frame) if mirrored else frame)).mean()
                for name in VIDEO_PHOTOS for frame in [samples.letterboxed(name, (640, 480))]
                for mirrored in (False, True)}
    assert min(distance, key=distance.get)[1], distance
    # The video shows faces: over the frames seen, the photos' faces are found.
    page.wait_for_function("JSON.parse(window.pylens.stats()).result?.detections.length >= 1", timeout=60_000)
    assert camera_app.stats()["leaky_frames"] == 0
    page.click("#webcam")
    expect(page.locator("#webcam")).to_have_text("Start webcam")
    camera_app.wait_until("!JSON.parse(window.pylens.stats()).feed")
    camera_app.wait_until(CAMERA_RELEASED)  # the camera is off (its light goes out)
    stopped = frames(camera_app)
    # An image analysed after the stop has been through the same queue: no camera frame came before it.
    camera_app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
    assert frames(camera_app) == stopped


def test_an_image_opened_while_the_camera_starts_wins(camera_app):
    page = camera_app.page
    opened = page.evaluate("window.cameraStreams.length")
    page.click("#webcam")  # getUserMedia takes a moment; the image arrives before the camera
    result = camera_app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
    assert len(result["detections"]) == 1
    # The camera that opened late is closed at once, and the image stays.
    camera_app.wait_until(f"window.cameraStreams.length > {opened} && ({CAMERA_RELEASED})")
    assert not camera_app.stats()["feed"] and camera_app.stats()["result"]["image"] == "fmd_demo2.jpg"
    expect(page.locator("#webcam")).to_have_text("Start webcam")


def test_an_image_can_be_opened_while_the_webcam_runs(camera_app):
    page = camera_app.page
    page.click("#webcam")
    page.wait_for_function("(s => s.feed && s.frames >= 3)(JSON.parse(window.pylens.stats()))", timeout=60_000)
    result = camera_app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
    assert len(result["detections"]) == 1
    assert not camera_app.stats()["feed"]
    expect(page.locator("#webcam")).to_have_text("Start webcam")


def test_frames_that_come_while_one_is_analysed_are_dropped_not_queued(camera_app):
    """The slow loop (style transfer at 384 pixels, several times a camera frame's time here): the
    camera gives far more frames than are analysed, and only the frames analysed are taken from it."""
    page = camera_app.page
    page.click("#view-style")
    page.fill("#style-side", "384")
    page.evaluate("window.pylens.startWebcam()")
    camera_app.wait_until("JSON.parse(window.pylens.stats()).style_frames >= 3", 300_000)
    count = "[JSON.parse(window.pylens.stats()).style_frames, window.framesTaken, performance.now()]"
    analysed, taken, at = page.evaluate(count)
    camera_app.wait_until(f"JSON.parse(window.pylens.stats()).style_frames >= {analysed + 6}", 300_000)
    analysed_after, taken_after, at_after = page.evaluate(count)
    fps = page.evaluate("window.cameraStreams.at(-1).getVideoTracks()[0].getSettings().frameRate")
    page.evaluate("window.pylens.stopWebcam()")
    page.click("#view-mask")
    page.fill("#style-side", "256")
    analysed, taken = analysed_after - analysed, taken_after - taken
    offered = fps * (at_after - at) / 1000
    assert offered > 2 * analysed, (offered, analysed)
    assert analysed - 1 <= taken <= analysed + 1, (taken, analysed)  # one may be in flight when counted


def test_300_frames_leave_no_tensors_and_a_flat_heap(camera_app):
    page = camera_app.page
    cdp = camera_app.context.new_cdp_session(page)
    page.click("#webcam")
    page.wait_for_function("(s => s.feed && s.frames >= 30)(JSON.parse(window.pylens.stats()))", timeout=120_000)
    start_frames, start_heap = frames(camera_app), heap_used(cdp)
    page.wait_for_function(f"JSON.parse(window.pylens.stats()).frames >= {start_frames + 300}", timeout=600_000)
    end_heap = heap_used(cdp)
    stats = camera_app.stats()
    page.click("#webcam")
    assert stats["leaky_frames"] == 0
    growth = (end_heap - start_heap) / start_heap
    print(f"JS heap over 300 frames: {start_heap / 1e6:.2f} MB -> {end_heap / 1e6:.2f} MB ({growth:+.1%})")
    assert growth <= 0.05


def test_segment_and_stylize_300_webcam_frames_with_a_flat_tensor_count(camera_app):
    page = camera_app.page
    page.click("#view-style")
    page.fill("#style-side", "128")  # the cost of style transfer grows with its pixels; 128 keeps this short

    def run(count: int) -> dict:
        """`count` stylized camera frames, then the camera stopped (which waits for the frame in flight)."""
        first = camera_app.stats()["style_frames"]
        page.evaluate("window.pylens.startWebcam()")
        page.wait_for_function(f"JSON.parse(window.pylens.stats()).style_frames >= {first + count}",
                               timeout=900_000)
        page.evaluate("window.pylens.stopWebcam()")
        return camera_app.stats()

    start = run(5)  # models loaded, kernels warm
    end = run(300)
    page.click("#view-mask")
    assert end["leaky_frames"] == 0 and end["tensors"] == start["tensors"], (start, end)
    assert end["feed"] is None and page.locator("#style-fps").inner_text() == ""


def test_camera_denied(site_url):
    # No fake-UI flag and no permission granted: the browser refuses the camera.
    with HeadlessApp(site_url, "wasm", chromium_args=("--use-fake-device-for-media-stream",)) as app:
        app.page.click("#webcam")
        expect(app.page.locator("#error-text")).to_contain_text("Camera access was denied")
        expect(app.page.locator("#webcam")).to_have_text("Start webcam")
        assert not app.stats()["feed"]
        result = app.detect(samples.photo_bytes("fmd_demo2.jpg"), "fmd_demo2.jpg")
        assert len(result["detections"]) == 1


def test_no_camera(site_url):
    # Permission granted, but this machine has no camera and no fake one is offered.
    with HeadlessApp(site_url, "wasm", permissions=("camera",)) as app:
        app.page.click("#webcam")
        expect(app.page.locator("#error-text")).to_contain_text("No camera was found")
        assert not app.stats()["feed"]


def test_the_camera_menu_offers_each_camera_and_remembers_the_choice(site_url):
    two_cameras = ("--use-fake-device-for-media-stream=device-count=2", "--use-fake-ui-for-media-stream")
    with HeadlessApp(site_url, "wasm", init_script=CAMERA_WATCH, chromium_args=two_cameras) as app:
        page = app.page
        page.click("#webcam")
        app.wait_until("(s => s.feed && s.frames > 0)(JSON.parse(window.pylens.stats()))")
        # Once the camera is allowed, the menu names both cameras.
        app.wait_until("document.querySelectorAll('#camera-choice option').length === 3")
        cameras = page.evaluate("""navigator.mediaDevices.enumerateDevices().then((devices) => devices
            .filter((d) => d.kind === 'videoinput').map((d) => [d.deviceId, d.label]))""")
        assert len(cameras) == 2
        options = page.locator("#camera-choice option")
        assert [options.nth(i).get_attribute("value") for i in (1, 2)] == [device for device, _ in cameras]
        assert options.all_inner_texts()[1:] == [label for _, label in cameras]

        # The second camera at 1280×720, taken at once while the webcam runs.
        page.select_option("#camera-size", "720")
        page.select_option("#camera-choice", cameras[1][0])
        app.wait_until(f"""(s => s.getVideoTracks()[0].getSettings().deviceId === '{cameras[1][0]}' &&
            s.getVideoTracks()[0].readyState === 'live')(window.cameraStreams.at(-1))""")
        settings = page.evaluate("window.cameraStreams.at(-1).getVideoTracks()[0].getSettings()")
        assert (settings["width"], settings["height"]) == (1280, 720)
        # The first camera was let go: each stream opened before this one has all its tracks ended.
        earlier = page.evaluate("window.cameraStreams.slice(0, -1).map(s => s.getTracks().map(t => t.readyState))")
        assert earlier and all(states == ["ended"] for states in earlier), earlier
        frames = app.stats()["frames"]
        app.wait_until(f"JSON.parse(window.pylens.stats()).frames > {frames}")
        assert (app.stats()["result"]["width"], app.stats()["result"]["height"]) == (1280, 720)

        # The camera stops while in use: said, and the loop ends cleanly.
        page.evaluate("window.cameraStreams.at(-1).getVideoTracks()[0].dispatchEvent(new Event('ended'))")
        app.wait_until("!JSON.parse(window.pylens.stats()).feed")
        assert "The camera stopped" in page.locator("#error-text").text_content()
        assert page.locator("#webcam").text_content() == "Start webcam"

        # Remembered for the next visit.
        app.visit()
        assert page.locator("#camera-size").input_value() == "720"
        app.wait_until(f"document.getElementById('camera-choice').value === '{cameras[1][0]}'")
