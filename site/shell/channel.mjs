// The channel to the app's Python (py/shell.py): one MessagePort, every message a `kind` with its
// fields, as py/names.py defines them (TO_PYTHON, TO_SHELL). The app's start (site/start.mjs) makes
// the channel and sends one end here; what is sent before then waits.
let port = null;
const early = [];
const handlers = new Map();

export const send = (message, transfer = []) =>
  (port ? port.postMessage(message, transfer) : early.push([message, transfer]));

// Call handler(message) for each message of this kind that Python sends.
export const on = (kind, handler) => handlers.set(kind, handler);

// A message handled as if Python had sent it (a start that failed before Python could say so).
export const take = (message) => handlers.get(message.kind)?.(message);

export function connect(pythonPort) {
  port = pythonPort;
  port.onmessage = ({ data }) => take(data);
  for (const [message, transfer] of early.splice(0)) port.postMessage(message, transfer);
}
