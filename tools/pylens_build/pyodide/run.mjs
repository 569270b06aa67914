// Runs a Python script inside Pyodide under Node, for build.py: node run.mjs <Pyodide's folder>
// <script.py> [arguments]. The host's filesystem is mounted at /host, so paths given as /host/...
// reach the host's files; the script's sys.argv is [script, *arguments].
import path from "node:path";

const [indexURL, script, ...args] = process.argv.slice(2);
const { loadPyodide } = await import(path.join(path.resolve(indexURL), "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL: path.resolve(indexURL) + "/" });
pyodide.FS.mkdir("/host");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: "/" }, "/host");
pyodide.globals.set("argv", pyodide.toPy([script, ...args]));
try {
  pyodide.runPython(`
import runpy, sys
sys.argv = list(argv)
runpy.run_path("/host" + sys.argv[0], run_name="__main__")
`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
