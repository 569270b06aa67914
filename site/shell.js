// The page's shell: what only the main thread can do, kept to glue. The app itself is Python (py/).
// It starts py/main.py in a PyScript worker when the page is cross-origin isolated (the worker's
// Python reaches the page through pyscript.document), else on the page itself; the modules under
// shell/ do the rest, and talk to Python over one MessagePort (shell/channel.mjs):
//   api.mjs        window.pylens, the headless API, forwarded to Python
//   boot.mjs       the start's progress, stalls and failures in the page; the app's readiness
//   intake.mjs     pictures given: picker, folder, drop, paste, demos (previewed before Python is ready)
//   media.mjs      the camera and a video file, previewed; their newest frame, as Python asks
//   recording.mjs  the picture, recorded to a video file
//   stage.mjs      the picture and what is drawn over it, as Python sends them
//   controls.mjs   the view tabs and the style picker from the keyboard; a view chosen early
//   offline.mjs    the service worker: offline use, and cross-origin isolation on a static host
//   edits.mjs      the visitor's edits of the app's modules, kept and applied again; the code panel
//                  (code.mjs, with its editor) imported as it first opens
import { connect } from "./shell/channel.mjs";
import "./shell/boot.mjs";
import "./shell/controls.mjs";
import "./shell/edits.mjs";
import "./shell/intake.mjs";
import "./shell/stage.mjs";
import { startIsolated } from "./shell/offline.mjs";

const script = Object.assign(document.createElement("script"), { type: "py", src: "./py/main.py" });
script.setAttribute("config", "./pyscript.toml");
if (crossOriginIsolated) {
  script.setAttribute("worker", "");
  const listen = () => script.xworker
    ? script.xworker.addEventListener("message", ({ data }) => {
      if (!data?.pylensPort) return;
      connect(data.pylensPort);
      data.pylensAddress.postMessage(location.href);  // the worker cannot see the page's address
    })
    : setTimeout(listen, 5);
  listen();
} else {
  window.pylensConnect = connect;  // site/start.mjs on this page calls it
}
startIsolated(() => document.body.append(script));
