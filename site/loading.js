// Page shell only: turns PyScript's boot progress (runtime, packages) into the status line
// until the Python app takes it over. All app logic lives in ../py.
const status = document.getElementById("status");
const say = (detail) => {
  if (/^Loading Pyodide/.test(detail)) return "Loading the Python runtime and its packages (Pyodide, numpy, Pillow)…";
  if (/^Loading (?!Storage|files)(.+)/.test(detail)) return `Loading Python packages: ${detail.slice(8)}…`;
  if (/^Loaded Pyodide/.test(detail)) return "Starting the app…";
  return null;
};
addEventListener("py:progress", ({ detail }) => {
  performance.mark(`pyscript: ${detail}`);  // start-up phases, for DevTools and build.py bench
  const text = say(String(detail));
  if (text && !document.body.dataset.python) status.textContent = text;
});
