// Recording: what the picture shows (the picture and what is drawn over it) to a WebM file (MP4
// where the browser records only that), while a camera or a video file gives frames.
import { $, minutes, overlay, picture } from "./page.mjs";

const recordButton = $("record"), recordingClock = $("recording");
let recording = null;  // { recorder, tape: the canvas recorded, started, timer }
let feeding = false;  // a camera or a video file gives frames

function startRecording() {
  const tape = Object.assign(document.createElement("canvas"), { width: picture.width, height: picture.height });
  drawTape(tape);
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

// The picture shown now, onto the recorded canvas.
export function drawTape(tape = recording?.tape) {
  if (!tape) return;
  const context = tape.getContext("2d");
  context.drawImage(picture, 0, 0, tape.width, tape.height);
  context.drawImage(overlay, 0, 0, tape.width, tape.height);
}

function showRecording() {
  recordButton.disabled = !("MediaRecorder" in window) || (!feeding && !recording);
  recordButton.textContent = recording ? "Stop recording" : "Record";
  recordButton.setAttribute("aria-pressed", String(Boolean(recording)));
  recordingClock.hidden = !recording;
  if (recording) recordingClock.textContent = `Recording ${minutes((performance.now() - recording.started) / 1000)}`;
}

// A camera or a video file started or stopped giving frames: a recording ends with them.
export function feedChanged(on) {
  feeding = on;
  if (!on) stopRecording();
  showRecording();
}

recordButton.addEventListener("click", () => (recording ? stopRecording() : startRecording()));
