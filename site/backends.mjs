// Times the detector on every tf.js backend this browser offers, and on the ONNX Runtime Web
// backends it is given (those whose runtime is cached here), in a worker of its own beside the app,
// for site/start.mjs's automatic choice on the next visits. Answers {backend: ms} (run and read back,
// median of three after a warm-up); a backend whose warm-up takes over SLOW_MS is timed by that
// alone. A backend that does not start here has no time.
const SLOW_MS = 3000;

async function timed(predict) {
  const warmUp = await predict();
  if (warmUp > SLOW_MS) return warmUp;
  const runs = [await predict(), await predict(), await predict()].sort((a, b) => a - b);
  return runs[1];
}

async function timeTfjs({ backends, tfjs, wasmPaths, model, format, shape }, times) {
  const { tf, wasm } = await import(tfjs);
  wasm.setWasmPaths(wasmPaths);
  for (const name of backends) {
    let net = null;
    try {
      if (name === "webgpu" && !(await navigator.gpu?.requestAdapter())) continue;
      if (!(await tf.setBackend(name)) || tf.getBackend() !== name) continue;
      net = await (format === "tfjs-layers" ? tf.loadLayersModel(model) : tf.loadGraphModel(model));
      times[name] = await timed(async () => {
        const start = performance.now();
        const input = tf.zeros(shape);
        const outputs = [net.predict(input)].flat();
        await Promise.all(outputs.map((output) => output.data()));
        tf.dispose([input, ...outputs]);
        return performance.now() - start;
      });
    } catch {
      // this backend does not run this model here: no time
    } finally {
      net?.dispose();
    }
  }
}

async function timeOnnxRuntime({ onnx, ortPath, onnxModel, shape }, times) {
  if (!onnx.length) return;
  const bytes = new Uint8Array(await (await fetch(onnxModel)).arrayBuffer());
  for (const { name, module, provider } of onnx) {
    let session = null;
    try {
      const ort = await import(ortPath + module);
      ort.env.wasm.wasmPaths = ortPath;
      session = await ort.InferenceSession.create(bytes, { executionProviders: [provider] });
      const input = new Float32Array(shape.reduce((a, b) => a * b));
      times[name] = await timed(async () => {
        const start = performance.now();
        const tensor = new ort.Tensor("float32", input, shape);
        const outputs = await session.run({ [session.inputNames[0]]: tensor });
        for (const output of Object.values(outputs)) output.dispose();
        return performance.now() - start;
      });
    } catch {
      // no time
    } finally {
      await session?.release();
    }
  }
}

onmessage = async ({ data }) => {
  const times = {};
  await timeTfjs(data, times);
  await timeOnnxRuntime(data, times).catch(() => {});
  postMessage(times);
};
