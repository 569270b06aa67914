// Page shell only: shows PyScript's boot progress (runtime, packages) until the Python app
// takes over the status line. All app logic lives in ../py.
const status = document.getElementById("status");
addEventListener("py:progress", ({ detail }) => {
  if (!document.body.dataset.python) status.textContent = `${detail}…`;
});
