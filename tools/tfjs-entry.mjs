// tf.js as the app loads it: one ES module with the core and the CPU, WebGL, WebAssembly and WebGPU
// backends, importable from a worker (no Node built-ins, no bare specifiers). `build.py` bundles it
// with esbuild into build/vendor/tfjs.mjs; py/tfbridge.py imports it.
export * as tf from "@tensorflow/tfjs";
export * as wasm from "@tensorflow/tfjs-backend-wasm";
import "@tensorflow/tfjs-backend-webgpu";
