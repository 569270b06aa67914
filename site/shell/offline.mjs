// Offline use and isolation: the built site (build.py build) sets SITE_VERSION to its version; the
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

// Start Python now, or, on the built site's first visit, once the page has reloaded isolated.
export function startIsolated(startPython) {
  if (SITE_VERSION && "serviceWorker" in navigator) {
    const registered = navigator.serviceWorker.register("./sw.js");
    registered.catch((error) => console.warn("The offline cache could not be set up:", error));
    if (!crossOriginIsolated && !sessionStorage.getItem(ISOLATING)) reloadIsolated(registered);
    else startPython();
  } else {
    startPython();
  }
}
