// Times the detector on every tf.js backend this browser offers, in a worker of its own beside the
// app, for site/start.mjs's automatic choice on the next visits. Answers {device, times: {backend:
// ms}} (predict and read back, median of three after a warm-up); a backend whose warm-up takes over
// SLOW_MS is timed by that alone. A backend that does not start here has no time.
const SLOW_MS = 3000;

onmessage = async ({ data: { backends, tfjs, wasmPaths, model, format, shape } }) => {
  const { tf, wasm } = await import(tfjs);
  wasm.setWasmPaths(wasmPaths);
  const times = {};
  for (const name of backends) {
    let net = null;
    try {
      if (name === "webgpu" && !(await navigator.gpu?.requestAdapter())) continue;
      if (!(await tf.setBackend(name)) || tf.getBackend() !== name) continue;
      net = await (format === "tfjs-layers" ? tf.loadLayersModel(model) : tf.loadGraphModel(model));
      const predict = async () => {
        const start = performance.now();
        const input = tf.zeros(shape);
        const outputs = [net.predict(input)].flat();
        await Promise.all(outputs.map((output) => output.data()));
        tf.dispose([input, ...outputs]);
        return performance.now() - start;
      };
      const warmUp = await predict();
      if (warmUp > SLOW_MS) {
        times[name] = warmUp;
        continue;
      }
      const runs = [await predict(), await predict(), await predict()].sort((a, b) => a - b);
      times[name] = runs[1];
    } catch {
      // this backend does not run this model here: no time
    } finally {
      net?.dispose();
    }
  }
  postMessage(times);
};
