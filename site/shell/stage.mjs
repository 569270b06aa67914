// The stage: the picture and what is drawn over it, on two canvases, as Python sends them
// (ImageBitmaps of its OffscreenCanvases), or the placeholder when there is no picture.
import { on } from "./channel.mjs";
import { $, overlay, picture, stage, video } from "./page.mjs";
import { drawTape } from "./recording.mjs";

const placeholderText = $("placeholder").textContent;

export function show(canvas, bitmap) {
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

on("present", (data) => {  // the picture and its overlay, drawn together
  if (data.picture) show(picture, data.picture);
  if (data.overlay) show(overlay, data.overlay);
  video.hidden = true;
  picture.hidden = overlay.hidden = false;
  $("placeholder").hidden = true;
  stage.classList.remove("stale");
  $("source-name").textContent = data.caption;
  $("snapshot").disabled = false;
  drawTape();
});
on("blank", (data) => {  // no picture for this view: the placeholder says why
  picture.hidden = overlay.hidden = video.hidden = true;
  $("placeholder").textContent = data.text ?? placeholderText;
  $("source-name").textContent = "";
  $("placeholder").hidden = false;
  $("snapshot").disabled = true;
});
