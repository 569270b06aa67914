"""The static site (`build.py build`): every file the page loads, every URL relative, stamped with
its version for the service worker."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

from .models import model_cards
from .project import BUILD, NODE_MODULES, PYODIDE, ROOT, SetupError
from .runtimes import TFJS_BUNDLE, bundle_module
from .server import pyscript_config
from .site_runtime import app_bytecode, ensure_site_runtime, wheel

DIST = ROOT / "dist"
# What the page loads of each npm package, by the served folder it goes to.
VENDOR_FILES = {
    "vendor/pyscript": (NODE_MODULES / "@pyscript/core/dist", ["*.js", "*.css"]),
    "vendor": (TFJS_BUNDLE.parent, [TFJS_BUNDLE.name]),
    "vendor/tfjs-backend-wasm": (NODE_MODULES / "@tensorflow/tfjs-backend-wasm/dist", ["*.wasm"]),
    # ONNX Runtime Web, for its wasm and WebGPU backends: each an API module and the runtime it loads
    "vendor/ort": (NODE_MODULES / "onnxruntime-web/dist", ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
                                                           "ort-wasm-simd-threaded.wasm", "ort.webgpu.min.mjs",
                                                           "ort-wasm-simd-threaded.asyncify.*"]),
}
SITE_FILES = ["*.html", "*.css", "*.js", "*.mjs", "*.json", "*.svg"]


def build_site(dest: Path, pyodide_dist: Path | None) -> None:
    """The whole static site in dest/, every URL in it relative, so that it runs from any static host
    and any sub-path. With pyodide_dist, Pyodide is served from the site too (no other origin)."""
    stage = dest.with_name(dest.name + ".new")
    shutil.rmtree(stage, ignore_errors=True)

    def copy(source: Path, patterns: list[str], into: str, leave_out: tuple[str, ...] = ()) -> None:
        for pattern in patterns:
            for file in sorted(source.glob(pattern)):
                if file.is_file() and not file.name.startswith(".") and file.name not in leave_out:
                    (stage / into).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, stage / into / file.name)

    copy(ROOT / "site", SITE_FILES, ".")
    bundle_shell(stage)
    index = stage / "index.html"
    if pyodide_dist is not None:  # nothing comes from the CDN: the page's policy no longer allows it
        index.write_text(index.read_text().replace(" " + PYODIDE["cdn"], ""))
    else:
        index.write_text(with_cdn_integrity(index.read_text()))
    (stage / "pyscript.toml").write_bytes(pyscript_config(self_hosted=pyodide_dist is not None))
    for package in sorted({module.parent for module in (ROOT / "py").rglob("*.py")}):
        copy(package, ["*.py"], package.relative_to(ROOT).as_posix())
    copy(ROOT / "models", ["*.toml"], "models")
    for card in model_cards():
        copy(BUILD / "models" / card.id, ["*"], f"models/{card.id}")
    copy(BUILD / "demos", ["*"], "demos")
    for into, (source, patterns) in VENDOR_FILES.items():
        copy(source, patterns, into)
    if pyodide_dist is not None:  # trimmed and precompiled, with the runtime as published under full/
        shutil.copytree(ensure_site_runtime(pyodide_dist), stage / "pyodide")
        bundle_python(stage, pyodide_dist)
    (stage / ".nojekyll").touch()  # GitHub Pages: serve the files as they are
    write_first_result(stage, "pyodide/" if pyodide_dist is not None else PYODIDE["cdn"])
    stamp_version(stage)
    shutil.rmtree(dest, ignore_errors=True)
    stage.rename(dest)


APP_ARCHIVE = "app.zip"


def bundle_python(site: Path, pyodide_dist: Path) -> None:
    """The files PyScript writes for the app (pyscript.toml's [files]: the modules of py/, the model
    cards) as one archive it unpacks, with each module's bytecode beside it: one request instead of
    fifty, and no compiling in the visitor's browser. The bytecode is checked against the source as
    it is imported, so a module edited in the code panel is compiled afresh; py/ is still served
    file by file, for the code panel to read."""
    config = site / "pyscript.toml"
    text = config.read_text()
    files = tomllib.loads(text)["files"]
    head, table, rest = text.partition("\n[files]\n")
    if not table or "\n[" in rest:
        raise SetupError("site/pyscript.toml no longer ends with its [files] table, which build.py bundles")
    sources = {Path(into).as_posix(): (site / source).read_bytes() for source, into in files.items()}
    (site / APP_ARCHIVE).write_bytes(app_bytecode(pyodide_dist, sources))
    config.write_text(f'{head}{table}"./{APP_ARCHIVE}" = "./*"\n')


SHELL_PRELOAD = re.compile(r'\n *<link rel="modulepreload" href="\./shell/[\w-]+\.mjs">')


def bundle_shell(site: Path) -> None:
    """The page's shell as one module: site/shell.js with its modules under site/shell/ bundled by
    esbuild, unminified, and the page's preloads of those modules dropped. The development server
    serves them one by one, as written; a visitor's page loads one file instead of eleven."""
    bundle_module(ROOT / "site" / "shell.js", site / "shell.js")
    index = site / "index.html"
    page, preloads = SHELL_PRELOAD.subn("", index.read_text())
    if not preloads:
        raise SetupError("site/index.html no longer preloads the shell's modules (site/shell/*.mjs)")
    index.write_text(page)


def with_cdn_integrity(page: str) -> str:
    """The page with an import map that gives the Subresource Integrity of the CDN's Pyodide scripts
    (browsers that support import-map integrity refuse other bytes), allowed by its hash in the
    page's policy. Pyodide checks the packages it loads against the sha256 of its lock file."""
    integrity = {PYODIDE["cdn"] + name: "sha256-" + base64.b64encode(bytes.fromhex(PYODIDE["sha256"][name])).decode()
                 for name in ("pyodide.mjs", "pyodide.asm.js")}
    import_map = json.dumps({"integrity": integrity}, indent=1)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    tag = f'<script type="importmap">{import_map}</script>'
    page = page.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'", 1)
    return page.replace('  <link rel="icon"', f"  {tag}\n  <link rel=\"icon\"", 1)


FIRST_RESULT_LIST = ("sw.js", "const FIRST_RESULT = [];")
TFJS_WASM = "vendor/tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm"  # the build an isolated page takes


def default_detector(site: Path = ROOT / "site") -> str:
    """The card id of the detector the page starts with (site/start.mjs's DEFAULT_DETECTOR)."""
    detector = re.search(r'const DEFAULT_DETECTOR = "([^"]+)";', (site / "start.mjs").read_text())
    if detector is None:
        raise SetupError("site/start.mjs no longer names its DEFAULT_DETECTOR, whose files the first visit fetches")
    return detector[1]


def first_result_files(site: Path, pyodide: str) -> list[list[str]]:
    """What the page fetches for its first result, beyond the start's own modules, in the stages the
    start needs it, as URLs relative to the site (Pyodide's may be absolute): Python's runtime and
    tf.js (whose start fits in the wait for the runtime); then the packages PyScript hands Pyodide,
    the app's Python and cards; then the default detector."""
    config = tomllib.loads((site / "pyscript.toml").read_text())
    wheels = [wheel(package) for package in config["packages"]]
    folder = f"models/{default_detector(site)}/"
    weights = [path for group in json.loads((site / folder / "model.json").read_text())["weightsManifest"]
               for path in group["paths"]]
    return [[*(pyodide + name for name in ("pyodide.mjs", "pyodide.asm.js", "pyodide-lock.json", "pyodide.asm.wasm",
                                           "python_stdlib.zip")), "vendor/tfjs.mjs", TFJS_WASM],
            [*(pyodide + wheel for wheel in wheels), *(source.removeprefix("./") for source in config["files"])],
            [folder + "model.json", *(folder + path for path in weights)]]


def write_first_result(site: Path, pyodide: str) -> None:
    """The first result's files written into the service worker, which downloads them on a first visit."""
    name, old = FIRST_RESULT_LIST
    text = (site / name).read_text()
    if old not in text:
        raise SetupError(f"site/{name} no longer contains `{old}`, where build.py writes the first result's files")
    files = json.dumps(first_result_files(site, pyodide))
    (site / name).write_text(text.replace(old, f"const FIRST_RESULT = {files};"))


# Where the site's version goes in the files that need it: the line as the sources have it (or as an
# earlier stamp left it), and the line with the version.
VERSION_LINES = {
    "sw.js": (r'const VERSION = "[^"]*";', 'const VERSION = "{}";'),
    # shell/offline.mjs's line, as esbuild leaves it in the bundled shell
    "shell.js": (r'var SITE_VERSION = (?:null|"[^"]*");', 'var SITE_VERSION = "{}";'),
    "start.mjs": (r'const SITE_VERSION = (?:null|"[^"]*");', 'const SITE_VERSION = "{}";'),
}


def stamp_version(site: Path) -> str:
    """Write the site's version, a digest of every file in it, into sw.js (which names its cache
    after it), the shell's shell/offline.mjs (which registers sw.js only when there is one) and start.mjs (which keeps
    the snapshot of Python in that cache). Returns the version."""
    digest = hashlib.sha256()
    stamped = {site / name for name in VERSION_LINES}
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p not in stamped):
        digest.update(path.relative_to(site).as_posix().encode() + b"\0" + path.read_bytes())
    texts = {name: (site / name).read_text() for name in VERSION_LINES}
    for name, (pattern, line) in VERSION_LINES.items():
        if not re.search(pattern, texts[name]):
            raise SetupError(f"site/{name} no longer contains `{line.format('')}`, where build.py writes the version")
        digest.update(re.sub(pattern, line.format(""), texts[name]).encode())  # its text, whatever version it had
    version = digest.hexdigest()[:16]
    for name, (pattern, line) in VERSION_LINES.items():
        (site / name).write_text(re.sub(pattern, line.format(version), texts[name], count=1))
    return version
