// Page shell only: turns PyScript's boot progress (runtime, packages) into the status line
// until the Python app takes it over, and registers the built site's service worker (sw.js).
// All app logic lives in ../py.
const status = document.getElementById("status");
const say = (detail) => {
  if (/^Loading Pyodide/.test(detail)) return "Loading the Python runtime and its packages (Pyodide, numpy, Pillow)…";
  if (/^Loading (?!Storage|files)(.+)/.test(detail)) return `Loading Python packages: ${detail.slice(8)}…`;
  if (/^Loaded Pyodide/.test(detail)) return "Starting the app…";
  return null;
};
addEventListener("py:progress", ({ detail }) => {
  performance.mark(`pyscript: ${detail}`);  // start-up phases, for DevTools and build.py bench
  const text = say(String(detail));
  if (text && !document.body.dataset.python) status.textContent = text;
});

// The built site (build.py build) sets this to its version; the development server leaves it
// null, so that edited files are never served from a cache.
const SITE_VERSION = null;
if (SITE_VERSION && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("./sw.js").then(() => {
    // The first visit is not yet served by the worker: reload once it is, to become
    // cross-origin isolated (wasm threads). Not on a browser that cannot be isolated.
    if (!crossOriginIsolated && !sessionStorage.getItem("pylens-isolating")) {
      navigator.serviceWorker.ready.then(() => {
        sessionStorage.setItem("pylens-isolating", "1");
        location.reload();
      });
    }
  }, (error) => console.warn("The offline cache could not be set up:", error));
}
