// The app's start, in the worker (or on the page when it is not cross-origin isolated). PyScript
// loads Pyodide through this module: it is PyScript's `interpreter` (build.py writes
// `interpreter = "./start.mjs?pyodide=<URL of pyodide.mjs>"` into pyscript.toml). While Pyodide
// starts, it starts what the app's Python will need from JavaScript, so that nothing waits for
// Python that need not:
//  - the channel to the page's shell (site/shell.js), and the page's address through it;
//  - tf.js (vendor/tfjs.mjs) and the backend the page asks for (`?backend=`), else the fastest
//    here (see useBackend); ONNX Runtime Web (vendor/ort/) only when one of its backends is chosen;
//  - the detector's files, downloaded once Pyodide is up (Python checks them and builds the model).
// Python takes them from `globalThis.pylensStart` (py/start.py).
// On the built site, a visit after the first restores Python from a memory snapshot instead of
// starting it (site/snapshot.mjs makes it after the first result); a snapshot that does not restore
// is dropped, and Python starts as on a first visit.
const here = new URL(import.meta.url);
const SITE_URL = new URL("./", here).href;
const PYODIDE_MODULE = new URL(here.searchParams.get("pyodide") ?? "./pyodide/pyodide.mjs", here).href;
const PYODIDE_URL = new URL("./", PYODIDE_MODULE).href;  // its folder: packages, lock file, runtime
const DEFAULT_DETECTOR = "aizoo-face-mask";
const onPage = typeof document !== "undefined";
const SITE_VERSION = null;  // build.py build writes the site's version; the development server has none
// The built site keeps what it learns here (Python's snapshot, the backends' times) in its service
// worker's cache (site/sw.js): a new deploy, a new cache. The development server keeps nothing.
const SITE_CACHE = `pylens-${SITE_VERSION}`;
const siteCache = SITE_VERSION && globalThis.caches ? caches.open(SITE_CACHE) : Promise.resolve(null);

// ---- the shell's channel; in a worker, a second one brings the page's address from the shell
const channel = new MessageChannel();
const page = new Promise((resolve) => {
  if (onPage) {
    window.pylensConnect(channel.port2);
    resolve(new URL(location.href));
  } else {
    const address = new MessageChannel();
    address.port1.onmessage = ({ data }) => {
      address.port1.close();
      resolve(new URL(data));
    };
    postMessage({ pylensPort: channel.port2, pylensAddress: address.port2 }, [channel.port2, address.port2]);
  }
});
const detector = page.then((url) => url.searchParams.get("model") || DEFAULT_DETECTOR);

// ---- the backends: tf.js's, in the order the automatic choice tries them, and ONNX Runtime Web's,
// which it takes only once timed here (their files are 15-30 MB). With ONNX Runtime, tf.js runs the
// steps before and after the network on wasm (else cpu): the tensors stay in main memory.
const BACKENDS = ["webgpu", "webgl", "wasm", "cpu"];
// Each: its API module, its execution provider, and the runtime the module loads (under vendor/ort/).
const ORT_BACKENDS = {
  "ort-webgpu": { module: "ort.webgpu.min.mjs", provider: "webgpu", runtime: "ort-wasm-simd-threaded.asyncify.wasm" },
  "ort-wasm": { module: "ort.wasm.min.mjs", provider: "wasm", runtime: "ort-wasm-simd-threaded.wasm" },
};
const ALL_BACKENDS = [...BACKENDS, ...Object.keys(ORT_BACKENDS)];

// What renders each GPU backend here, looked up once: WebGPU's adapter, WebGL's renderer (null: none).
let gpusHere = null;
function gpus() {
  gpusHere ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    const info = adapter?.info ?? {};
    const gl = new OffscreenCanvas(1, 1).getContext("webgl2");
    const debug = gl?.getExtension("WEBGL_debug_renderer_info");
    return {
      webgpu: adapter ? `${adapter.isFallbackAdapter ? "fallback " : ""}${info.vendor} ${info.architecture} ${info.description}` : null,
      webgl: gl ? String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : null,
    };
  })();
  return gpusHere;
}

// Whether a GPU backend would run on a GPU rendered in software (SwiftShader, llvmpipe, a
// browser's fallback adapter): slower than WebAssembly for these models, so not chosen before
// the backends have been timed here.
async function runsInSoftware(name) {
  if (name !== "webgpu" && name !== "webgl") return false;
  const renderer = (await gpus())[name];
  return !renderer || /fallback|swiftshader|llvmpipe|software/i.test(renderer);
}

// A GPU backend stops working when the browser loses its WebGPU device or WebGL context (a driver
// reset, a crash of the GPU process, memory running out). `lost` resolves then, as {backend,
// reason}, for the backend in use. tf.js cannot carry on with a lost backend: its next use builds
// a new one.
let lost = new Promise(() => {});
const stale = new Set();  // backends lost, to build anew when next used

function watch(tf, name) {
  lost = new Promise((resolve) => {
    const gone = (reason) => {
      stale.add(name);
      resolve({ backend: name, reason });
    };
    const deviceLost = (info) => gone(info.message || `its device was ${info.reason}`);
    if (name === "webgpu") tf.backend().device.lost.then(deviceLost);
    if (name === "webgl") {
      tf.backend().gpgpu.gl.canvas.addEventListener("webglcontextlost", () => gone("its context was lost"), { once: true });
    }
    if (name === "ort-webgpu") onnxRuntime(name).then(({ device }) => device).then((device) => device.lost.then(deviceLost));
  });
}

function renew(tf, name) {
  const { factory, priority } = tf.engine().registryFactory[name];
  try {
    tf.removeBackend(name);  // disposes what is left of the lost device or context
  } finally {
    tf.registerBackend(name, factory, priority);
  }
}

async function tryBackend(tf, name) {
  if (name === "webgpu" && !(await gpus()).webgpu) return false;
  if (name in ORT_BACKENDS) return tryOnnxRuntime(tf, name);
  try {
    if (stale.delete(name)) renew(tf, name);
    if (!(await tf.setBackend(name)) || tf.getBackend() !== name) return false;
    watch(tf, name);
    return true;
  } catch {
    return false;
  }
}

// ONNX Runtime Web for one of its backends, imported when first asked for: {ort, device}, its module
// and (on WebGPU) the device its first session makes.
const ortModules = new Map();
function onnxRuntime(name) {
  if (!ortModules.has(name)) ortModules.set(name, importOnnxRuntime(name, ""));
  return ortModules.get(name);
}

function importOnnxRuntime(name, query) {
  const loading = import(SITE_URL + "vendor/ort/" + ORT_BACKENDS[name].module + query).then((ort) => {
    ort.env.wasm.wasmPaths = SITE_URL + "vendor/ort/";  // threads when cross-origin isolated (its default)
    let made;
    const device = new Promise((resolve) => { made = resolve; });
    return { ort, device, made };
  });
  loading.catch(() => ortModules.delete(name));  // tried again when next chosen
  return loading;
}

// A session of an ONNX model (its bytes) on one of ONNX Runtime's backends.
async function onnxSession(name, bytes) {
  const { ort, made } = await onnxRuntime(name);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [ORT_BACKENDS[name].provider] });
  if (ort.env.webgpu.device) made(ort.env.webgpu.device);
  return session;
}

async function tryOnnxRuntime(tf, name) {
  if (name === "ort-webgpu" && !(await gpus()).webgpu) return false;
  // A lost WebGPU device is not given back: a new instance of the module asks for a new one.
  if (stale.delete(name)) ortModules.set(name, importOnnxRuntime(name, `?renewed=${Date.now()}`));
  try {
    await onnxRuntime(name);
  } catch (error) {
    console.warn(`ONNX Runtime Web (${name}) did not load.`, error);
    return false;
  }
  if (!(await tryBackend(tf, "wasm")) && !(await tryBackend(tf, "cpu"))) return false;
  watch(tf, name);
  return true;
}

// Switch tf.js to `wanted`, or choose: the fastest by `times` (measured here for the detector in
// use; by default those kept for the page's detector, see timeBackends), else the first of
// BACKENDS not rendered in software; never one of `avoid`. {backend, missed: `wanted` when it
// could not run}.
async function useBackend(wanted, times = null, avoid = []) {
  const { tf } = await tfjs;
  if (ALL_BACKENDS.includes(wanted) && (await tryBackend(tf, wanted))) return { backend: wanted, missed: null };
  times ??= await storedTimes;
  const measured = times ? ALL_BACKENDS.filter((name) => name in times).sort((a, b) => times[a] - times[b]) : [];
  for (const name of new Set([...measured, ...BACKENDS])) {
    if (avoid.includes(name) || (!measured.length && (await runsInSoftware(name)))) continue;
    if (await tryBackend(tf, name)) return { backend: name, missed: ALL_BACKENDS.includes(wanted) ? wanted : null };
  }
  throw new Error("No TensorFlow.js backend could start in this browser.");
}

// ---- the backends timed on each detector, by a worker of their own (site/backends.mjs), kept for
// this browser and its GPUs. ONNX Runtime's backends are timed once their runtime is in the site's
// cache (chosen once from the menu): never 15-30 MB downloaded only to time them.
const timesKey = (detectorId) => `${SITE_URL}__backend-times/${encodeURIComponent(detectorId)}`;
const device = siteCache.then(async (cache) => {
  if (!cache) return null;
  const gpu = await gpus();
  return `${navigator.userAgent} | ${gpu.webgpu} | ${gpu.webgl}`;
});
async function onnxRuntimesCached() {
  const cache = await siteCache;
  const cached = await Promise.all(Object.entries(ORT_BACKENDS).map(
    async ([name, { runtime }]) => ((await cache?.match(SITE_URL + "vendor/ort/" + runtime)) ? name : null)));
  return cached.filter(Boolean);
}
// The times kept here for a detector, or null; null too when an ONNX Runtime backend was cached since.
async function timesOf(detectorId) {
  try {
    const stored = await (await (await siteCache)?.match(timesKey(detectorId)))?.json();
    if (stored?.device !== (await device)) return null;
    const untimed = (await onnxRuntimesCached()).filter((name) => !stored.onnx.includes(name));
    return untimed.length && stored.hasOnnx ? null : stored.times;
  } catch {
    return null;
  }
}
const storedTimes = detector.then(timesOf);

// Time the detector (its model's URL, format and input shape; its ONNX model's URL, or null) on every
// backend; resolves to the times, kept for the next visits, or null on the development server, which
// keeps nothing.
async function timeBackends(detectorId, model, format, shape, onnxModel) {
  const cache = await siteCache;
  if (!cache) return null;
  const onnx = onnxModel ? await onnxRuntimesCached() : [];
  const times = await oneJob("backends.mjs", { backends: BACKENDS, tfjs: SITE_URL + "vendor/tfjs.mjs",
    wasmPaths: SITE_URL + "vendor/tfjs-backend-wasm/", model, format, shape: [...shape],
    onnx: onnx.map((name) => ({ name, ...ORT_BACKENDS[name] })), ortPath: SITE_URL + "vendor/ort/", onnxModel },
  () => null);
  if (times && Object.keys(times).length) {
    await cache.put(timesKey(detectorId), Response.json({ device: await device, times, onnx, hasOnnx: Boolean(onnxModel) }));
  }
  return times;
}

// Imported once Pyodide's own downloads are under way (see loadPyodide below).
let importTfjs;
const tfjs = new Promise((resolve) => { importTfjs = resolve; }).then(() => {
  performance.mark("start: tf.js");  // the start of each overlapped phase, and its end, for build.py bench
  return import(SITE_URL + "vendor/tfjs.mjs");
}).then((module) => {
  module.wasm.setWasmPaths(SITE_URL + "vendor/tfjs-backend-wasm/");
  return module;
});
tfjs.catch(() => {});  // Python reports it

// ---- the detector's files: model.json, then the weight files it lists
const early = new Map();  // URL -> Promise<Response>, each taken once
function prefetch(url) {
  const response = fetch(url);
  response.catch(() => {});  // Python reports a failed download when it takes it
  early.set(url, response);
  return response;
}
async function prefetchModel(id) {
  performance.mark("start: detector download");
  const folder = `${SITE_URL}models/${id}/`;
  const manifest = await (await prefetch(folder + "model.json")).clone().json();
  const weights = manifest.weightsManifest.flatMap((group) => group.paths.map((path) => prefetch(folder + path)));
  await Promise.all(weights.map((response) => response.then((r) => r.clone().arrayBuffer()).catch(() => {})));
  performance.mark("start: detector downloaded");
}

// ---- Pyodide, for PyScript; on the built site, restored from a snapshot when there is one
const pyodide = await import(PYODIDE_MODULE).catch((error) => {
  // Python cannot start (its runtime is unreachable, or refused as not the pinned bytes): the
  // shell says so in the page, since no Python will.
  const why = `The Python runtime could not be loaded from ${PYODIDE_URL} (${error?.message ?? error}).`;
  channel.port1.postMessage({ kind: "failed", error: `${why} Check the connection and reload the page.`, shown: false });
  throw error;
});
export const { version } = pyodide;
// The site's own Pyodide holds a standard library and packages trimmed to what the app imports and
// compiled ahead (see tools/pylens_build/site_runtime.py); ?python=full takes them as Pyodide
// publishes them, from its full/ folder, for code that imports more. The CDN's is the full one.
const runtime = page.then((url) => (url.searchParams.get("python") === "full" && PYODIDE_URL.startsWith(SITE_URL)
  ? { name: "full", options: { lockFileURL: PYODIDE_URL + "full/pyodide-lock.json", stdLibURL: PYODIDE_URL + "full/python_stdlib.zip" } }
  : { name: "site", options: {} }));
const SNAPSHOT = runtime.then(({ name }) => ({ cache: SITE_CACHE, key: `${SITE_URL}__snapshot/pyodide-${version}-${name}` }));
const storedSnapshot = Promise.all([siteCache, SNAPSHOT]).then(([cache, { key }]) => cache?.match(key))
  .then((response) => response?.arrayBuffer()).catch(() => undefined);
let snapshot = "none";  // then "restored", or "dropped" when the stored one did not restore

// Whether stored bytes are a whole snapshot in Pyodide 0.27's format (its src/js/snapshot.ts: a
// magic number, where the heap starts, ...; then the heap, whole wasm pages): given anything else,
// Pyodide's start fails without ever answering.
const SNAPSHOT_MAGIC = 1886286592;
function wholeSnapshot(bytes) {
  if (bytes.byteLength < 64) return false;
  const [magic, heapStart] = new Uint32Array(bytes, 0, 2);
  return magic === SNAPSHOT_MAGIC && heapStart < bytes.byteLength && (bytes.byteLength - heapStart) % 65536 === 0;
}

// PyScript's call. The detector's files are downloaded once Python's runtime and numpy are in, which
// the start needs first: over a slow link the two would share it, and Python would start later, while
// the model is only built after the app's imports.
export async function loadPyodide(options) {
  const python = await startPyodide(options);
  detector.then(prefetchModel).catch(() => {});
  return python;
}

async function startPyodide(options) {
  const stored = await storedSnapshot;
  const python = (await runtime).options;
  const start = (more) => {
    const loading = pyodide.loadPyodide({ ...options, ...python, ...more, indexURL: PYODIDE_URL });
    importTfjs();
    return loading;
  };
  if (stored) {
    try {
      if (!wholeSnapshot(stored)) throw new Error("not a whole snapshot");
      const python = await start({ _loadSnapshot: new Uint8Array(stored) });
      snapshot = "restored";
      return python;
    } catch (error) {
      console.warn("The snapshot of Python did not restore; starting it afresh.", error);
      snapshot = "dropped";
      await (await siteCache).delete((await SNAPSHOT).key);
    }
  }
  return start({});
}

// After the first result: a snapshot for the next visit, with these standard-library modules
// imported. Resolves to the snapshot's state: "restored", "kept", or a sentence why there is none.
async function keepSnapshot(modules) {
  if (snapshot === "restored") return snapshot;
  if (!(await siteCache)) return "none: only the built site keeps a snapshot";
  return oneJob("snapshot.mjs", { pyodide: PYODIDE_MODULE, options: (await runtime).options, modules: [...modules],
    ...(await SNAPSHOT) },
    (event) => `not kept: ${event.message}`);
}

// A module worker of the site's for one job beside the app: its one answer, or what `failed`
// makes of the error when it cannot run.
async function oneJob(script, message, failed) {
  const worker = new Worker(SITE_URL + script, { type: "module" });
  try {
    return await new Promise((resolve) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (event) => resolve(failed(event));
      worker.postMessage(message);
    });
  } finally {
    worker.terminate();
  }
}

// ---- what the app's Python takes
globalThis.pylensStart = {
  port: channel.port1,
  tfjs,
  backend: page.then((url) => useBackend(url.searchParams.get("backend"))).then((choice) => {
    performance.mark("start: backend ready");
    return choice;
  }),
  useBackend,
  onnxRuntime: (name) => onnxRuntime(name).then(({ ort }) => ort),
  onnxSession,
  get lost() { return lost; },
  // A promise of the backend's work, or an Error named "BackendLost" when the backend stops first.
  untilLost: (work) => Promise.race([work, lost.then(({ reason }) => {
    throw Object.assign(new Error(reason), { name: "BackendLost" });
  })]),
  defaultDetector: DEFAULT_DETECTOR,
  // A file the start downloaded, else a new download.
  fetch(url) {
    const response = early.get(url);
    early.delete(url);
    return response ?? fetch(url);
  },
  get snapshot() { return snapshot; },
  keepSnapshot,
  backendTimes: timesOf,
  timeBackends,
};
