// Pictures given to the app: the picker, a folder, a drop, a paste, the demos. Before Python is
// ready a picture is previewed at once (the browser decodes it, upright), and Python analyses it as
// soon as it can. A video file goes to the player (media.mjs).
import { ready } from "./api.mjs";
import { send } from "./channel.mjs";
import { cameraOn, playMovie } from "./media.mjs";
import { $, overlay, picture, stage } from "./page.mjs";
import { show } from "./stage.mjs";

function preview(source) {
  if (ready()) return;
  createImageBitmap(source, { imageOrientation: "from-image" }).then((bitmap) => {
    if (ready()) return bitmap.close();
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
  if ((event.key === "Enter" || event.key === " ") && !cameraOn()) {
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
