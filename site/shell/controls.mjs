// Keyboard access and the views before Python is ready. The view tabs, as the ARIA tabs pattern has
// them: one Tab stop, the arrow keys (and Home, End) open the next view. A view chosen while Python
// starts opens once it is ready; Python opens views once it is.
import { ready } from "./api.mjs";
import { send } from "./channel.mjs";
import { $ } from "./page.mjs";

const tabs = [...document.querySelectorAll("[role=tab]")];
const viewOf = (tab) => tab.id.replace(/^view-/, "");
document.querySelector("[role=tablist]").addEventListener("keydown", (event) => {
  const at = tabs.indexOf(event.target);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (at < 0 || to === undefined) return;
  event.preventDefault();
  const tab = tabs[(to + tabs.length) % tabs.length];
  tab.focus();
  tab.click();
});
for (const tab of tabs) {
  tab.addEventListener("click", () => {
    if (ready()) return;
    for (const other of tabs) {
      other.setAttribute("aria-selected", String(other === tab));
      other.tabIndex = other === tab ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = other !== tab;
    }
    send({ kind: "view", name: viewOf(tab) });
  });
}

// The style thumbnails are a radio group (filled by Python): one Tab stop, the arrow keys choose.
$("style-picker").addEventListener("keydown", (event) => {
  const radios = [...event.currentTarget.querySelectorAll("[role=radio]")];
  const at = radios.indexOf(event.target);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (at < 0 || step === undefined) return;
  event.preventDefault();
  const radio = radios[(at + step + radios.length) % radios.length];
  radio.focus();
  radio.click();
});
