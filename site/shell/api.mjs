// window.pylens, the headless API: each method Python names is forwarded to Python, and its answer
// comes back; `stats()` answers what Python published last.
import { on, send } from "./channel.mjs";

let lastStats = "null";
const calls = new Map();
let lastCall = 0;
window.pylens = { ready: false, error: null, stats: () => lastStats };
// Whether the app takes pictures and calls; why it cannot start, once it has failed.
export const ready = () => window.pylens.ready;
export const failed = () => window.pylens.error;

const call = (method) => (...args) => new Promise((resolve, reject) => {
  calls.set(++lastCall, { resolve, reject });
  send({ kind: "call", id: lastCall, method, args });
});

export function offer(methods) {
  for (const method of methods) window.pylens[method] = call(method);
  window.pylens.ready = true;
}

on("stats", (data) => { lastStats = data.json; });
on("reply", (data) => {
  const { resolve, reject } = calls.get(data.id);
  calls.delete(data.id);
  if (data.error) reject(new Error(data.error)); else resolve(data.value);
});
