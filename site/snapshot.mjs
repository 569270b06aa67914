// Makes the memory snapshot of Python that site/start.mjs restores on the next visit, in a worker of
// its own (the Pyodide that makes a snapshot cannot go on to run the app), on the runtime the app
// runs (`options`: its lock file and standard library). It holds Python started and the
// standard-library modules the app had imported; numpy and Pillow load after a restore, as
// compiled libraries cannot be in a snapshot. Answers "kept" once the snapshot is in Cache Storage,
// else a sentence saying why not.
onmessage = async ({ data: { pyodide, options, modules, cache, key } }) => {
  try {
    const { loadPyodide } = await import(pyodide);
    const python = await loadPyodide({ ...options, indexURL: new URL("./", pyodide).href, _makeSnapshot: true });
    python.runPython(modules.map((name) => `import ${name}`).join("\n"));
    const compiled = Object.keys(python._module.LDSO.loadedLibsByName).filter((name) => name.endsWith(".so"));
    if (compiled.length) throw new Error(`these modules load compiled libraries: ${compiled.join(", ")}`);
    const snapshot = python.makeMemorySnapshot();
    // Not into a cache a newer deploy has deleted meanwhile: opening it would make it again.
    if (!(await caches.has(cache))) throw new Error("a newer version of the site has taken over");
    await (await caches.open(cache)).put(key, new Response(snapshot));
    postMessage("kept");
  } catch (error) {
    postMessage(`not kept: ${error?.message ?? error}`);
  }
};
