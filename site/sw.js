// Service worker of the built site (build.py build writes VERSION; the development server does
// not register it). It does two things a static host such as GitHub Pages cannot:
//  - cross-origin isolation: it adds COOP/COEP to the pages (and workers' scripts) it serves, so
//    that Python runs in a worker and tf.js's wasm backend can use threads;
//  - offline use: every file the app fetches from this site (and, in CDN mode, the pinned Pyodide)
//    is kept in a cache named after VERSION, so a second visit starts from the cache and works with
//    no network. A new deploy has a new VERSION: the new worker takes over and deletes older caches.
const VERSION = "dev";
const CACHE = `pylens-${VERSION}`;
const CACHED_ORIGINS = [self.location.origin, "https://cdn.jsdelivr.net"];

// This worker's cache is made as it installs, and only ever opened again while it exists: once a
// newer deploy's worker has deleted it, a request this worker still answers must not make it again.
self.addEventListener("install", (event) => event.waitUntil(caches.open(CACHE).then(() => self.skipWaiting())));
const ownCache = async () => ((await caches.has(CACHE)) ? caches.open(CACHE) : null);

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // The pages first (their requests come here from now on), then the older caches.
    await self.clients.claim();
    for (const name of await caches.keys()) {
      if (name.startsWith("pylens-") && name !== CACHE) await caches.delete(name);
    }
  })());
});

function isolated(response) {
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "credentialless");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function cacheFirst(request) {
  const cache = await ownCache();
  const cached = await cache?.match(request, { ignoreSearch: request.mode === "navigate" });
  if (cached) return cached;
  const response = await fetch(request);
  if (cache && response.ok && response.type !== "opaque") await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || !CACHED_ORIGINS.includes(url.origin)) return;
  if (request.mode === "navigate") {
    // The page itself: from the network when there is one (a new deploy shows at once), else cached.
    event.respondWith((async () => {
      try {
        const response = await fetch(request);
        if (response.ok) await (await ownCache())?.put(request, response.clone());
        return isolated(response);
      } catch {
        return isolated(await cacheFirst(request));
      }
    })());
    return;
  }
  // A worker the app starts (site/snapshot.mjs) must be isolated like the page that starts it.
  event.respondWith(request.destination === "worker" ? cacheFirst(request).then(isolated) : cacheFirst(request));
});
