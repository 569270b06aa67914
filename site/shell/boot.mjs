// The app's start as the page shows it: PyScript's boot progress in the status line until Python
// takes it over, a start that stops moving or fails said in the page, and the app's readiness.
import { failed, offer, ready } from "./api.mjs";
import { on, take } from "./channel.mjs";
import { applySavedEdits } from "./edits.mjs";
import { closeFeed, feedShown } from "./media.mjs";
import { $, showError } from "./page.mjs";

const status = $("status");
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

// A start that stops moving (a download that hangs) says so after a while, and how to go on.
const STALLED_MS = 15_000;
let stalledTimer = null;
function startMoved() {
  clearTimeout(stalledTimer);
  $("stalled").hidden = true;
  if (!ready() && !failed()) stalledTimer = setTimeout(() => { $("stalled").hidden = false; }, STALLED_MS);
}
new MutationObserver(startMoved).observe($("loading"), { subtree: true, childList: true, characterData: true,
                                                        attributeFilter: ["value", "max"] });
addEventListener("py:progress", startMoved);
startMoved();

// A start that fails before the app is ready, anywhere (a download cut off, the server gone), must
// not leave the page loading for ever: the page says so, as when Python cannot be loaded at all.
function startFailed(why) {
  if (ready() || failed()) return;
  take({ kind: "failed", shown: false,
         error: `The app could not start (${why}). Check the connection, then reload the page.` });
}
addEventListener("unhandledrejection", ({ reason }) => startFailed(reason?.message ?? String(reason)));
addEventListener("error", ({ message }) => startFailed(message));

on("ready", (data) => {
  performance.mark("pylens: ready");  // the app takes images and calls, for build.py bench
  offer(data.methods);
  startMoved();
  feedShown();
  applySavedEdits();
});
on("failed", (data) => {  // nothing can be analysed: the page says why, and takes no more images
  window.pylens.error = data.error;
  startMoved();
  if (data.shown === false) {  // from site/start.mjs: no Python to show it
    status.textContent = "The app could not start.";
    $("progress").hidden = true;
    showError(data.error);
  }
  closeFeed(false);
  for (const button of [$("open"), $("open-folder"), $("webcam"), ...$("demos").children]) button.disabled = true;
});
