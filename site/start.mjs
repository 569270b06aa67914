// The app's start, in the worker (or on the page when it is not cross-origin isolated). PyScript
// loads Pyodide through this module: it is PyScript's `interpreter` (build.py writes
// `interpreter = "./start.mjs?pyodide=<URL of pyodide.mjs>"` into pyscript.toml). While Pyodide
// starts, it starts what the app's Python will need from JavaScript, so that nothing waits for
// Python that need not:
//  - the channel to the page's shell (site/shell.js), and the page's address through it;
//  - tf.js (vendor/tfjs.mjs) and the backend the page asks for (`?backend=`), else the first that
//    runs here of WebGPU, WebGL on a real GPU, WebAssembly and plain JavaScript;
//  - the detector's files, downloaded (Python checks them and builds the model).
// Python takes them from `globalThis.pylensStart` (py/shell.py, py/tfbridge.py).
const here = new URL(import.meta.url);
const SITE_URL = new URL("./", here).href;
const PYODIDE_MODULE = new URL(here.searchParams.get("pyodide") ?? "./pyodide/pyodide.mjs", here).href;
const PYODIDE_URL = new URL("./", PYODIDE_MODULE).href;  // its folder: packages, lock file, runtime
const DEFAULT_DETECTOR = "aizoo-face-mask";
const onPage = typeof document !== "undefined";

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

// ---- tf.js and its backend
const BACKENDS = ["webgpu", "webgl", "wasm", "cpu"];
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|software/i;

function webglIsSoftware() {
  const gl = new OffscreenCanvas(1, 1).getContext("webgl2");
  if (!gl) return true;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return SOFTWARE_RENDERER.test(String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)));
}

async function tryBackend(tf, name) {
  if (name === "webgpu" && !(await navigator.gpu?.requestAdapter())) return false;
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

// Switch tf.js to `wanted`, or choose: {backend, missed: `wanted` when it could not run here}.
async function useBackend(wanted) {
  const { tf } = await tfjs;
  if (BACKENDS.includes(wanted) && (await tryBackend(tf, wanted))) return { backend: wanted, missed: null };
  for (const name of BACKENDS) {
    if (name === "webgl" && webglIsSoftware()) continue;  // slower than WebAssembly
    if (await tryBackend(tf, name)) return { backend: name, missed: BACKENDS.includes(wanted) ? wanted : null };
  }
  throw new Error("No TensorFlow.js backend could start in this browser.");
}

// Imported once Pyodide's own downloads are under way (see loadPyodide below).
let importTfjs;
const tfjs = new Promise((resolve) => { importTfjs = resolve; }).then(() => import(SITE_URL + "vendor/tfjs.mjs"))
  .then((module) => {
    module.wasm.setWasmPaths(SITE_URL + "vendor/tfjs-backend-wasm/");
    return module;
  });
tfjs.catch(() => {});  // Python reports it

// ---- the detector's files: model.json, then the weight files it lists
const early = new Map();  // URL -> Promise<Response>, each taken once
function prefetch(url) {
  const response = fetch(url);
  response.catch(() => {});  // Python fetches again and reports
  early.set(url, response);
  return response;
}
async function prefetchModel(id) {
  const folder = `${SITE_URL}models/${id}/`;
  const manifest = await (await prefetch(folder + "model.json")).clone().json();
  for (const group of manifest.weightsManifest) group.paths.forEach((path) => prefetch(folder + path));
}

const detector = page.then((url) => url.searchParams.get("model") || DEFAULT_DETECTOR);
globalThis.pylensStart = {
  port: channel.port1,
  page: page.then((url) => url.href),
  tfjs,
  backend: page.then((url) => useBackend(url.searchParams.get("backend"))),
  useBackend,
  defaultDetector: DEFAULT_DETECTOR,
  // A file the start downloaded, else a new download.
  fetch(url) {
    const response = early.get(url);
    early.delete(url);
    return response ?? fetch(url);
  },
};
detector.then(prefetchModel).catch(() => {});

// ---- Pyodide, for PyScript
const pyodide = await import(PYODIDE_MODULE);
export const { version } = pyodide;
export function loadPyodide(options) {
  const loading = pyodide.loadPyodide({ ...options, indexURL: PYODIDE_URL });
  importTfjs();
  return loading;
}
