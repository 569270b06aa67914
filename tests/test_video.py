"""Video files in the real page: played in the picture with the active view on their frames, paused
and sought; an unplayable file named; the picture recorded to WebM."""

from __future__ import annotations

import base64
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from pylens_build.headless import HeadlessApp
from pylens_build.models import model_cards

# Photos of the site's demos, each shown for SECONDS in turn: their faces are known (3, then 1).
CLIP = (("aizoo_demo.jpg", 3), ("fmd_demo2.jpg", 1))
SECONDS = 2.0
CARD = next(card for card in model_cards() if card.id == "aizoo-face-mask")


@pytest.fixture(scope="module")
def video_app(site_url):
    with HeadlessApp(site_url, "wasm") as headless:
        yield headless


@pytest.fixture(scope="module")
def clip(video_app, tmp_path_factory):
    """A WebM made in the browser (MediaRecorder on a canvas) of the demo photos in turn."""
    encoded = video_app.page.evaluate("""async ([files, seconds]) => {
        const photos = await Promise.all(files.map(async (file) =>
            createImageBitmap(await (await fetch(`./demos/${file}`)).blob())));
        const canvas = Object.assign(document.createElement("canvas"), {width: 480, height: 360});
        const context = canvas.getContext("2d");
        const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: "video/webm"});
        const parts = [];
        recorder.ondataavailable = (event) => parts.push(event.data);
        const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
        recorder.start();
        const start = performance.now();
        await new Promise((resolve) => {
            const draw = () => {
                const elapsed = (performance.now() - start) / 1000;
                if (elapsed > seconds * photos.length) return resolve();
                const photo = photos[Math.min(photos.length - 1, Math.floor(elapsed / seconds))];
                const scale = Math.min(canvas.width / photo.width, canvas.height / photo.height);
                const [width, height] = [photo.width * scale, photo.height * scale];
                context.fillStyle = "#fff";
                context.fillRect(0, 0, canvas.width, canvas.height);
                context.drawImage(photo, (canvas.width - width) / 2, (canvas.height - height) / 2, width, height);
                requestAnimationFrame(draw);
            };
            draw();
        });
        recorder.stop();
        await stopped;
        const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
        let text = "";
        for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return btoa(text);
    }""", [[name for name, _ in CLIP], SECONDS])
    path = tmp_path_factory.mktemp("video") / "faces.webm"
    path.write_bytes(base64.b64decode(encoded))
    return path


def faces_seen(app: HeadlessApp, seconds: float) -> list[int]:
    """The number of faces in each new result over `seconds`."""
    counts, last = [], None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stats = app.stats()
        if stats["frames"] != last and stats["result"]:
            counts.append(len(stats["result"]["detections"]))
            last = stats["frames"]
        app.page.wait_for_timeout(50)
    return counts


def settled_frames(app: HeadlessApp, quiet_ms: int = 600, timeout_s: float = 20) -> int:
    """The frame count once no frame has been analysed for quiet_ms."""
    deadline = time.monotonic() + timeout_s
    frames = app.stats()["frames"]
    while time.monotonic() < deadline:
        app.page.wait_for_timeout(quiet_ms)
        if (now := app.stats()["frames"]) == frames:
            return frames
        frames = now
    raise AssertionError(f"frames still analysed after {timeout_s} s")


def video_state(page) -> dict:
    return page.evaluate("(v => ({paused: v.paused, ended: v.ended, time: v.currentTime}))"
                         "(document.getElementById('video'))")


def test_a_video_file_plays_with_detections_on_its_frames(video_app, clip):
    app, page = video_app, video_app.page
    page.set_input_files("#file", str(clip))
    app.wait_until("(s => s.feed && s.frames > 0)(JSON.parse(window.pylens.stats()))")
    assert app.stats()["result"]["image"] == "faces.webm"
    assert page.locator("#video-bar").is_visible()

    # Pause pressed while it plays: no new frame is analysed, and the clip stays where it was.
    assert not video_state(page)["paused"]
    page.click("#video-play")
    app.wait_until("document.getElementById('video').paused")
    paused = video_state(page)
    assert not paused["ended"] and paused["time"] < len(CLIP) * SECONDS - 1, paused
    expect(page.locator("#video-play")).to_have_text("Play")
    # The frame under way and the frame it paused on (if not yet taken) are analysed, then none.
    frames = settled_frames(app)
    page.wait_for_timeout(1500)
    assert app.stats()["frames"] == frames and video_state(page) == paused
    # Sought back to the start: that frame is analysed, the first photo's faces.
    frames = app.stats()["frames"]
    page.locator("#video-seek").fill("0")
    app.wait_until(f"JSON.parse(window.pylens.stats()).frames > {frames}")
    assert len(app.stats()["result"]["detections"]) == CLIP[0][1]
    # Played again from there to the end: each photo's faces, on its frames.
    page.click("#video-play")
    seen = faces_seen(app, len(CLIP) * SECONDS + 0.5)
    assert {faces for _, faces in CLIP} <= set(seen), seen
    assert video_state(page)["ended"]

    # An image opened stops the video.
    page.set_input_files("#file", str(clip.with_name("faces.webm")))  # the same video again plays anew
    app.wait_until("JSON.parse(window.pylens.stats()).feed")
    page.click("#view-mask")
    page.locator("#demos button").first.click()
    app.wait_until("!JSON.parse(window.pylens.stats()).feed && "
                   "JSON.parse(window.pylens.stats()).result.image === 'aizoo_demo.jpg'")
    assert page.locator("#video-bar").is_hidden()


def test_an_unplayable_video_is_named(video_app, tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 but not a video")
    video_app.page.set_input_files("#file", str(bad))
    video_app.wait_until("document.getElementById('error-text').textContent.includes('holiday.mp4 cannot be played')")
    assert not video_app.stats()["feed"]


def webm_seconds(app: HeadlessApp, data: bytes) -> float:
    """A WebM's duration, as the browser finds it (MediaRecorder writes none: seeking to the end does)."""
    return app.page.evaluate("""async (encoded) => {
        const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
        const video = Object.assign(document.createElement("video"), {muted: true, preload: "auto"});
        video.src = URL.createObjectURL(new Blob([bytes], {type: "video/webm"}));
        await new Promise((resolve, reject) => { video.onloadedmetadata = resolve; video.onerror = reject; });
        if (video.duration === Infinity) {
            video.currentTime = 1e9;
            await new Promise((resolve) => { video.ontimeupdate = resolve; });
        }
        return video.duration;
    }""", base64.b64encode(data).decode())


def webm_frame(app: HeadlessApp, data: bytes, seconds: float) -> np.ndarray:
    """The RGB pixels of a WebM's frame at a time, as the browser shows it."""
    width, height, rgba = app.page.evaluate("""async ([encoded, seconds]) => {
        const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
        const video = Object.assign(document.createElement("video"), {muted: true, preload: "auto"});
        video.src = URL.createObjectURL(new Blob([bytes], {type: "video/webm"}));
        await new Promise((resolve, reject) => { video.onloadeddata = resolve; video.onerror = reject; });
        video.currentTime = seconds;
        await new Promise((resolve) => { video.onseeked = resolve; });
        const canvas = Object.assign(document.createElement("canvas"),
                                     {width: video.videoWidth, height: video.videoHeight});
        const context = canvas.getContext("2d");
        context.drawImage(video, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let text = "";
        for (let i = 0; i < pixels.length; i += 8192) text += String.fromCharCode(...pixels.subarray(i, i + 8192));
        return [canvas.width, canvas.height, btoa(text)];
    }""", [base64.b64encode(data).decode(), seconds])
    return np.frombuffer(base64.b64decode(rgba), np.uint8).reshape(height, width, 4)[..., :3]


def near(pixels: np.ndarray, colour: str, tolerance: int = 48) -> int:
    """How many pixels are within `tolerance` of a #rrggbb colour on every channel."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - rgb).max(axis=2) <= tolerance).sum())


def test_the_picture_is_recorded_to_webm_and_snapshot_to_png(video_app, clip, tmp_path):
    app, page = video_app, video_app.page
    page.set_input_files("#file", str(clip))
    app.wait_until("(s => s.feed && s.frames > 0)(JSON.parse(window.pylens.stats()))")
    page.click("#record")
    assert page.locator("#recording").is_visible()
    started = time.monotonic()
    page.wait_for_timeout(2500)
    with page.expect_download() as download:
        page.click("#record")
    seconds = time.monotonic() - started
    assert download.value.suggested_filename == "pylens-recording.webm"
    recorded = download.value.path().read_bytes()
    assert recorded[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM
    assert webm_seconds(app, recorded) == pytest.approx(seconds, abs=0.6)
    assert page.locator("#recording").is_hidden()
    # Its frames show what the view drew: half a second in, the first photo with its two faces
    # without a mask, each named on a label of the NoMask colour, which the clip itself lacks.
    mask, no_mask = (label.color for label in CARD.labels)
    recorded_frame, clip_frame = webm_frame(app, recorded, 0.5), webm_frame(app, clip.read_bytes(), 0.5)
    assert near(recorded_frame, no_mask) > 400 > 20 > near(clip_frame, no_mask), (
        near(recorded_frame, no_mask), near(clip_frame, no_mask))

    with page.expect_download() as download:
        page.click("#snapshot")
    assert download.value.suggested_filename == "faces-snapshot.png"
    with Image.open(download.value.path()) as snapshot:
        assert snapshot.size == (480, 360)
        shown = np.asarray(snapshot.convert("RGB"))
    # The frame with what the view drew on it: the second photo, its face in a mask labelled in that colour.
    assert app.stats()["result"]["detections"][0]["label"] == "Mask"
    assert near(shown, mask) > 400 > 20 > near(webm_frame(app, clip.read_bytes(), 3.5), mask)
    page.locator("#demos button").first.click()  # a photo replaces the video
    app.wait_until("!JSON.parse(window.pylens.stats()).feed")
    assert page.locator("#record").is_disabled()
