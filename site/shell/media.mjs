// The camera and a video file, one frame feed at a time: opened or played here (only the page can),
// previewed in the <video>, and their newest frame handed to Python each time it asks. This module
// holds the feed's handle and reports what happens to it ("feed" messages); Python (py/feed.py) keeps
// the feed's state. The camera opens before Python is ready too, and previews.
import { ready } from "./api.mjs";
import { on, send } from "./channel.mjs";
import { $, minutes, video } from "./page.mjs";
import { feedChanged } from "./recording.mjs";

// The feed: null, { source: "camera", stream } (stream null while the browser opens it) or
// { source: "video", name, url, taken: the time of the frame last taken }. A feed replaced or closed
// while it opens is no longer `feed`, and what its opening brings is let go.
let feed = null;
const webcamButton = $("webcam");
const report = (source, state, name = "", message = "") => send({ kind: "feed", source, state, name, message });

export const cameraOn = () => feed?.source === "camera";
const feeding = () => Boolean(feed && (feed.source === "video" || feed.stream));

// The feed started or stopped: the buttons, the preview and the recording follow.
export function feedShown() {
  const camera = cameraOn();
  webcamButton.textContent = camera ? "Stop webcam" : "Start webcam";
  webcamButton.setAttribute("aria-pressed", String(camera));
  video.hidden = !feeding() || ready();
  video.classList.toggle("mirror", camera);
  $("video-bar").hidden = feed?.source !== "video";
  feedChanged(feeding());
}

// Stop whatever gives frames; Python hears of it when `told`.
export function closeFeed(told = true) {
  const closing = feed;
  if (!closing) return;
  feed = null;
  if (closing.stream) {
    closing.stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  }
  if (closing.url) {
    URL.revokeObjectURL(closing.url);
    video.pause();
    video.removeAttribute("src");
    video.load();
  }
  if (told) report(closing.source, "off");
  feedShown();
}

// ---- the camera. Which camera and its size: remembered for the next visit. A device's name and
// id come once the browser has let the page use a camera; phones also offer their front and back cameras.
const cameraMenu = $("camera-choice"), sizeMenu = $("camera-size");
const CAMERA_KEPT = "pylens-camera";
const SIZES = { 480: [640, 480], 720: [1280, 720], 1080: [1920, 1080] };
const kept = JSON.parse(localStorage.getItem(CAMERA_KEPT) || "{}");
if (kept.size in SIZES) sizeMenu.value = kept.size;
async function listCameras() {
  const devices = navigator.mediaDevices?.enumerateDevices ? await navigator.mediaDevices.enumerateDevices() : [];
  const options = [["", "default"]];
  if (navigator.maxTouchPoints > 0) options.push(["facing:user", "front"], ["facing:environment", "back"]);
  devices.filter((device) => device.kind === "videoinput" && device.deviceId).forEach((device, i) =>
    options.push([device.deviceId, device.label || `camera ${i + 1}`]));
  const wanted = cameraMenu.value || kept.camera || "";
  cameraMenu.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  cameraMenu.value = options.some(([value]) => value === wanted) ? wanted : "";
}
function cameraConstraints() {
  const [width, height] = SIZES[sizeMenu.value];
  const wanted = { width: { ideal: width }, height: { ideal: height } };
  const choice = cameraMenu.value;
  if (choice.startsWith("facing:")) wanted.facingMode = { ideal: choice.slice(7) };
  else if (choice) wanted.deviceId = { exact: choice };
  else wanted.facingMode = "user";
  return { audio: false, video: wanted };
}
for (const menu of [cameraMenu, sizeMenu]) {
  menu.addEventListener("change", () => {
    kept.camera = cameraMenu.value;
    kept.size = sizeMenu.value;
    localStorage.setItem(CAMERA_KEPT, JSON.stringify(kept));
    if (cameraOn()) openCamera();  // again, with the choice made since it opened
  });
}
navigator.mediaDevices?.addEventListener?.("devicechange", listCameras);
listCameras();

async function openCamera() {
  closeFeed();
  const opening = feed = { source: "camera", stream: null };
  report("camera", "opening");
  feedShown();
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new DOMException("no camera access", "NotSupportedError");
    const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
    if (feed !== opening) return stream.getTracks().forEach((track) => track.stop());
    opening.stream = stream;
    stream.getVideoTracks()[0].addEventListener("ended", () => {  // unplugged, or taken by the system
      if (feed !== opening) return;
      closeFeed(false);
      report("camera", "error", "Ended", "the camera stopped");
    });
    listCameras();  // with the names the browser now gives
    video.srcObject = stream;
    feedShown();
    await video.play();
    if (feed === opening) report("camera", "on");
  } catch (error) {
    if (feed !== opening) return;
    closeFeed(false);
    report("camera", "error", error?.name ?? "", String(error?.message ?? error));
  }
}
webcamButton.addEventListener("click", () => (cameraOn() ? closeFeed() : openCamera()));

// ---- a video file: played here, its frames taken as the camera's are; play, pause and seek
const playButton = $("video-play"), seek = $("video-seek");
export async function playMovie(file, name) {
  closeFeed();
  const playing = feed = { source: "video", name, url: URL.createObjectURL(file), taken: -1 };
  report("video", "opening", name);
  video.src = playing.url;
  feedShown();
  try {
    await video.play();
    if (feed === playing) report("video", "on", name);
  } catch (error) {
    if (feed !== playing) return;
    const why = video.error ? "the browser cannot play its format" : String(error?.message ?? error);
    closeFeed(false);
    report("video", "error", name, why);
  }
}
playButton.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
seek.addEventListener("input", () => { if (video.duration) video.currentTime = seek.value / 1000 * video.duration; });
for (const event of ["play", "pause", "timeupdate", "durationchange", "ended"]) {
  video.addEventListener(event, () => {
    if (feed?.source !== "video") return;
    playButton.textContent = video.paused ? "Play" : "Pause";
    if (video.duration) seek.value = Math.round(video.currentTime / video.duration * 1000);
    $("video-time").textContent = `${minutes(video.currentTime)} / ${minutes(video.duration || 0)}`;
  });
}

// ---- frames, as Python asks for them
function sendFrame() {
  // The newest frame: frames that come while Python works are dropped, never queued.
  if (!feeding() || video.readyState < 2) return send({ kind: "frame", bitmap: null });
  const movie = feed.source === "video" ? feed : null;
  if (movie && video.paused && video.currentTime === movie.taken) {
    // Paused on a frame already taken: none new until a seek or play, so none sent for a while.
    return setTimeout(() => send({ kind: "frame", bitmap: null }), 200);
  }
  if (movie) movie.taken = video.currentTime;
  createImageBitmap(video).then((bitmap) => send({ kind: "frame", bitmap }, [bitmap]),
    () => send({ kind: "frame", bitmap: null }));
}

on("open-camera", openCamera);  // Python's start of the camera (the headless API's)
on("stop-feed", () => closeFeed());
on("next-frame", () => {
  if (feeding() && !(feed.source === "video" && video.paused) && "requestVideoFrameCallback" in video) {
    video.requestVideoFrameCallback(sendFrame);
  } else {
    requestAnimationFrame(sendFrame);
  }
});
