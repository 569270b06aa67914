// The code panel: the app's own Python modules (py/) in an editor in the page. Apply (or Ctrl/Cmd+S)
// hands the module to the app's Python, which takes it in place as live editing takes a saved file
// (py/code_panel.py): no reload, the picture shown runs again; a module that does not import is
// refused, its error shown at its line, and the previous code keeps running. An edit taken is kept
// (edits.mjs) until reverted.
// Imported by the shell (shell/edits.mjs) when the panel first opens, which then gives it the shell's
// channel and edits (`start`); a module of its own, outside the shell's bundle, so that a visit that
// never opens the panel downloads none of it, nor of the editor: the CodeMirror that PyScript ships.
const $ = (id) => document.getElementById(id);
const button = $("code-toggle"), panel = $("code-panel"), modules = $("code-module");
const statusLine = $("code-status"), errorText = $("code-error");
const FIRST_MODULE = "py/boxes.py";  // what a visitor most likely wants to try first: the NMS

const running = new Map();  // path -> the module's text as the app runs it
let kept = new Map();  // path -> the visitor's kept edit, {path, base, text}
let shown = null;  // the path in the editor
let applying = null;  // the text the app is taking: {path, text, done}

let shell = null;  // {on, send, and edits.mjs's deployed, savedEdits, keepEdit, dropEdit, markEdited}
let editor = null;  // a promise of the editor, {view, show, markLine}

const status = (text) => { statusLine.textContent = text; };

export function start(services) {
  shell = services;
  shell.on("code-sources", sourcesCame);
  shell.on("code-taken", taken);
  shell.on("code-shared", shared);
  editor = makeEditor();
  editor.catch((error) => status(`The editor could not load (${error.message}). It is downloaded the first time `
    + "the panel opens: reload the page once connected."));
  status("Loading the editor…");
  shell.send({ kind: "code-open" });
}

export function toggle() {
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  panel.hidden = !open;
  if (open) editor.then(({ view }) => view.focus(), () => {});
}

async function makeEditor() {
  const { codemirror } = await import("./vendor/pyscript/core.js");
  const [{ basicSetup, EditorView }, { EditorState, StateEffect, StateField, Prec }, { python }, { indentUnit },
    { keymap, Decoration }, { indentWithTab }] = await Promise.all([codemirror.core, codemirror.state,
    codemirror.python, codemirror.language, codemirror.view, codemirror.commands]);
  // The line of a refused module's error, marked until the text changes.
  const mark = StateEffect.define();
  const errorLine = StateField.define({
    create: () => Decoration.none,
    update(marks, transaction) {
      for (const effect of transaction.effects) {
        if (effect.is(mark)) return effect.value === null ? Decoration.none
          : Decoration.set([Decoration.line({ class: "code-error-line" }).range(effect.value)]);
      }
      return transaction.docChanged ? Decoration.none : marks;
    },
    provide: (field) => EditorView.decorations.from(field),
  });
  // In a shadow root of its own, where CodeMirror's styles are constructed style sheets, which the
  // page's policy (style-src 'self') allows; in the document they would be <style> elements, refused.
  const host = $("code-editor");
  const root = host.attachShadow({ mode: "open" });
  const theme = EditorView.theme({
    "&": { height: "100%", background: "#fff", color: "#1e293b" },  // not the dark page's text colour
    ".cm-scroller": { fontFamily: 'ui-monospace, "Cascadia Mono", Menlo, monospace', fontSize: ".85rem" },
    ".code-error-line": { background: "#fecaca" },
  });
  const extensions = [basicSetup, python(), indentUnit.of("    "), errorLine, theme,
    keymap.of([indentWithTab]), Prec.highest(keymap.of([{ key: "Mod-s", run: () => { apply(); return true; } }])),
    // tabindex: the scrolling editor has a focusable part, for those who check it as axe-core does
    EditorView.contentAttributes.of({ "aria-label": "Python module", tabindex: "0" })];
  const view = new EditorView({ parent: root, root });
  const states = new Map();  // path -> its editor's state (text, selection, undo history) while another is shown
  return {
    view,
    show(path, text) {
      if (shown) states.set(shown, view.state);
      view.setState(text === undefined && states.get(path) || EditorState.create({ doc: text ?? running.get(path), extensions }));
      shown = path;
    },
    markLine(line) {
      const at = line === null ? null : view.state.doc.line(Math.min(line, view.state.doc.lines)).from;
      view.dispatch({ effects: mark.of(at), ...(at === null ? {} : { selection: { anchor: at }, scrollIntoView: true }) });
    },
  };
}

// The modules listed, each marked when edited: kept and running, or kept but made on what this
// deploy has changed since (not applied).
function listModules() {
  const label = (path) => {
    const edit = kept.get(path);
    const note = !edit ? "" : edit.text === running.get(path) ? " (edited)" : " (edit not applied)";
    return path.replace(/^py\//, "") + note;
  };
  const chosen = modules.value;
  modules.replaceChildren(...[...running.keys()].map((path) => new Option(label(path), path)));
  modules.value = chosen || (running.has(FIRST_MODULE) ? FIRST_MODULE : modules.options[0]?.value);
  shell.markEdited(kept.size);
  $("code-revert").disabled = !kept.has(modules.value);
  for (const id of ["code-revert-all", "code-download", "code-share"]) $(id).disabled = kept.size === 0;
}

// The app's modules, as the running app has them.
async function sourcesCame({ sources }) {
  for (const [path, text] of Object.entries(sources)) running.set(path, text);
  modules.disabled = $("code-apply").disabled = false;
  await keptChanged();  // and the buttons that need kept edits
  await show(modules.value);
}

async function keptChanged() {
  kept = new Map((await shell.savedEdits()).map((edit) => [edit.path, edit]));
  listModules();
}

// A module in the editor: as the app runs it, or the visitor's edit that is not applied.
async function show(path) {
  const edit = kept.get(path), stale = edit && edit.text !== running.get(path);
  (await editor).show(path, stale ? edit.text : undefined);
  errorText.hidden = true;
  status(stale ? `Your edit of ${path} was made on an earlier version of it, and is not applied: `
    + "Apply runs it, Revert discards it." : "Edit a module, then Apply (Ctrl+S) to run it in the app.");
}
modules.addEventListener("change", () => show(modules.value).then(listModules));

// Hand a text of a module to the app: whether it took it.
function take(path, text) {
  if (applying) return Promise.resolve(false);
  const took = new Promise((done) => { applying = { path, text, done }; });
  status(`Applying ${path}…`);
  shell.send({ kind: "code-edit", path, source: text, saved: false });
  return took;
}

async function apply() {
  const { view } = await editor;
  const path = shown, text = view.state.doc.toString();
  if (!await take(path, text)) return;
  try {
    const base = await shell.deployed(path);
    await (text === base ? shell.dropEdit(path) : shell.keepEdit({ path, base, text }));
  } catch (error) {
    status(`${path} runs, but this browser could not keep the edit for your next visit (${error.message}).`);
  }
  await keptChanged();
}
$("code-apply").addEventListener("click", apply);

// Back to the deployed module: one, or every one edited.
async function revert(paths) {
  for (const path of paths) {
    const base = await shell.deployed(path);
    if (!await take(path, base)) return;
    await shell.dropEdit(path);
    if (path === shown) (await editor).show(path, base);
  }
  await keptChanged();
  status(`Reverted ${paths.join(", ")} to the deployed code.`);
}
$("code-revert").addEventListener("click", () => revert([shown]));
$("code-revert-all").addEventListener("click", () => revert([...kept.keys()]));

// The kept edits as one diff, made by the app's Python and offered as a download.
$("code-download").addEventListener("click", () => shell.send({ kind: "code-diff", edits: [...kept.values()] }));

// The kept edits as a link (the app's Python packs them in its fragment), copied when the browser lets
// the page write to the clipboard, and shown to copy by hand in any case.
$("code-share").addEventListener("click", () => shell.send({ kind: "code-share", edits: [...kept.values()] }));
function shared({ fragment, error }) {
  const link = $("code-link");
  link.hidden = Boolean(error);
  if (error) return status(error);
  link.value = `${location.origin}${location.pathname}#${fragment}`;
  link.select();
  navigator.clipboard.writeText(link.value).then(() => status("A link to your changes is copied."),
    () => status("Copy this link to your changes:"));
}

// How the app took a text: the modules it reloaded, or why not, at which line.
async function taken({ path, reloaded, error, line, trace }) {
  if (applying?.path !== path) return;  // a kept edit applied at start (edits.mjs)
  const { markLine } = await editor;
  const { text, done } = applying;
  applying = null;
  if (shown === path) markLine(reloaded ? null : line);
  errorText.textContent = trace ? `${error}\n${trace}` : error ?? "";
  errorText.hidden = !error;
  if (reloaded) {
    running.set(path, text);
    status(`Applied: ${reloaded.join(", ")} reloaded.`);
  } else {
    status(`${path} was not taken${line ? ` (line ${line})` : ""}; the previous code still runs.`);
  }
  done(Boolean(reloaded));
}
