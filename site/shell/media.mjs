// The camera and a video file: opened or played here (only the page can), previewed in the
// <video>, and their newest frame handed to Python each time it asks. The camera opens before
// Python is ready too, and previews.
import { on, send } from "./channel.mjs";
import { $, app, minutes, video } from "./page.mjs";
import { feedChanged } from "./recording.mjs";

const camera = { stream: null, opening: false, cancelled: false, changed: false };
let movie = null;  // { name, url, taken: the time of the frame last taken }
const webcamButton = $("webcam");

// Whether a camera or a video file gives frames; whether the camera does.
export const feeding = () => Boolean(camera.stream || movie);
export const cameraOn = () => Boolean(camera.stream);

// The camera or a video file started or stopped: the buttons, the preview and the recording follow.
export function sourceChanged() {
  const on = Boolean(camera.stream);
  webcamButton.textContent = on ? "Stop webcam" : "Start webcam";
  webcamButton.setAttribute("aria-pressed", String(on));
  video.hidden = !(on || movie) || app.ready;
  video.classList.toggle("mirror", on);
  $("video-bar").hidden = !movie;
  feedChanged(feeding());
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
    if (camera.opening) camera.changed = true;  // taken once this opening is done
    else if (camera.stream) reopenCamera();
  });
}
navigator.mediaDevices?.addEventListener?.("devicechange", listCameras);
listCameras();

function reopenCamera() {  // with the choice of camera and size made since it opened
  closeCamera();
  openCamera();
}
async function openCamera() {
  if (camera.stream || camera.opening) return;
  closeMovie();
  camera.opening = true;
  camera.changed = false;
  camera.cancelled = false;
  webcamButton.disabled = true;
  send({ kind: "camera", state: "opening" });
  try {
    if (!navigator.mediaDevices?.getUserMedia) throw new DOMException("no camera access", "NotSupportedError");
    const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
    if (camera.cancelled) {
      stream.getTracks().forEach((track) => track.stop());
      send({ kind: "camera", state: "off" });
      return;
    }
    camera.stream = stream;
    stream.getVideoTracks()[0].addEventListener("ended", () => {  // unplugged, or taken by the system
      if (camera.stream !== stream) return;
      closeCamera(false);
      send({ kind: "camera", state: "error", name: "Ended", message: "the camera stopped" });
    });
    listCameras();  // with the names the browser now gives
    video.srcObject = stream;
    await video.play();
    send({ kind: "camera", state: "on" });
  } catch (error) {
    closeCamera(false);
    send({ kind: "camera", state: "error", name: error?.name ?? "", message: String(error?.message ?? error) });
  } finally {
    camera.opening = false;
    webcamButton.disabled = false;
    sourceChanged();
    if (camera.changed && camera.stream) reopenCamera();
  }
}
export function closeCamera(tell = true) {
  camera.cancelled = camera.opening;
  if (camera.stream) {
    camera.stream.getTracks().forEach((track) => track.stop());
    camera.stream = null;
    video.srcObject = null;
    if (tell) send({ kind: "camera", state: "off" });
  }
  sourceChanged();
}
webcamButton.addEventListener("click", () => (camera.stream ? closeCamera() : openCamera()));

// ---- a video file: played here, its frames taken as the camera's are; play, pause and seek
const playButton = $("video-play"), seek = $("video-seek");
export async function playMovie(file, name) {
  closeCamera();
  closeMovie();
  movie = { name, url: URL.createObjectURL(file), taken: -1 };
  const playing = movie;
  video.src = playing.url;
  sourceChanged();
  try {
    await video.play();
    if (movie === playing) send({ kind: "video", state: "on", name });
  } catch (error) {
    if (movie !== playing) return;
    const why = video.error ? "the browser cannot play its format" : String(error?.message ?? error);
    closeMovie(false);
    send({ kind: "video", state: "error", name, message: why });
  }
}
function closeMovie(tell = true) {
  if (!movie) return;
  URL.revokeObjectURL(movie.url);
  movie = null;
  video.pause();
  video.removeAttribute("src");
  video.load();
  if (tell) send({ kind: "video", state: "off" });
  sourceChanged();
}
playButton.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
seek.addEventListener("input", () => { if (video.duration) video.currentTime = seek.value / 1000 * video.duration; });
for (const event of ["play", "pause", "timeupdate", "durationchange", "ended"]) {
  video.addEventListener(event, () => {
    if (!movie) return;
    playButton.textContent = video.paused ? "Play" : "Pause";
    if (video.duration) seek.value = Math.round(video.currentTime / video.duration * 1000);
    $("video-time").textContent = `${minutes(video.currentTime)} / ${minutes(video.duration || 0)}`;
  });
}

// ---- frames, as Python asks for them
function sendFrame() {
  // The newest frame: frames that come while Python works are dropped, never queued.
  if (!feeding() || video.readyState < 2) return send({ kind: "frame", bitmap: null });
  if (movie && video.paused && video.currentTime === movie.taken) {
    // Paused on a frame already taken: none new until a seek or play, so none sent for a while.
    return setTimeout(() => send({ kind: "frame", bitmap: null }), 200);
  }
  if (movie) movie.taken = video.currentTime;
  createImageBitmap(video).then((bitmap) => send({ kind: "frame", bitmap }, [bitmap]),
    () => send({ kind: "frame", bitmap: null }));
}

on("camera", (data) => {  // Python starts the camera, or stops whatever plays (camera or video file)
  if (data.want) openCamera();
  else {
    closeCamera();
    closeMovie();
  }
});
on("next-frame", () => {
  if ((camera.stream || (movie && !video.paused)) && "requestVideoFrameCallback" in video) {
    video.requestVideoFrameCallback(sendFrame);
  } else {
    requestAnimationFrame(sendFrame);
  }
});
