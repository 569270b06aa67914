// Service worker of the built site (build.py build writes VERSION; the development server does
// not register it). It does two things a static host such as GitHub Pages cannot:
//  - cross-origin isolation: it adds COOP/COEP to the pages (and workers' scripts) it serves, so
//    that Python runs in a worker and tf.js's wasm backend can use threads;
//  - offline use: every file the app fetches from this site (and, in CDN mode, the pinned Pyodide)
//    is kept in a cache named after VERSION, so a second visit starts from the cache and works with
//    no network. A new deploy has a new VERSION: the new worker takes over and deletes older caches.
// And on the first visit, asked by the page as it reloads, it downloads the files of the first
// result (FIRST_RESULT) in the order the start needs them, so that the link is busy from the start
// instead of after each step of the page's start has asked for the next file, and Python's runtime,
// needed first, has it to itself.
const VERSION = "dev";
const CACHE = `pylens-${VERSION}`;
const CACHED_ORIGINS = [self.location.origin, "https://cdn.jsdelivr.net"];
// What the first result needs, in stages (build.py build writes them): each stage's files are
// downloaded together once the stage before is in.
const FIRST_RESULT = [];
// While they are being downloaded: the URL of each file of FIRST_RESULT -> settles when its stage
// begins. A request for the file waits for it, so that no later stage takes the link from an earlier.
const turns = new Map();

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

// A file's download into the cache, shared by every request for it while it is under way: each gets
// a copy of the response as its bytes arrive (the page is not kept waiting for the whole file), and
// later ones find it in the cache. {response, stored: settled once the cache has it, or not}.
const downloads = new Map();
function download(request, cache) {
  if (!downloads.has(request.url)) {
    const response = fetch(request);
    const stored = response
      .then((got) => (cache && got.ok && got.type !== "opaque" ? cache.put(request, got.clone()) : undefined))
      .catch(() => {})
      .finally(() => downloads.delete(request.url));
    downloads.set(request.url, { response, stored });
  }
  return downloads.get(request.url);
}

// The cached response, else the download's; `keep` is given what must finish after the answer.
async function cacheFirst(request, keep) {
  await turns.get(request.url);
  const cache = await ownCache();
  const cached = await cache?.match(request, { ignoreSearch: request.mode === "navigate" });
  if (cached) return cached;
  const { response, stored } = download(request, cache);
  keep(stored);
  return (await response).clone();
}

// The files of FIRST_RESULT not yet cached, stage after stage.
async function fetchFirstResult() {
  const cache = await ownCache();
  if (!cache || turns.size) return;
  const stages = FIRST_RESULT.map((paths) => {
    const requests = paths.map((path) => new Request(new URL(path, self.location).href));
    const stage = { requests };
    const turn = new Promise((resolve) => { stage.begin = resolve; });
    for (const request of requests) turns.set(request.url, turn);
    return stage;
  });
  try {
    for (const { requests, begin } of stages) {
      begin();
      await Promise.all(requests.map(async (request) => (await cache.match(request)) ?? download(request, cache).stored));
    }
  } finally {
    for (const { begin } of stages) begin();
    turns.clear();
  }
}
self.addEventListener("message", (event) => {
  if (event.data === "fetch-first-result") event.waitUntil(fetchFirstResult());
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const keep = (promise) => event.waitUntil(promise);
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
        return isolated(await cacheFirst(request, keep));
      }
    })());
    return;
  }
  // A worker the app starts (site/snapshot.mjs) must be isolated like the page that starts it.
  const answer = cacheFirst(request, keep);
  event.respondWith(request.destination === "worker" ? answer.then(isolated) : answer);
});
