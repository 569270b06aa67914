// The page's shell: what only the main thread can do, kept to glue. The app itself is Python (py/).
// - Starts py/main.py in a PyScript worker when the page is cross-origin isolated (the worker's
//   Python reaches the page through pyscript.document), else on the page itself.
// - Takes images from the start: picker, drop, paste, demos; before Python is ready a picture is
//   previewed at once, and Python analyses it as soon as it can. The camera opens and previews too.
// - Owns the camera, the visible canvases (Python draws on OffscreenCanvas and sends ImageBitmaps)
//   and `window.pylens`, the headless API, whose calls it forwards to Python.
// Shell and Python talk over one MessagePort; every message has a `kind`.
const $ = (id) => document.getElementById(id);
const status = $("status");
const picture = $("picture"), overlay = $("overlay"), video = $("video"), stage = $("stage");
const placeholderText = $("placeholder").textContent;

// ---- start-up: PyScript's boot progress in the status line until Python takes it over
const say = (detail) => {
  if (/^Loading Pyodide/.test(detail)) return "Loading the Python runtime and numpy…";
  if (/^Loading (?!Storage|files)(.+)/.test(detail)) return `Loading Python packages: ${detail.slice(8)}…`;
  if (/^Loaded Pyodide/.test(detail)) return "Starting the app…";
  return null;
};
addEventListener("py:progress", ({ detail }) => {
  performance.mark(`pyscript: ${detail}`);  // start-up phases, for DevTools and build.py bench
  const text = say(String(detail));
  if (text && !document.body.dataset.python) status.textContent = text;
});

// The app's start (site/start.mjs) makes the channel and sends one end here; what is given before
// then waits in `early`.
let port = null;
const early = [];
const send = (message, transfer = []) => (port ? port.postMessage(message, transfer) : early.push([message, transfer]));
function connect(pythonPort) {
  port = pythonPort;
  port.onmessage = fromPython;
  for (const [message, transfer] of early.splice(0)) port.postMessage(message, transfer);
}
const script = Object.assign(document.createElement("script"), { type: "py", src: "./py/main.py" });
script.setAttribute("config", "./pyscript.toml");
if (crossOriginIsolated) {
  script.setAttribute("worker", "");
  const listen = () => script.xworker
    ? script.xworker.addEventListener("message", ({ data }) => {
      if (!data?.pylensPort) return;
      connect(data.pylensPort);
      data.pylensAddress.postMessage(location.href);  // the worker cannot see the page's address
    })
    : setTimeout(listen, 5);
  listen();
} else {
  window.pylensConnect = connect;  // site/start.mjs on this page calls it
}
const startPython = () => document.body.append(script);  // at the end of this module (see isolation)

// ---- the headless API: window.pylens forwards each method Python names to Python
let lastStats = "null";
const calls = new Map();
let lastCall = 0;
window.pylens = { ready: false, error: null, stats: () => lastStats };
const call = (method) => (...args) => new Promise((resolve, reject) => {
  calls.set(++lastCall, { resolve, reject });
  send({ kind: "call", id: lastCall, method, args });
});

// ---- images: picker, drop, paste, demos
let pythonReady = false;
function preview(source) {
  // Before Python is ready, show the picture at once (the browser decodes it, upright).
  if (pythonReady) return;
  createImageBitmap(source, { imageOrientation: "from-image" }).then((bitmap) => {
    if (pythonReady) return bitmap.close();
    [overlay.width, overlay.height] = [bitmap.width, bitmap.height];  // clear, and as large as what it covers
    show(picture, bitmap);
    $("placeholder").hidden = true;
  }, () => {});  // not an image the browser can show: Python says why
}
const VIDEO_NAME = /\.(mp4|m4v|webm|mov|mkv|ogv)$/i;
function giveImage(file, name) {
  if (file.type.startsWith("video/") || VIDEO_NAME.test(name)) return playMovie(file, name);
  preview(file);
  send({ kind: "image", file, name });
}
// Several files, or a folder, are a batch (Python shows it in the Batch view). A File is a
// reference: nothing is read here. A folder gives its images, by their path in it (as build.py
// detect orders a folder); a file that cannot be had is sent with why, to be listed.
const IMAGE_NAME = /\.(jpe?g|png|webp|gif|bmp)$/i;
const byPath = (a, b) => {
  const [x, y] = [a.name.split("/"), b.name.split("/")];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
};
function giveFiles(files) {
  if (files.length === 1) giveImage(files[0].file, files[0].name);
  else if (files.length) send({ kind: "batch", files });
}
function giveFolder(files) {
  if (files.length) send({ kind: "batch", files: files.sort(byPath) });
  else send({ kind: "empty-folder" });
}
const fileInput = $("file"), folderInput = $("folder");
$("open").addEventListener("click", () => fileInput.click());
$("open-folder").addEventListener("click", () => folderInput.click());
fileInput.addEventListener("change", () => {
  giveFiles([...fileInput.files].map((file) => ({ file, name: file.name })));
  fileInput.value = "";  // choosing the same file again fires `change` again
});
folderInput.addEventListener("change", () => {
  giveFolder([...folderInput.files].filter((file) => IMAGE_NAME.test(file.name))
    .map((file) => ({ file, name: file.webkitRelativePath || file.name })));
  folderInput.value = "";
});
stage.addEventListener("keydown", (event) => {
  if ((event.key === "Enter" || event.key === " ") && !camera.stream) {
    event.preventDefault();
    fileInput.click();
  }
});
async function imagesIn(entries) {
  // The files of dropped entries: a folder's images, recursively; a file dropped itself whatever its name.
  const found = [];
  const promised = (call) => new Promise((resolve, reject) => call(resolve, reject));
  const walk = async (entry, dropped) => {
    const name = entry.fullPath.replace(/^\//, "");
    if (entry.isFile && (dropped || IMAGE_NAME.test(entry.name))) {
      try {
        found.push({ file: await promised((ok, fail) => entry.file(ok, fail)), name });
      } catch (error) {
        found.push({ file: null, name, error: String(error?.message ?? error) });
      }
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (let some; (some = await promised((ok, fail) => reader.readEntries(ok, fail))).length;) {
        for (const child of some) await walk(child, false);
      }
    }
  };
  for (const entry of entries) await walk(entry, true);
  return found;
}
// The whole page takes drops: a file dropped beside the picture must not make the browser leave the app.
document.addEventListener("dragover", (event) => { event.preventDefault(); stage.classList.add("dragging"); });
document.addEventListener("dragleave", () => stage.classList.remove("dragging"));
document.addEventListener("drop", async (event) => {
  event.preventDefault();
  stage.classList.remove("dragging");
  // Read what was dropped now: the drop's data is gone once the handler awaits.
  const entries = [...event.dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  const files = [...event.dataTransfer.files].map((file) => ({ file, name: file.name }));
  if (entries.some((entry) => entry.isDirectory)) giveFolder(await imagesIn(entries));
  else if (files.length) giveFiles(files);
  else send({ kind: "nothing-dropped" });
});
document.addEventListener("paste", (event) => {
  const item = [...(event.clipboardData?.items ?? [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
  if (item) {
    event.preventDefault();
    const file = item.getAsFile();
    giveImage(file, file.name || "pasted image");
  } else if (!["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName)) {
    send({ kind: "nothing-pasted" });
  }
});
// A demo photo goes to Python decoded, as pixels: it needs no Pillow, which Python loads later.
async function giveDemo(file) {
  try {
    const response = await fetch(`./demos/${file}`);
    if (!response.ok) throw new Error(`it is not on the server (HTTP ${response.status})`);
    const blob = await response.blob();
    preview(blob);
    const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
    send({ kind: "demo", file, bitmap, error: null }, [bitmap]);
  } catch (error) {
    send({ kind: "demo", file, bitmap: null, error: String(error?.message ?? error) });
  }
}
for (const button of $("demos").children) button.addEventListener("click", () => giveDemo(button.dataset.file));

// ---- the view tabs, as the ARIA tabs pattern has them: one Tab stop, the arrow keys (and Home,
// End) open the next view. A view chosen while Python starts opens once it is ready; Python opens
// views once it is.
const tabs = [...document.querySelectorAll("[role=tab]")];
const viewOf = (tab) => tab.id.replace(/^view-/, "");
document.querySelector("[role=tablist]").addEventListener("keydown", (event) => {
  const at = tabs.indexOf(event.target);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (at < 0 || to === undefined) return;
  event.preventDefault();
  const tab = tabs[(to + tabs.length) % tabs.length];
  tab.focus();
  tab.click();
});
for (const tab of tabs) {
  tab.addEventListener("click", () => {
    if (pythonReady) return;
    for (const other of tabs) {
      other.setAttribute("aria-selected", String(other === tab));
      other.tabIndex = other === tab ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = other !== tab;
    }
    send({ kind: "view", name: viewOf(tab) });
  });
}

// The style thumbnails are a radio group (filled by Python): one Tab stop, the arrow keys choose.
$("styles").addEventListener("keydown", (event) => {
  const radios = [...event.currentTarget.querySelectorAll("[role=radio]")];
  const at = radios.indexOf(event.target);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (at < 0 || step === undefined) return;
  event.preventDefault();
  const radio = radios[(at + step + radios.length) % radios.length];
  radio.focus();
  radio.click();
});

// ---- the camera: opened here (it previews before Python is ready); Python asks for each frame
const camera = { stream: null, opening: false, cancelled: false, changed: false };
const webcamButton = $("webcam");
function sourceChanged() {
  // The camera or a video file started or stopped: the buttons, the preview and the recording follow.
  const on = Boolean(camera.stream);
  webcamButton.textContent = on ? "Stop webcam" : "Start webcam";
  webcamButton.setAttribute("aria-pressed", String(on));
  video.hidden = !(on || movie) || pythonReady;
  video.classList.toggle("mirror", on);
  $("video-bar").hidden = !movie;
  if (!on && !movie) stopRecording();
  showRecording();
}
// Which camera and its size: remembered for the next visit. A device's name and id come once the
// browser has let the page use a camera; phones also offer their front and back cameras.
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
  const video = { width: { ideal: width }, height: { ideal: height } };
  const choice = cameraMenu.value;
  if (choice.startsWith("facing:")) video.facingMode = { ideal: choice.slice(7) };
  else if (choice) video.deviceId = { exact: choice };
  else video.facingMode = "user";
  return { audio: false, video };
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
function closeCamera(tell = true) {
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
let movie = null;  // { name, url, taken: the time of the frame last taken }
const playButton = $("video-play"), seek = $("video-seek");
const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
async function playMovie(file, name) {
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
    $("video-time").textContent = `${clock(video.currentTime)} / ${clock(video.duration || 0)}`;
  });
}

// ---- recording: what the picture shows (the picture and what is drawn over it) to a WebM file
const recordButton = $("record"), recordingClock = $("recording");
let recording = null;  // { recorder, tape: the canvas recorded, started, timer }
function startRecording() {
  const tape = Object.assign(document.createElement("canvas"), { width: picture.width, height: picture.height });
  drawTape(tape);
  // WebM where the browser records it (Chromium, Firefox), else MP4 (Safari)
  const type = ["video/webm;codecs=vp9", "video/webm", "video/mp4"].find((t) => MediaRecorder.isTypeSupported(t));
  const recorder = new MediaRecorder(tape.captureStream(30), { mimeType: type });
  const parts = [];
  recording = { recorder, tape, started: performance.now() };
  recorder.ondataavailable = ({ data }) => { if (data.size) parts.push(data); };
  recorder.onstop = () => {  // the file offered as a download
    const container = recorder.mimeType.split(";")[0];
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(new Blob(parts, { type: container })),
      download: `pylens-recording.${container === "video/mp4" ? "mp4" : "webm"}` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  };
  recorder.start(1000);
  recording.timer = setInterval(showRecording, 500);
  showRecording();
}
function stopRecording() {
  if (!recording) return;
  clearInterval(recording.timer);
  recording.recorder.stop();
  recording = null;
  showRecording();
}
function drawTape(tape = recording?.tape) {
  if (!tape) return;
  const context = tape.getContext("2d");
  context.drawImage(picture, 0, 0, tape.width, tape.height);
  context.drawImage(overlay, 0, 0, tape.width, tape.height);
}
function showRecording() {
  const live = Boolean(camera.stream || movie);
  recordButton.disabled = !("MediaRecorder" in window) || (!live && !recording);
  recordButton.textContent = recording ? "Stop recording" : "Record";
  recordButton.setAttribute("aria-pressed", String(Boolean(recording)));
  recordingClock.hidden = !recording;
  if (recording) recordingClock.textContent = `Recording ${clock((performance.now() - recording.started) / 1000)}`;
}
recordButton.addEventListener("click", () => (recording ? stopRecording() : startRecording()));

function sendFrame() {
  // The newest frame, once Python asks: frames that come while Python works are dropped, never queued.
  if (!(camera.stream || movie) || video.readyState < 2) return send({ kind: "frame", bitmap: null });
  if (movie && video.paused && video.currentTime === movie.taken) {
    // Paused on a frame already taken: none new until a seek or play, so none sent for a while.
    return setTimeout(() => send({ kind: "frame", bitmap: null }), 200);
  }
  if (movie) movie.taken = video.currentTime;
  createImageBitmap(video).then((bitmap) => send({ kind: "frame", bitmap }, [bitmap]),
    () => send({ kind: "frame", bitmap: null }));
}

// ---- what Python sends
function show(canvas, bitmap) {
  // The first picture on screen, and the first result (what is drawn over it), for build.py bench
  const first = canvas === picture ? "pylens: picture shown" : "pylens: first result";
  if (!performance.getEntriesByName(first).length) performance.mark(first);
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  }
  const context = canvas.getContext("2d", canvas === picture ? { willReadFrequently: true } : {});
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
}
// A start that stops moving (a download that hangs) says so after a while, and how to go on.
const STALLED_MS = 15_000;
let stalledTimer = null;
function startMoved() {
  clearTimeout(stalledTimer);
  $("stalled").hidden = true;
  if (!pythonReady && !window.pylens.error) stalledTimer = setTimeout(() => { $("stalled").hidden = false; }, STALLED_MS);
}
new MutationObserver(startMoved).observe($("loading"), { subtree: true, childList: true, characterData: true,
                                                        attributeFilter: ["value", "max"] });
addEventListener("py:progress", startMoved);
startMoved();
// A start that fails before the app is ready, anywhere (a download cut off, the server gone), must
// not leave the page loading for ever: the page says so, as when Python cannot be loaded at all.
function startFailed(why) {
  if (pythonReady || window.pylens.error) return;
  fromPython({ data: { kind: "failed", shown: false,
    error: `The app could not start (${why}). Check the connection, then reload the page.` } });
}
addEventListener("unhandledrejection", ({ reason }) => startFailed(reason?.message ?? String(reason)));
addEventListener("error", ({ message }) => startFailed(message));

function fromPython({ data }) {
  switch (data.kind) {
    case "present":  // the picture and its overlay, drawn together
      if (data.picture) show(picture, data.picture);
      if (data.overlay) show(overlay, data.overlay);
      video.hidden = true;
      picture.hidden = overlay.hidden = false;
      $("placeholder").hidden = true;
      stage.classList.remove("stale");
      $("source-name").textContent = data.caption;
      $("snapshot").disabled = false;
      drawTape();
      break;
    case "blank":  // no picture for this view: the placeholder says why
      picture.hidden = overlay.hidden = video.hidden = true;
      $("placeholder").textContent = data.text ?? placeholderText;
      $("source-name").textContent = "";
      $("placeholder").hidden = false;
      $("snapshot").disabled = true;
      break;
    case "stats":
      lastStats = data.json;
      break;
    case "reply": {
      const { resolve, reject } = calls.get(data.id);
      calls.delete(data.id);
      if (data.error) reject(new Error(data.error)); else resolve(data.value);
      break;
    }
    case "ready":
      performance.mark("pylens: ready");  // the app takes images and calls, for build.py bench
      pythonReady = true;
      startMoved();
      for (const method of data.methods) window.pylens[method] = call(method);
      window.pylens.ready = true;
      sourceChanged();
      break;
    case "failed":  // nothing can be analysed: the page says why, and takes no more images
      window.pylens.error = data.error;
      startMoved();
      if (data.shown === false) {  // from site/start.mjs: no Python to show it
        $("status").textContent = "The app could not start.";
        $("progress").hidden = true;
        $("error-text").textContent = data.error;
        $("error").hidden = false;
      }
      closeCamera(false);
      for (const button of [$("open"), $("open-folder"), webcamButton, ...$("demos").children]) button.disabled = true;
      break;
    case "camera":  // Python starts the camera, or stops whatever plays (camera or video file)
      if (data.want) openCamera();
      else {
        closeCamera();
        closeMovie();
      }
      break;
    case "next-frame":
      if ((camera.stream || (movie && !video.paused)) && "requestVideoFrameCallback" in video) {
        video.requestVideoFrameCallback(sendFrame);
      } else {
        requestAnimationFrame(sendFrame);
      }
      break;
  }
}

// ---- offline use and isolation: the built site (build.py build) sets this to its version; the
// development server leaves it null, so that edited files are never served from a cache.
const SITE_VERSION = null;
const ISOLATING = "pylens-isolating";
const ISOLATION_WAIT_MS = 5000;
// The built site's first visit is not yet served by its service worker (site/sw.js), so not
// cross-origin isolated: the page reloads as soon as the worker is ready, without starting Python
// first (in a worker, with wasm threads, it starts after the reload), and asks the worker to download
// the first result's files meanwhile. A browser that cannot be isolated, or a worker not ready in
// time, gets Python on the page after the reload (PyScript takes its script as the page loads).
async function reloadIsolated(registered) {
  try {
    const registration = await Promise.race([registered.then(() => navigator.serviceWorker.ready),
      new Promise((_, fail) => {
        setTimeout(() => fail(new Error(`the service worker was not ready within ${ISOLATION_WAIT_MS / 1000} s`)),
                   ISOLATION_WAIT_MS);
      })]);
    registration.active.postMessage("fetch-first-result");
  } catch (error) {
    console.warn("Not cross-origin isolated: Python runs on the page.", error);
  }
  sessionStorage.setItem(ISOLATING, "1");  // whatever the reload brings, its Python starts at once
  location.reload();
}
if (SITE_VERSION && "serviceWorker" in navigator) {
  const registered = navigator.serviceWorker.register("./sw.js");
  registered.catch((error) => console.warn("The offline cache could not be set up:", error));
  if (!crossOriginIsolated && !sessionStorage.getItem(ISOLATING)) reloadIsolated(registered);
  else startPython();
} else {
  startPython();
}
