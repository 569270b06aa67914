// The visitor's edits of the app's modules, made in the code panel (code.mjs): kept in this browser
// (IndexedDB, never sent anywhere), each with the module as it was deployed when edited, and applied
// again as the app gets ready on the next visit. An edit whose module a new deploy has changed since
// is not applied: the page says so, and the panel shows it, to apply or revert.
// The panel itself (site/code.mjs) is imported when the Code button is first pressed.
import { on, send } from "./channel.mjs";
import { $, showError } from "./page.mjs";

const toggle = $("code-toggle");
let panel = null;  // the code panel's module, once imported

function edits(mode) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open("pylens-code", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("edits", { keyPath: "path" });
    opening.onsuccess = () => resolve(opening.result.transaction("edits", mode).objectStore("edits"));
    opening.onerror = () => reject(opening.error);
  });
}
const result = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

// [{path, base: the deployed text it was made on, text}], none where the browser keeps nothing.
export const savedEdits = () => edits("readonly").then((store) => result(store.getAll())).catch(() => []);
export const keepEdit = (edit) => edits("readwrite").then((store) => result(store.put(edit)));
export const dropEdit = (path) => edits("readwrite").then((store) => result(store.delete(path)));

// A module as this deploy of the site has it.
export async function deployed(path) {
  const response = await fetch(new URL(path, location.href));
  if (!response.ok) throw new Error(`${path} is not part of this site (HTTP ${response.status})`);
  return response.text();
}

// The Code button says how many modules are edited.
export function markEdited(count) {
  toggle.textContent = count ? `Code (${count} edited)` : "Code";
}

// As the app gets ready: each kept edit applied, unless this deploy changed its module since; then
// the edits of a link the page was opened from (py/code_panel.py asks the visitor first). The link's
// fragment leaves the address at once: a reload does not ask again.
export async function applySavedEdits() {
  await applyKept();
  if (location.hash.startsWith("#edits=")) {
    const fragment = location.hash.slice(1);
    history.replaceState(null, "", location.pathname + location.search);
    send({ kind: "code-link", fragment });
  }
}
on("code-linked", async ({ edits }) => {
  for (const edit of edits) await keepEdit(edit);
  markEdited((await savedEdits()).length);
});

async function applyKept() {
  const saved = await savedEdits();
  const stale = [];
  for (const { path, base, text } of saved) {
    if ((await deployed(path).catch(() => null)) === base) send({ kind: "code-edit", path, source: text, saved: true });
    else stale.push(path);
  }
  markEdited(saved.length);
  if (stale.length) {
    showError(`This version of the site changed ${stale.join(", ")} since you edited `
      + `${stale.length > 1 ? "them" : "it"}, so your edit is not applied: open Code to see it, then apply or revert it.`);
  }
}

toggle.addEventListener("click", async () => {
  // imported by its address, which the shell's bundle leaves as it is
  panel ??= import(new URL("code.mjs", document.baseURI)).then((module) => {
    module.start({ on, send, deployed, dropEdit, keepEdit, markEdited, savedEdits });
    return module;
  });
  try {
    (await panel).toggle();
  } catch (error) {  // offline before the panel was ever opened: its files are not in this browser yet
    panel = null;
    showError(`The code panel could not load (${error.message}). It is downloaded the first time it opens: `
      + "try again once connected.");
  }
});
