#!/usr/bin/env python3
"""PyLens task runner. Runs with a plain python3 (3.11+, standard library only at import time)
and sets up what each command needs.

    python3 build.py serve [--port N]                  set up, then serve the app on http://localhost:N
    python3 build.py test [PYTEST ARGS]                set up, then run ruff and every test
    python3 build.py build [--self-host] [--out DIR]   write the static site to dist/ (all URLs relative)
    python3 build.py models                            fetch, verify and convert the models of models/*.toml
    python3 build.py pyodide                           fetch and verify a self-hosted Pyodide
    python3 build.py detect [--backend B] IMAGE...     face-mask detection in headless Chromium, JSON lines
    python3 build.py segment [--backend B] [--model selfie|meet] IMAGE --out MASK.png
    python3 build.py stylize [--backend B] --style NAME [--mask person|background] [--max-side N] IMAGE --out OUT.png
    python3 build.py bench [--backend B] [--frames N] [--style-frames N] [--soak N] [--cold-runs N]
                           [--results DIR] [--json]    time both pipelines against their models alone and
                                                       a plain JavaScript page; start-up, bytes, soak

Environment:
    PYODIDE_DIST   a local Pyodide distribution to self-host instead of the CDN (tests always self-host)
    MODEL_MIRROR   a folder holding each card's source files under its `mirror` folder, instead of upstream
    IMAGE_MIRROR   a folder holding the demo photos of site/demos.json by file name, instead of upstream
    CHROMIUM       the Chromium binary for the headless commands (default /usr/bin/chromium)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build"
VENV = ROOT / ".venv"
NODE_MODULES = ROOT / "node_modules"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PYODIDE = PYPROJECT["tool"]["pylens"]["pyodide"]
BACKENDS = ("webgpu", "webgl", "wasm", "cpu")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# What a backend needs of headless Chromium: WebGPU gives no adapter without this flag on Linux.
BACKEND_FLAGS = {"webgpu": ("--enable-unsafe-webgpu",)}


class SetupError(RuntimeError):
    """Something the command needs is missing or wrong; the message says what to do."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- verified files

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_source(url: str, mirror: Path | None) -> tuple[bytes, str]:
    """The bytes of a file from the mirror path when given, else from its URL."""
    if mirror is not None:
        if not mirror.is_file():
            raise SetupError(f"{mirror.name}: not found in the mirror at {mirror}")
        return mirror.read_bytes(), str(mirror)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read(), url
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SetupError(f"{Path(url).name}: download from {url} failed ({exc}). "
                         "Check the network, or point MODEL_MIRROR, IMAGE_MIRROR or PYODIDE_DIST at a "
                         "local copy.") from None


def fetch_verified(dest: Path, sha256: str, url: str, mirror: Path | None = None) -> None:
    """Place the file at dest unless it is there already with the right checksum.

    The bytes are checked before anything is written, and written through a temporary
    file, so a failed or mismatching fetch never leaves a half-written or wrong file.
    """
    if dest.is_file() and sha256_of(dest) == sha256:
        return
    data, origin = _read_source(url, mirror)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise SetupError(f"{dest.name}: checksum mismatch for the copy from {origin} "
                         f"(expected sha256 {sha256}, got {actual}). The file was not installed.")
    write_atomically(dest, data)


def write_atomically(dest: Path, data: bytes) -> None:
    """Write through a temporary file, so that dest is either absent or whole."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


# ---------------------------------------------------------------- models

CONVERT_VENV = ROOT / ".venv-convert"
CONVERT_REQUIREMENTS = ROOT / "models" / "convert-requirements.txt"
CONVERTER = ROOT / "models" / "convert.py"


def model_cards(folder: Path = ROOT / "models") -> list:
    """Every card in folder, parsed and validated (a bad card stops the command, naming the field)."""
    sys.path.insert(0, str(ROOT / "py"))
    from cards import CardError, parse_card  # noqa: PLC0415 — py/ is not importable before this

    cards = []
    for path in sorted(folder.glob("*.toml")):
        try:
            card = parse_card(path.read_text(), f"models/{path.name}")
        except CardError as exc:
            raise SetupError(str(exc)) from None
        if card.id != path.stem:
            raise SetupError(f"models/{path.name}: id '{card.id}' must match the file name")
        cards.append(card)
    return cards


def fetch_sources(card, dest: Path) -> None:
    """A card's source files in dest/, each verified by sha256, from MODEL_MIRROR when set."""
    mirror = os.environ.get("MODEL_MIRROR")
    for file, sha256 in card.sources.sha256.items():
        fetch_verified(dest / file, sha256, card.sources.url + file,
                       Path(mirror, card.sources.mirror, file) if mirror else None)


def thumbnail_photo() -> dict:
    """The demo photo that style thumbnails are made from (the first of site/demos.json)."""
    return json.loads((ROOT / "site" / "demos.json").read_text())["demos"][0]


def conversion_stamp(card) -> str:
    """What a converted model is made from: its card (every field, sources' checksums included),
    the converter and its pinned environment, and for a style its thumbnail's photo."""
    photo = thumbnail_photo()["sha256"] if card.task == "style" else ""
    digest = hashlib.sha256()
    for part in (repr(card).encode(), CONVERTER.read_bytes(), CONVERT_REQUIREMENTS.read_bytes(), photo.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def ensure_convert_env() -> Path:
    """.venv-convert with the pinned TensorFlow and tensorflowjs; returns its python."""
    return ensure_venv(CONVERT_VENV, ["--no-deps", "-r", str(CONVERT_REQUIREMENTS)], CONVERT_REQUIREMENTS.read_text(),
                       "TensorFlow and tensorflowjs (about 3 GB, once)")


def convert_models(cards: list, dest_root: Path, sources_root: Path) -> None:
    """Run the converter on each card, each into a fresh folder that replaces the old one only when whole."""
    jobs = []
    for card in cards:
        work = dest_root / f".{card.id}.new"
        shutil.rmtree(work, ignore_errors=True)
        jobs.append({"from": card.conversion.kind, "graph": card.conversion.graph,
                     "outputs": card.conversion.outputs, "quantize": card.conversion.quantize,
                     "sources": str(sources_root / card.sources.mirror), "out": str(work),
                     "thumbnail": str(BUILD / "demos" / thumbnail_photo()["file"]) if card.task == "style" else None})
    log(f"converting {', '.join(card.id for card in cards)}…")
    with tempfile.TemporaryDirectory() as tmp:
        job_file = Path(tmp, "jobs.json")
        job_file.write_text(json.dumps(jobs))
        result = subprocess.run([str(ensure_convert_env()), str(CONVERTER), "build", str(job_file)],
                                capture_output=True, text=True)
    if result.returncode:
        raise SetupError(f"model conversion failed:\n{result.stderr.strip()[-3000:]}")
    for card in cards:
        final, work, old = dest_root / card.id, dest_root / f".{card.id}.new", dest_root / f".{card.id}.old"
        (work / ".stamp").write_text(conversion_stamp(card))
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        work.rename(final)
        shutil.rmtree(old, ignore_errors=True)


def ensure_models(cards: list | None = None, dest_root: Path = BUILD / "models",
                  sources_root: Path = BUILD / "sources") -> None:
    """Each card's model (default: every card in models/) in dest_root/<id>/: files served as
    downloaded are verified by sha256; converted ones are made from verified sources in
    sources_root/ and rebuilt only when their card, sources or converter changed."""
    stale = []
    for card in model_cards() if cards is None else cards:
        if card.conversion is None:
            fetch_sources(card, dest_root / card.id)
            continue
        fetch_sources(card, sources_root / card.sources.mirror)
        stamp = dest_root / card.id / ".stamp"
        if not (stamp.is_file() and stamp.read_text() == conversion_stamp(card)):
            stale.append(card)
    if stale:
        if any(card.task == "style" for card in stale):
            ensure_demos()  # the thumbnails' photo
        convert_models(stale, dest_root, sources_root)
    log(f"models ready in {dest_root.relative_to(ROOT) if dest_root.is_relative_to(ROOT) else dest_root}/")


def ensure_demos(dest: Path = BUILD / "demos") -> None:
    """Fetch the demo photos listed in site/demos.json, verified by sha256."""
    mirror = os.environ.get("IMAGE_MIRROR")
    for demo in json.loads((ROOT / "site" / "demos.json").read_text())["demos"]:
        fetch_verified(dest / demo["file"], demo["sha256"], demo["url"],
                       Path(mirror, demo["file"]) if mirror else None)


# ---------------------------------------------------------------- Pyodide

def _check_lock(data: bytes, origin: str) -> None:
    """A Pyodide lock file is checked by content: its version and the pinned packages' checksums."""
    try:
        lock = json.loads(data)
    except ValueError:
        raise SetupError(f"{origin}: not a Pyodide lock file (not JSON)") from None
    if lock.get("info", {}).get("version") != PYODIDE["version"]:
        raise SetupError(f"{origin}: not the lock file of Pyodide {PYODIDE['version']}")
    for name in PYODIDE["packages"]:
        entry = lock.get("packages", {}).get(name)
        if entry is None or PYODIDE["sha256"].get(entry["file_name"]) != entry["sha256"]:
            raise SetupError(f"{origin}: package '{name}' is missing or not the pinned build")


def ensure_pyodide() -> Path:
    """A verified self-hostable Pyodide: PYODIDE_DIST when set, else downloaded from the CDN once."""
    given = os.environ.get("PYODIDE_DIST")
    if given:
        dist = Path(given).resolve()
        for name, sha in PYODIDE["sha256"].items():
            path = dist / name
            if not path.is_file():
                raise SetupError(f"PYODIDE_DIST={given}: {name} is missing")
            if sha256_of(path) != sha:
                raise SetupError(f"PYODIDE_DIST={given}: {name} fails its checksum")
        lock = dist / "pyodide-lock.json"
        _check_lock(lock.read_bytes(), str(lock))
        return dist
    dist = BUILD / "pyodide" / PYODIDE["version"]
    for name, sha in PYODIDE["sha256"].items():
        fetch_verified(dist / name, sha, PYODIDE["cdn"] + name)
    lock = dist / "pyodide-lock.json"
    if not lock.is_file():  # a lock on disk was written only after passing the check
        data, origin = _read_source(PYODIDE["cdn"] + "pyodide-lock.json", None)
        _check_lock(data, origin)
        write_atomically(lock, data)
    return dist


# ---------------------------------------------------------------- front-end runtimes

def ensure_npm() -> None:
    """Install the pinned PyScript and tf.js from package-lock.json when node_modules is stale."""
    marker = NODE_MODULES / ".package-lock.json"
    lock = ROOT / "package-lock.json"
    if marker.is_file() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm is not installed: install Node.js 20 or newer (with npm) and run this again.")
    log("installing PyScript and tf.js (npm ci)…")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)


TFJS_ENTRY = ROOT / "tools" / "tfjs-entry.mjs"
TFJS_BUNDLE = BUILD / "vendor" / "tfjs.mjs"


def ensure_tfjs_bundle() -> None:
    """tf.js as one ES module (TFJS_ENTRY bundled by esbuild), remade when the entry or the pins change."""
    stamp = TFJS_BUNDLE.with_name(".tfjs.stamp")
    wanted = hashlib.sha256(TFJS_ENTRY.read_bytes() + (ROOT / "package-lock.json").read_bytes()).hexdigest()
    if TFJS_BUNDLE.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return
    log("bundling tf.js (esbuild)…")
    TFJS_BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    part = TFJS_BUNDLE.with_name(TFJS_BUNDLE.name + ".part")
    subprocess.run([str(NODE_MODULES / ".bin" / "esbuild"), str(TFJS_ENTRY), "--bundle", "--format=esm",
                    "--platform=browser", "--minify", "--log-level=warning", f"--outfile={part}"],
                   cwd=ROOT, check=True)
    os.replace(part, TFJS_BUNDLE)
    stamp.write_text(wanted)


# ---------------------------------------------------------------- the served tree

def routes(pyodide_dist: Path | None, models: Path = BUILD / "models") -> list[tuple[str, Path]]:
    """URL prefix -> folder, first match wins. The same layout serves development and tests."""
    table = [
        ("/py/", ROOT / "py"),
        ("/models/", ROOT / "models"),
        ("/models/", models),
        ("/demos/", BUILD / "demos"),
        ("/vendor/pyscript/", NODE_MODULES / "@pyscript/core/dist"),
        ("/vendor/tfjs/", NODE_MODULES / "@tensorflow/tfjs/dist"),
        ("/vendor/tfjs-backend-wasm/", NODE_MODULES / "@tensorflow/tfjs-backend-wasm/dist"),
        ("/vendor/tfjs-backend-webgpu/", NODE_MODULES / "@tensorflow/tfjs-backend-webgpu/dist"),
        ("/vendor/", TFJS_BUNDLE.parent),
    ]
    if pyodide_dist is not None:
        table.append(("/pyodide/", pyodide_dist))
    table.append(("/", ROOT / "site"))
    return table


def pyscript_config(self_hosted: bool) -> bytes:
    """site/pyscript.toml with its `interpreter`: site/start.mjs, which starts the self-hosted Pyodide,
    or else the pinned Pyodide on its CDN."""
    text = (ROOT / "site" / "pyscript.toml").read_text()
    pyodide = "./pyodide/" if self_hosted else PYODIDE["cdn"]
    # Ending in .mjs, as PyScript wants an interpreter module's URL to end.
    return f'interpreter = "./start.mjs?pyodide={pyodide}pyodide.mjs"\n{text}'.encode()


# Live reload, added by the development server only: the page listens for changes and reloads.
LIVE_RELOAD_TAG = '<script type="module" src="./live-reload.js"></script>'
LIVE_RELOAD_JS = b"""// build.py serve: reload the page when a file under py/, site/ or models/ changes.
new EventSource("./__changes").addEventListener("change", () => location.reload());
"""
LIVE_RELOAD_WATCH = (ROOT / "py", ROOT / "site", ROOT / "models")


POLICY_REPORTS = "/__policy-reports"  # where the browser posts Content Security Policy violations


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".wasm": "application/wasm",
        ".json": "application/json",
        ".toml": "text/plain; charset=utf-8",
        ".py": "text/x-python; charset=utf-8",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".bin": "application/octet-stream",
        ".svg": "image/svg+xml",
    }

    def __init__(self, *args, table: list[tuple[str, Path]], quiet: bool, isolated: bool,
                 watch: tuple[Path, ...], policy_reports: list | None = None, reporting_policy: str = "",
                 **kwargs):
        self.table = table
        self.quiet = quiet
        self.isolated = isolated
        self.watch = watch
        self.policy_reports = policy_reports
        self.reporting_policy = reporting_policy
        super().__init__(*args, directory=str(ROOT / "site"), **kwargs)

    def handle(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the page closed mid-download
            super().handle()

    def translate_path(self, path: str) -> str:
        url_path = path.split("?", 1)[0].split("#", 1)[0]
        fallback = None
        for prefix, folder in self.table:
            if url_path.startswith(prefix):
                rel = urllib.request.url2pathname(url_path[len(prefix):])
                candidate = (folder / rel).resolve()
                if not candidate.is_relative_to(folder.resolve()):
                    continue
                if candidate.exists():
                    return str(candidate)
                fallback = fallback or str(candidate)
        return fallback or str(ROOT / "site" / "__missing__")

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/pyscript.toml":
            self.send_body(pyscript_config(any(p == "/pyodide/" for p, _ in self.table)), "text/plain; charset=utf-8")
        elif self.watch and path in ("/", "/index.html"):
            page = Path(self.translate_path("/index.html")).read_text()
            self.send_body(page.replace("</head>", f"{LIVE_RELOAD_TAG}</head>", 1).encode(), "text/html; charset=utf-8")
        elif self.watch and path == "/live-reload.js":
            self.send_body(LIVE_RELOAD_JS, "text/javascript")
        elif self.watch and path == "/__changes":
            self.stream_changes()
        else:
            super().do_GET()

    def send_body(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream_changes(self) -> None:
        """Server-sent events: one `change` event when a watched file is added, edited or removed."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        before, idle = tree_state(self.watch), 0.0
        with contextlib.suppress(OSError):  # the page went away
            while tree_state(self.watch) == before:
                time.sleep(0.2)
                idle += 0.2
                if idle >= 15:  # a comment now and then finds a closed connection
                    self.wfile.write(b": waiting\n\n")
                    self.wfile.flush()
                    idle = 0.0
            self.wfile.write(b"event: change\ndata: reload\n\n")
            self.wfile.flush()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        if self.isolated:  # cross-origin isolation: SharedArrayBuffer, so tf.js's wasm backend can use threads
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "credentialless")
        if self.reporting_policy:
            self.send_header("Content-Security-Policy-Report-Only", self.reporting_policy)
        super().end_headers()

    def do_POST(self) -> None:
        if self.policy_reports is None or self.path != POLICY_REPORTS:
            self.send_error(405)
            return
        self.policy_reports.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def page_policy(site: Path) -> str:
    """The Content Security Policy in the <meta> tag of a site's page."""
    [policy] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">',
                          (site / "index.html").read_text())
    return policy


def tree_state(folders: tuple[Path, ...]) -> dict[Path, int]:
    """Every file under the folders (hidden ones aside) with its modification time."""
    return {path: path.stat().st_mtime_ns for folder in folders for path in folder.rglob("*")
            if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)}


def make_server(port: int, table: list[tuple[str, Path]], quiet: bool = False, isolated: bool = True,
                watch: tuple[Path, ...] = (), policy_reports: list | None = None) -> http.server.ThreadingHTTPServer:
    """A server of the route table; `isolated` sends COOP/COEP; `watch` turns on live reload of
    pages when a file under those folders changes; `policy_reports` collects the reports of
    Content Security Policy violations, in the page and in its workers."""
    reporting_policy = ""
    if policy_reports is not None:
        # The page's policy again, reporting: a policy in a <meta> tag cannot report, and a
        # violation in a worker fires no event the page sees. Workers made from blob: URLs
        # inherit it; workers from the site's scripts get it from this header.
        site = next(folder for _, folder in table if (folder / "index.html").is_file())
        reporting_policy = f"{page_policy(site)}; report-uri {POLICY_REPORTS}"
    handler = functools.partial(SiteHandler, table=table, quiet=quiet, isolated=isolated, watch=watch,
                                policy_reports=policy_reports, reporting_policy=reporting_policy)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


@contextlib.contextmanager
def serving(table: list[tuple[str, Path]], isolated: bool = True, watch: tuple[Path, ...] = (),
            policy_reports: list | None = None) -> Iterator[str]:
    """Serve a route table on a free local port in a background thread; yields its base URL."""
    server = make_server(0, table, quiet=True, isolated=isolated, watch=watch, policy_reports=policy_reports)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- the static site

DIST = ROOT / "dist"
# What the page loads of each npm package, by the served folder it goes to.
VENDOR_FILES = {
    "vendor/pyscript": (NODE_MODULES / "@pyscript/core/dist", ["*.js", "*.css"]),
    "vendor": (TFJS_BUNDLE.parent, [TFJS_BUNDLE.name]),
    "vendor/tfjs-backend-wasm": (NODE_MODULES / "@tensorflow/tfjs-backend-wasm/dist", ["*.wasm"]),
}
SITE_FILES = ["*.html", "*.css", "*.js", "*.mjs", "*.json", "*.svg"]


def build_site(dest: Path, pyodide_dist: Path | None) -> None:
    """The whole static site in dest/, every URL in it relative, so that it runs from any static host
    and any sub-path. With pyodide_dist, Pyodide is served from the site too (no other origin)."""
    stage = dest.with_name(dest.name + ".new")
    shutil.rmtree(stage, ignore_errors=True)

    def copy(source: Path, patterns: list[str], into: str) -> None:
        for pattern in patterns:
            for file in sorted(source.glob(pattern)):
                if file.is_file() and not file.name.startswith("."):
                    (stage / into).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(file, stage / into / file.name)

    copy(ROOT / "site", SITE_FILES, ".")
    index = stage / "index.html"
    if pyodide_dist is not None:  # nothing comes from the CDN: the page's policy no longer allows it
        index.write_text(index.read_text().replace(" " + PYODIDE["cdn"], ""))
    else:
        index.write_text(with_cdn_integrity(index.read_text()))
    (stage / "pyscript.toml").write_bytes(pyscript_config(self_hosted=pyodide_dist is not None))
    copy(ROOT / "py", ["*.py"], "py")
    copy(ROOT / "models", ["*.toml"], "models")
    for card in model_cards():
        copy(BUILD / "models" / card.id, ["*"], f"models/{card.id}")
    copy(BUILD / "demos", ["*"], "demos")
    for into, (source, patterns) in VENDOR_FILES.items():
        copy(source, patterns, into)
    if pyodide_dist is not None:
        copy(pyodide_dist, [*PYODIDE["sha256"], "pyodide-lock.json"], "pyodide")
    (stage / ".nojekyll").touch()  # GitHub Pages: serve the files as they are
    stamp_version(stage)
    shutil.rmtree(dest, ignore_errors=True)
    stage.rename(dest)


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


def stamp_version(site: Path) -> str:
    """Write the site's version, a digest of every file in it, into sw.js (which names its cache
    after it), shell.js (which registers sw.js only when there is one) and start.mjs (which keeps
    the snapshot of Python in that cache). Returns the version."""
    digest = hashlib.sha256()
    stamped = ("sw.js", "shell.js", "start.mjs")
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.name not in stamped):
        digest.update(path.relative_to(site).as_posix().encode() + b"\0" + path.read_bytes())
    for name in stamped:  # their own text, before the version goes in
        digest.update((ROOT / "site" / name).read_bytes())
    version = digest.hexdigest()[:16]
    for name, old, new in (("sw.js", 'const VERSION = "dev";', f'const VERSION = "{version}";'),
                           ("shell.js", "const SITE_VERSION = null;", f'const SITE_VERSION = "{version}";'),
                           ("start.mjs", "const SITE_VERSION = null;", f'const SITE_VERSION = "{version}";')):
        text = (ROOT / "site" / name).read_text()
        if old not in text:
            raise SetupError(f"site/{name} no longer contains `{old}`, where build.py writes the version")
        (site / name).write_text(text.replace(old, new))
    return version


# ---------------------------------------------------------------- Python tools and Chromium

def ensure_venv(venv: Path, pip_args: list[str], wanted: str, what: str) -> Path:
    """A virtual environment with `pip install pip_args` done, redone only when `wanted` (what the
    arguments stand for) changes; returns its python."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements"
    if not python.exists():
        log(f"creating {venv.name}…")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.is_file() or stamp.read_text() != wanted:
        log(f"installing {what} into {venv.name}…")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pip_args],
                       check=True)
        stamp.write_text(wanted)
    return python


def ensure_dev_env() -> None:
    """Run this script inside .venv with the dev dependency group installed (re-executes itself)."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    requirements = PYPROJECT["dependency-groups"]["dev"]
    python = ensure_venv(VENV, requirements, "\n".join(requirements), "the Python tools")
    os.execv(str(python), [str(python), str(ROOT / "build.py"), *sys.argv[1:]])


def find_chromium() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(path).is_file():
        raise SetupError(f"Chromium was not found at {path}. Install it (Debian/Ubuntu: "
                         "sudo apt-get install -y chromium) or set CHROMIUM to its path.")
    return path


def ensure_chromium() -> str:
    """find_chromium, installing Debian's package first when missing and able to (as root)."""
    with contextlib.suppress(SetupError):
        return find_chromium()
    if "CHROMIUM" not in os.environ and shutil.which("apt-get") and os.geteuid() == 0:
        log("installing chromium (apt-get)…")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return find_chromium()


# ---------------------------------------------------------------- the app in headless Chromium

def launch_chromium(extra_args: tuple[str, ...] = ()):
    """A headless Chromium with the project's flags, from the process's Playwright driver."""
    return playwright().chromium.launch(executable_path=find_chromium(), headless=True,
                                        args=[*CHROMIUM_FLAGS, *extra_args])


@functools.cache
def playwright():
    """The process's one Playwright driver (its sync API allows one per thread); stopped at exit."""
    import atexit  # noqa: PLC0415

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 — installed by ensure_dev_env

    driver = sync_playwright().start()
    atexit.register(driver.stop)
    return driver


class HeadlessApp:
    """The real page, in headless Chromium, driven through the API the Python app offers on `window.pylens`.

    Chromium gets the flags the backend asked for needs (backend_flags=False: to see how the page
    copes without). With fail_on_error, a page that did not start, or not on that backend, is a
    SetupError saying why."""

    READY_TIMEOUT_MS = 180_000

    def __init__(self, base_url: str, backend: str | None = None, chromium_args: tuple[str, ...] = (),
                 permissions: tuple[str, ...] = (), fail_on_error: bool = True, init_script: str | None = None,
                 prepare=None, enforce_csp: bool = False, block_service_workers: bool = False,
                 backend_flags: bool = True):
        self.browser = launch_chromium((*BACKEND_FLAGS.get(backend, ()), *chromium_args) if backend_flags
                                       else chromium_args)
        # The page's Content Security Policy forbids inline scripts, which the tests and the bench
        # add; only a test of the policy itself enforces it.
        self.context = self.browser.new_context(permissions=list(permissions), accept_downloads=True,
                                                bypass_csp=not enforce_csp,
                                                service_workers="block" if block_service_workers else "allow")
        if init_script:
            self.context.add_init_script(init_script)
        if prepare:  # e.g. to watch or route requests, before the page loads
            prepare(self.context)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console.append(str(exc)))
        self.url = base_url + (f"?backend={backend}" if backend else "")
        try:
            self.visit()
        except Exception:
            self.close()  # a page that never became ready must not leave its browser running
            raise
        self.error = self.page.evaluate("window.pylens.error || null")
        if self.error and fail_on_error:
            self.close()
            raise SetupError(f"the app did not start: {self.error}")
        if backend and fail_on_error and self.stats()["backend"] != backend:
            note = self.page.locator("#error-text").text_content()
            self.close()
            raise SetupError(f"the {backend} backend cannot run in this browser: {note}")

    def visit(self) -> None:
        """Navigate to the app and wait until it is ready (or has said why it cannot start)."""
        self.page.goto(self.url)
        self.wait_until("window.pylens && (window.pylens.ready || window.pylens.error)", self.READY_TIMEOUT_MS)

    def wait_until(self, expression: str, timeout_ms: float = 60_000) -> None:
        """Poll a JS expression (or promise) until it is truthy, across navigations. Unlike page.wait_for_function,
        this works under the page's Content Security Policy, which forbids evaluating strings."""
        from playwright.sync_api import Error  # noqa: PLC0415

        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                if self.page.evaluate(f"async () => Boolean(await ({expression}))"):
                    return
            except Error as exc:  # the page is navigating: ask the new one
                if "context was destroyed" not in str(exc):
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_ms / 1000:.0f} s for {expression}")
            self.page.wait_for_timeout(50)

    def on_image(self, method: str, data: bytes, name: str, *args) -> dict:
        """Call window.pylens[method](image bytes, name, *args); its JSON answer, or {'error': ...}."""
        return json.loads(self.page.evaluate(
            """async ([method, b64, name, args]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                return await window.pylens[method](bytes, name, ...args);
            }""",
            [method, base64.b64encode(data).decode(), name, list(args)]))

    def detect(self, data: bytes, name: str) -> dict:
        """Run the page's face-mask pipeline on image bytes; returns the result or {'error': ...}."""
        return self.on_image("detectImage", data, name)

    def stats(self) -> dict:
        return json.loads(self.page.evaluate("window.pylens.stats()"))

    def close(self) -> None:
        self.browser.close()

    def __enter__(self) -> HeadlessApp:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prepare_site(self_host: bool) -> Path | None:
    """Everything the served page needs; the self-hosted Pyodide's folder when asked for."""
    ensure_npm()
    ensure_tfjs_bundle()
    ensure_models()
    ensure_demos()
    return ensure_pyodide() if self_host else None


# ---------------------------------------------------------------- commands

def cmd_serve(args: argparse.Namespace) -> int:
    pyodide_dist = prepare_site(self_host=bool(os.environ.get("PYODIDE_DIST")))
    server = make_server(args.port, routes(pyodide_dist), watch=LIVE_RELOAD_WATCH)
    where = "self-hosted from " + str(pyodide_dist) if pyodide_dist else "from its CDN"
    log(f"serving on http://localhost:{server.server_address[1]}/ (Pyodide {where}); the page reloads when "
        "a file under py/, site/ or models/ changes; Ctrl+C stops")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    pyodide_dist = prepare_site(self_host=args.self_host)
    build_site(Path(args.out).resolve(), pyodide_dist)
    log(f"built {args.out}/ (Pyodide {'self-hosted' if pyodide_dist else 'from ' + PYODIDE['cdn']})")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    ensure_models()
    return 0


def cmd_pyodide(args: argparse.Namespace) -> int:
    log(f"Pyodide ready in {ensure_pyodide()}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    ensure_dev_env()
    ensure_chromium()
    os.environ["PYODIDE_DIST"] = str(prepare_site(self_host=True))
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "build.py", "py", "models", "tests"], cwd=ROOT)
    if lint.returncode:
        return lint.returncode
    return subprocess.run([sys.executable, "-m", "pytest", *args.pytest_args], cwd=ROOT).returncode


def cmd_detect(args: argparse.Namespace) -> int:
    ensure_dev_env()
    pyodide_dist = prepare_site(self_host=True)
    failed = False
    with serving(routes(pyodide_dist)) as url, HeadlessApp(url, args.backend) as app:
        backend = app.stats()["backend"]
        for image in args.images:
            try:
                data = Path(image).read_bytes()
            except OSError as exc:
                result = {"error": f"{image} cannot be read: {exc.strerror}."}
            else:
                result = {"backend": backend, **app.detect(data, Path(image).name)}
            failed |= "error" in result
            print(json.dumps({"image": image, **result}), flush=True)
    return 1 if failed else 0


def style_names() -> list[str]:
    """The --style names: the style cards' ids without 'style-', with '_' for '-' (la_muse, …)."""
    return [card.id.removeprefix("style-").replace("-", "_") for card in model_cards() if card.task == "style"]


def image_to_png(args: argparse.Namespace, method: str, *call_args) -> int:
    """Shared by segment and stylize: one image through the page, the PNG it gives written to --out."""
    ensure_dev_env()
    try:
        data = Path(args.image).read_bytes()
    except OSError as exc:
        raise SetupError(f"{args.image} cannot be read: {exc.strerror}.") from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise SetupError(f"{out.parent} is not a folder: the output {out.name} cannot be written there.")
    pyodide_dist = prepare_site(self_host=True)
    with serving(routes(pyodide_dist)) as url, HeadlessApp(url, args.backend) as app:
        result = app.on_image(method, data, Path(args.image).name, *call_args)
    if "error" in result:
        raise SetupError(result["error"])
    write_atomically(out, base64.b64decode(result["png"]))
    log(f"wrote {out} ({result['width']}×{result['height']})")
    return 0


def cmd_segment(args: argparse.Namespace) -> int:
    return image_to_png(args, "segmentImage", args.model)


def cmd_stylize(args: argparse.Namespace) -> int:
    if args.style not in style_names():
        raise SetupError(f"There is no style '{args.style}'; choose one of {', '.join(style_names())}.")
    if args.max_side < 16:
        raise SetupError(f"--max-side must be at least 16 pixels, not {args.max_side}.")
    return image_to_png(args, "stylizeImage", "style-" + args.style.replace("_", "-"), args.mask, args.max_side)


JS_PIPELINE = ROOT / "tests" / "js_reference.js"
LONG_TASKS = ROOT / "tools" / "bench" / "long-tasks.js"
RUNTIME_FLOOR_PAGE = ROOT / "tools" / "bench" / "runtime-floor.html"
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
# tf.js as plain scripts (a global `tf`), for the plain JavaScript pages and pipelines the app is compared with.
PLAIN_TFJS_SCRIPTS = ["./vendor/tfjs/tf.min.js", "./vendor/tfjs-backend-wasm/tf-backend-wasm.min.js",
                      "./vendor/tfjs-backend-webgpu/tf-backend-webgpu.min.js"]
BENCH_IMAGE = BUILD / "demos" / "aizoo_demo.jpg"
BENCH_DETECTOR = "aizoo-face-mask"
# The plain-JavaScript counterpart of the app for the cold-start comparison: tf.js on wasm and
# the JS pipeline of JS_PIPELINE, nothing else. SPEC is replaced by the detector card's figures.
PLAIN_JS_PAGE = """<!doctype html><meta charset="utf-8"><title>face-mask detection, plain tf.js</title>
<canvas id="picture"></canvas>
<script src="./vendor/tfjs/tf.min.js"></script>
<script src="./vendor/tfjs-backend-wasm/tf-backend-wasm.min.js"></script>
<script src="./js_pipeline.js"></script>
<script>
  (async () => {
    tf.wasm.setWasmPaths("./vendor/tfjs-backend-wasm/");
    await tf.setBackend("wasm");
    performance.mark("js: backend ready");
    await jsReference.load("./models/%(id)s/model.json", %(spec)s);
    performance.mark("js: model ready");
    window.jsReady = true;
  })();
</script>"""
# Start-up phases: (name, the performance mark that starts it, the one that ends it). Phases overlap:
# site/start.mjs starts tf.js and the detector's download while Pyodide starts. No start mark:
# navigation; no end mark: the first result.
APP_PHASES = [
    ("page, shell and PyScript", None, "pyscript: Loading Pyodide"),
    ("Python runtime and numpy", "pyscript: Loading Pyodide", "pyscript: Loading files"),
    ("tf.js and its backend", "start: tf.js", "start: backend ready"),
    ("detector download", "start: detector download", "start: detector downloaded"),
    ("app files", "pyscript: Loading files", "pyscript: Loaded Pyodide"),
    ("app modules (Python imports)", "pyscript: Loaded Pyodide", "pylens: app started"),
    ("detector build and warm-up", "pylens: backend ready", "pylens: model ready"),
    ("controls", "pylens: model ready", "pylens: ready"),
    ("first result (decode, detect, draw)", "pylens: ready", None),
]
JS_PHASES = [
    ("page, tf.js and backend", None, "js: backend ready"),
    ("model download", "js: backend ready", "js: model ready"),
    ("first result (decode, detect)", "js: model ready", None),
]
# Where first-load bytes go, by URL path prefix (first match; the rest is the page itself).
BYTE_GROUPS = [("Python packages", "/pyodide/", ".whl"), ("Python runtime", "/pyodide/", ""),
               ("PyScript", "/vendor/pyscript/", ""), ("tf.js", "/vendor/tfjs", ""), ("models", "/models/", "")]


def js_pipeline_spec(card) -> dict:
    """What JS_PIPELINE needs of a detector card: anchors, variances, input size."""
    return {
        "feature_maps": [rows for rows, _ in card.anchors.feature_maps],
        "sizes": card.anchors.sizes, "ratios": card.anchors.ratios, "variances": card.variances,
        "width": card.input_width, "height": card.input_height, "max_detections": card.max_detections,
    }


def load_js_pipeline(page, card, backend: str) -> None:
    """JS_PIPELINE added to a page of the site as `window.jsReference`, on a tf.js of its own (the
    page's global `tf`, apart from the app's) running `backend`, with the card's model loaded."""
    for script in PLAIN_TFJS_SCRIPTS:
        page.add_script_tag(url=script)
    page.add_script_tag(path=str(JS_PIPELINE))
    page.evaluate("""async ([backend, id, spec]) => {
        tf.wasm.setWasmPaths("./vendor/tfjs-backend-wasm/");
        await tf.setBackend(backend);
        await window.jsReference.load(`./models/${id}/model.json`, spec);
    }""", [backend, card.id, js_pipeline_spec(card)])


def give_file(page, event: str, data: bytes, name: str, mime: str, target: str = "#stage") -> None:
    """Drop on `target`, or paste into the page, a File made of `data`, as a browser delivers one."""
    page.evaluate(
        """([event, b64, name, type, target]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type}));
            if (event === 'drop') {
                const at = document.querySelector(target);
                for (const kind of ['dragover', 'drop'])
                    at.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
            } else {
                document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true}));
            }
        }""",
        [event, base64.b64encode(data).decode(), name, mime, target])


def bench_picture() -> tuple[bytes, str]:
    """A 640×480 JPEG of a person (a demo photo cropped to fit): the segment-and-stylize bench frame."""
    import io  # noqa: PLC0415

    from PIL import Image, ImageOps  # noqa: PLC0415 — installed by ensure_dev_env

    out = io.BytesIO()
    ImageOps.fit(Image.open(BUILD / "demos" / "fmd_demo2.jpg").convert("RGB"), (640, 480)).save(out, "JPEG", quality=92)
    return out.getvalue(), "fmd_demo2-640x480.jpg"


def print_rows(title: str, rows: list[tuple]) -> None:
    """A titled table of (name, value) in milliseconds, or (name, value, unit)."""
    print(title)
    for name, value, *unit in rows:
        print(f"  {name:<52} {value:8.2f} {unit[0] if unit else 'ms'}".rstrip())


def in_page_and_workers(page, expression: str) -> list:
    """`expression` evaluated in a page and in each of its workers, the page's answer first (a worker
    that ended meanwhile, such as the one that makes Python's snapshot, is left out)."""
    from playwright.sync_api import Error  # noqa: PLC0415 — installed by ensure_dev_env

    answers = []
    for context in (page, *page.workers):
        with contextlib.suppress(Error):
            answers.append(context.evaluate(expression))
    return answers


def marks(page) -> dict[str, float]:
    """The performance marks of a page and of its workers, in ms since the page's navigation."""
    answers = in_page_and_workers(
        page, "[performance.timeOrigin, performance.getEntriesByType('mark').map(m => [m.name, m.startTime])]")
    origin, found = answers[0][0], {}
    for their_origin, entries in answers:
        for name, at in entries:
            found.setdefault(name, at + their_origin - origin)
    return found


def first_load(page, first_result_ms: float, phases: list[tuple[str, str | None, str | None]]) -> dict:
    """The page's start-up as measured by the browser: each phase's start and end (from the marks of
    the page and its workers), the total to the first result, and the bytes it downloaded by kind."""
    found = marks(page)
    intervals = {name: [0.0 if start is None else found[start], first_result_ms if end is None else found[end]]
                 for name, start, end in phases}
    downloads = in_page_and_workers(page, """["navigation", "resource"]  // a worker's are in its own timing
        .flatMap(type => performance.getEntriesByType(type)).map(r => [new URL(r.name).pathname, r.encodedBodySize])""")
    sizes = {name: 0 for name, *_ in BYTE_GROUPS} | {"page and app": 0}
    for path, size in (download for context in downloads for download in context):
        group = next((name for name, prefix, suffix in BYTE_GROUPS
                      if path.startswith(prefix) and path.endswith(suffix)), "page and app")
        sizes[group] += size
    named = {mark for _, start, end in phases for mark in (start, end) if mark}
    return {"ms": first_result_ms, "phases": intervals, "marks": {name: found[name] for name in sorted(named)},
            "phases_ms": {name: end - start for name, (start, end) in intervals.items()}, "bytes": sizes}


def first_result(app: HeadlessApp) -> dict:
    """The bench photo opened from the demos as soon as the page is ready, as a visitor would: the
    page's start-up up to its detections on screen, with the main thread's long tasks until then
    (the page must have LONG_TASKS)."""
    app.page.click(f'#demos button[data-file="{BENCH_IMAGE.name}"]')
    app.wait_until(f"JSON.parse(window.pylens.stats()).result?.image === '{BENCH_IMAGE.name}'",
                   HeadlessApp.READY_TIMEOUT_MS)
    done = app.page.evaluate("performance.getEntriesByName('pylens: first result')[0].startTime")
    return {**first_load(app.page, done, APP_PHASES), **main_thread(app.page, 0.0, done)}


def main_thread(page, start: float, end: float) -> dict:
    """The longest main-thread task between two times of a page with LONG_TASKS, and the total
    blocking time (each long task's time beyond 50 ms), in ms."""
    long_tasks = [d for t, d in page.evaluate("window.pylensLongTasks") if start <= t <= end]
    busy = [d for t, d in page.evaluate("window.pylensBusy") if start <= t <= end]
    return {"longest_task_ms": max(long_tasks + busy, default=0.0),
            "total_blocking_ms": sum(d - 50 for d in long_tasks)}


def app_start(url: str, backend: str, visits: int = 1) -> list[dict]:
    """The app in a fresh browser, visited `visits` times in a row (the first cold, the others with
    its cache): navigation to the first detection of the bench photo, each time."""
    runs = []
    with HeadlessApp(url, backend, init_script=LONG_TASKS.read_text()) as app:
        for visit in range(visits):
            if visit:
                app.visit()
            runs.append(first_result(app))
    return runs


def built_site_later_visits(url: str, backend: str) -> list[dict]:
    """The built site (as on GitHub Pages, no headers) in a fresh browser: a first visit, in which
    the service worker takes over and caches what the app fetches, and after the first result the
    app keeps a snapshot of Python and times the backends; then the second and the third visit,
    measured. (The browser keeps the compiled Pyodide runtime only once it has seen it twice, so
    the third is quicker.)"""
    with HeadlessApp(url, backend, init_script=LONG_TASKS.read_text()) as app:
        app.wait_until("crossOriginIsolated && navigator.serviceWorker.controller && window.pylens?.ready",
                       HeadlessApp.READY_TIMEOUT_MS)
        first_result(app)
        # Both done, so that no leftover work of this visit runs into the next ones.
        app.wait_until("(s => s.snapshot === 'kept' && Object.keys(s.backend_times).length)"
                       "(JSON.parse(window.pylens.stats()))", HeadlessApp.READY_TIMEOUT_MS)
        runs = []
        for _ in range(2):
            app.visit()
            runs.append(first_result(app))
            if app.stats()["snapshot"] != "restored":
                raise SetupError(f"a later visit did not restore Python's snapshot ({app.stats()['snapshot']})")
        return runs


def interactive_start(url: str, backend: str) -> float:
    """Navigation until a photo given to the page is on screen, in a fresh browser: the photo is
    dropped on the page as soon as its shell has loaded, ahead of the Python app."""
    browser = launch_chromium()
    try:
        page = browser.new_context(bypass_csp=True).new_page()
        page.goto(f"{url}?backend={backend}", wait_until="commit")
        page.wait_for_function("window.pylens !== undefined", polling=5, timeout=HeadlessApp.READY_TIMEOUT_MS)
        give_file(page, "drop", BENCH_IMAGE.read_bytes(), BENCH_IMAGE.name, "image/jpeg")
        shown = "performance.getEntriesByName('pylens: picture shown')"
        page.wait_for_function(f"{shown}.length", polling=5, timeout=HeadlessApp.READY_TIMEOUT_MS)
        return page.evaluate(f"{shown}[0].startTime")
    finally:
        browser.close()


def runtime_floor(url: str) -> float:
    """Navigation until RUNTIME_FLOOR_PAGE has started Pyodide and imported numpy and Pillow, in a fresh browser."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.route(url + RUNTIME_FLOOR_PAGE.name, lambda route: route.fulfill(path=RUNTIME_FLOOR_PAGE))
        page.goto(url + RUNTIME_FLOOR_PAGE.name)
        page.wait_for_function("window.floorReadyAt", timeout=HeadlessApp.READY_TIMEOUT_MS)
        return page.evaluate("window.floorReadyAt")
    finally:
        browser.close()


def webcam_loops(url: str, backend: str, seconds: float) -> dict:
    """The longest main-thread task during `seconds` of each view's webcam loop (Chromium's fake camera)."""
    loops = {}
    with HeadlessApp(url, backend, chromium_args=FAKE_CAMERA, init_script=LONG_TASKS.read_text()) as app:
        for view, counter in (("mask", "frames"), ("style", "style_frames")):
            app.page.evaluate("view => window.pylens.showView(view)", view)
            first = app.stats()[counter]
            app.page.evaluate("window.pylens.startWebcam()")
            app.wait_until(f"JSON.parse(window.pylens.stats()).{counter} > {first}", HeadlessApp.READY_TIMEOUT_MS)
            start, before = app.page.evaluate("performance.now()"), app.stats()[counter]
            app.page.wait_for_timeout(seconds * 1000)
            end, after = app.page.evaluate("performance.now()"), app.stats()[counter]
            app.page.evaluate("window.pylens.stopWebcam()")
            loops[f"{view}_longest_task_ms"] = main_thread(app.page, start, end)["longest_task_ms"]
            loops[f"{view}_frames"] = after - before
    return loops


def plain_js_start(url: str, card) -> dict:
    """The same for PLAIN_JS_PAGE in a fresh browser: navigation to the first detection."""
    browser = launch_chromium()
    try:
        page = browser.new_page()
        page.route(url + "js_pipeline.js", lambda route: route.fulfill(path=JS_PIPELINE))
        html = PLAIN_JS_PAGE % {"id": card.id, "spec": json.dumps(js_pipeline_spec(card))}
        page.route(url + "plain-js.html", lambda route: route.fulfill(body=html, content_type="text/html"))
        page.goto(url + "plain-js.html")
        page.wait_for_function("window.jsReady", timeout=HeadlessApp.READY_TIMEOUT_MS)
        done = page.evaluate("""async b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const bitmap = await createImageBitmap(new Blob([bytes]));
            const canvas = document.getElementById("picture");
            [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
            canvas.getContext("2d").drawImage(bitmap, 0, 0);
            await jsReference.detect(canvas, bitmap.width, bitmap.height, 0.5, 0.5);
            return performance.now();
        }""", base64.b64encode(BENCH_IMAGE.read_bytes()).decode())
        return first_load(page, done, JS_PHASES)
    finally:
        browser.close()


def median_run(runs: list[dict]) -> dict:
    """The run whose total is the median (its phases add up to it)."""
    return sorted(runs, key=lambda run: run["ms"])[len(runs) // 2]


def heap_used(cdp) -> int:
    """The page's JS heap after a full garbage collection, in bytes."""
    cdp.send("HeapProfiler.collectGarbage")
    return cdp.send("Runtime.getHeapUsage")["usedSize"]


def soak(app: HeadlessApp, frames: int, warm_up: int = 20) -> dict:
    """`frames` whole frames on the picture shown: tensors and JS heap (after warm-up) before and after."""
    cdp = app.context.new_cdp_session(app.page)
    app.page.evaluate("n => window.pylens.soak(n)", warm_up)
    heap_before = heap_used(cdp)
    run = json.loads(app.page.evaluate("n => window.pylens.soak(n)", frames))
    heap_after = heap_used(cdp)
    return {**run, "heap_before": heap_before, "heap_after": heap_after, "heap_growth": heap_after / heap_before - 1}


def bench_face_mask(app: HeadlessApp, card, frames: int, with_js: bool = True) -> dict:
    """benchFaceMask on the bench photo, against the plain JavaScript pipeline loaded into the same
    page unless told not to. Not on a page where the app runs on the main thread: two copies of
    tf.js on one page share one engine, where two copies of a layers model's variables clash."""
    app.detect(BENCH_IMAGE.read_bytes(), BENCH_IMAGE.name)
    if with_js:
        load_js_pipeline(app.page, card, app.stats()["backend"])
    return json.loads(app.page.evaluate("n => window.pylens.benchFaceMask(n)", frames))


def run_bench(args: argparse.Namespace, url: str, url_not_isolated: str, built_site_url: str) -> dict:
    """Every figure of `build.py bench` (see its help), as one dict. The page is cross-origin
    isolated, as `build.py serve` and the service worker make it; on url_not_isolated, the
    face-mask figures are taken again without isolation, so without wasm threads."""
    card = next(card for card in model_cards() if card.id == BENCH_DETECTOR)
    with HeadlessApp(url_not_isolated, args.backend) as app:
        single = bench_face_mask(app, card, args.frames, with_js=False)
    with HeadlessApp(url, args.backend) as app:
        browser = f"Chromium {app.browser.version}"
        mask = bench_face_mask(app, card, args.frames)
        mask["wasm_threads"] = app.stats()["wasm_threads"]
        mask["not_isolated"] = {key: single[key] for key in ("predict_ms", "python_pipeline_ms")}
        mask["soak"] = soak(app, args.soak)
        app.detect(*bench_picture())
        app.page.evaluate("window.pylens.showView('style')")
        style = json.loads(app.page.evaluate("n => window.pylens.benchSegmentStyle(n)", args.style_frames))
    style["overhead"] = style["pipeline_ms"] / style["models_ms"] - 1
    visits = [app_start(url, args.backend, visits=2) for _ in range(args.cold_runs)]
    cold, warm = median_run([v[0] for v in visits]), median_run([v[1] for v in visits])
    plain = median_run([plain_js_start(url, card) for _ in range(args.cold_runs)])
    later = [built_site_later_visits(built_site_url, args.backend) for _ in range(args.cold_runs)]
    cached, third = median_run([v[0] for v in later]), median_run([v[1] for v in later])
    mask.update(cold_start_ms=cold["ms"], js_cold_start_ms=plain["ms"], warm_start_ms=warm["ms"],
                cached_start_ms=cached["ms"], cached_third_start_ms=third["ms"], cold_start=cold,
                js_cold_start=plain, warm_start=warm, cached_start=cached, cached_third_start=third,
                first_load_bytes=sum(cold["bytes"].values()), cold_runs=args.cold_runs)
    startup = {"app_cold_ms": cold["ms"], "app_warm_ms": cached["ms"], "js_cold_ms": plain["ms"],
               "runtime_floor_ms": statistics.median(runtime_floor(url) for _ in range(args.cold_runs)),
               "interactive_ms": statistics.median(interactive_start(url, args.backend) for _ in range(args.cold_runs)),
               "longest_task_ms": cold["longest_task_ms"], "total_blocking_ms": cold["total_blocking_ms"]}
    return {"backend": mask["backend"], "browser": browser, "machine": machine(), "face_mask": mask,
            "segment_style": style, "startup": startup, "loops": webcam_loops(url, args.backend, args.loop_seconds)}


def machine() -> str:
    """The CPU model and core count, for the record."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")
    return f"{model}, {os.cpu_count()} cores"


def print_bench(figures: dict) -> None:
    mask, style = figures["face_mask"], figures["segment_style"]
    print_rows(f"face-mask, {BENCH_IMAGE.name}, {mask['frames']} frames, backend {figures['backend']}, "
               f"{figures['browser']}, {figures['machine']}", [
        ("model: predict + readback", mask["predict_ms"]),
        ("Python pipeline, whole frame", mask["python_pipeline_ms"]),
        ("  of which post-processing (readback, decode, NMS)", mask["postprocess_ms"]),
        *((f"  stage: {name}", ms) for name, ms in mask["stages_ms"].items()),
        ("plain JavaScript pipeline (tf.js decode and NMS)", mask["js_pipeline_ms"]),
        ("Python pipeline / model", mask["python_pipeline_ms"] / mask["predict_ms"], "×"),
        ("Python pipeline / JavaScript pipeline", mask["python_pipeline_ms"] / mask["js_pipeline_ms"], "×"),
    ])
    print_rows(f"the same without cross-origin isolation (wasm threads {'on' if mask['wasm_threads'] else 'off'} "
               "above, off here)", [
        ("model: predict + readback", mask["not_isolated"]["predict_ms"]),
        ("Python pipeline, whole frame", mask["not_isolated"]["python_pipeline_ms"]),
        ("speed-up of the model from threads", mask["not_isolated"]["predict_ms"] / mask["predict_ms"], "×"),
    ])
    def phases(run: dict) -> list[tuple[str, float]]:
        return [(f"  {name} ({start:.0f}–{end:.0f})", end - start) for name, (start, end) in run["phases"].items()]

    print_rows(f"start-up, navigation to the first result (median of {mask['cold_runs']}); phases overlap, "
               "each from its start to its end (ms after navigation)", [
        ("app, first visit", mask["cold_start_ms"]),
        *phases(mask["cold_start"]),
        ("app, second visit (browser cache)", mask["warm_start_ms"]),
        ("built site, second visit (service worker cache, Python's snapshot)", mask["cached_start_ms"]),
        *phases(mask["cached_start"]),
        ("built site, third visit", mask["cached_third_start_ms"]),
        *phases(mask["cached_third_start"]),
        ("plain JavaScript page, first visit", mask["js_cold_start_ms"]),
        *phases(mask["js_cold_start"]),
        ("app / plain JavaScript", mask["cold_start_ms"] / mask["js_cold_start_ms"], "×"),
    ])
    print_rows("bytes downloaded on the first visit", [
        *((f"  app: {name}", size / 1e6, "MB") for name, size in mask["cold_start"]["bytes"].items()),
        ("app, in all", mask["first_load_bytes"] / 1e6, "MB"),
        ("plain JavaScript page, in all", sum(mask["js_cold_start"]["bytes"].values()) / 1e6, "MB"),
    ])
    startup, loops = figures["startup"], figures["loops"]
    print_rows("the page's main thread (long tasks: the page does not answer while one runs)", [
        ("interactive: navigation to a given photo on screen", startup["interactive_ms"]),
        ("  / plain JavaScript page's first result", startup["interactive_ms"] / startup["js_cold_ms"], "×"),
        ("runtime floor: Pyodide, numpy and Pillow alone", startup["runtime_floor_ms"]),
        ("app, first visit / runtime floor", startup["app_cold_ms"] / startup["runtime_floor_ms"], "×"),
        ("app, first visit / plain JavaScript page", startup["app_cold_ms"] / startup["js_cold_ms"], "×"),
        ("built site, second visit / plain JavaScript page", startup["app_warm_ms"] / startup["js_cold_ms"], "×"),
        ("longest task, navigation to first result", startup["longest_task_ms"]),
        ("total blocking time, navigation to first result", startup["total_blocking_ms"]),
        (f"longest task, face-mask webcam loop ({loops['mask_frames']} frames)", loops["mask_longest_task_ms"]),
        (f"longest task, segment & stylize webcam loop ({loops['style_frames']} frames)",
         loops["style_longest_task_ms"]),
    ])
    soaked = mask["soak"]
    print_rows(f"soak: {soaked['frames']} whole frames (pipeline and drawing)", [
        ("tf.js tensors before", soaked["tensors_before"], ""),
        ("tf.js tensors after", soaked["tensors_after"], ""),
        ("JS heap before (after warm-up)", soaked["heap_before"] / 1e6, "MB"),
        ("JS heap after", soaked["heap_after"] / 1e6, "MB"),
        ("JS heap growth", 100 * soaked["heap_growth"], "%"),
        ("mean frame", soaked["frame_ms"]),
    ])
    print_rows(f"segment & stylize, {style['width']}×{style['height']}, style at {style['style_side']} px, "
               f"{style['segmenter']} + {style['style']}, {style['frames']} frames", [
        ("the two models alone: predict + wait", style["models_ms"]),
        ("whole pipeline, capture to drawn", style["pipeline_ms"]),
        *((f"  stage: {name}", ms) for name, ms in style["stages_ms"].items()),
        ("overhead beyond the models", 100 * style["overhead"], "%"),
    ])


def bench_chart(figures: dict, out: Path) -> None:
    """The bench figures as one PNG: face-mask frame times, start-up phases on a timeline, segment &
    stylize by stage."""
    import matplotlib  # noqa: PLC0415 — installed by ensure_dev_env

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    mask, style = figures["face_mask"], figures["segment_style"]
    fig, (frame_ax, start_ax, style_ax) = plt.subplots(3, 1, figsize=(11, 15), layout="constrained",
                                                       height_ratios=(1, 4, 1))
    fig.suptitle(f"PyLens bench: {figures['browser']}, {figures['backend']} backend\n{figures['machine']}",
                 fontsize=10)

    names = ["model: predict + readback", "Python pipeline (the app)", "plain JavaScript pipeline"]
    values = [mask["predict_ms"], mask["python_pipeline_ms"], mask["js_pipeline_ms"]]
    bars = frame_ax.barh(names, values, color=["#999999", "#3776ab", "#f0db4f"])
    frame_ax.bar_label(bars, fmt="%.1f ms", padding=3)
    frame_ax.invert_yaxis()
    frame_ax.set_title(f"face-mask detection, one frame (median of {mask['frames']})", fontsize=10)
    frame_ax.set_xlabel("ms")

    def stacked(ax, rows: list[tuple[str, dict]]) -> None:
        """One bar per row, split into its parts; a part of the same name has the same colour."""
        palette, colors = iter(plt.get_cmap("tab20").colors), {}
        for row, (label, parts) in enumerate(rows):
            left = 0.0
            for name, ms in parts.items():
                new = name not in colors
                if new:
                    colors[name] = next(palette)
                ax.barh(label, ms, left=left, color=colors[name], label=name if new else None)
                left += ms
            ax.text(left, row, f" {left:.0f} ms", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("ms")
        ax.margins(x=0.12)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))

    def timeline(ax, runs: list[tuple[str, dict]]) -> None:
        """Each run's phases as bars from their start to their end, one row each (phases overlap),
        and a line at the run's first result."""
        palette, colors, labels = iter(plt.get_cmap("tab20").colors), {}, []
        for run_label, run in runs:
            first_row = len(labels)
            for name, (start, end) in run["phases"].items():
                if name not in colors:
                    colors[name] = next(palette)
                ax.barh(len(labels), end - start, left=start, color=colors[name])
                labels.append(f"{run_label}: {name}")
            ax.vlines(run["ms"], first_row - 0.4, len(labels) - 0.6, colors="black", linestyles="dashed", lw=0.8)
            ax.text(run["ms"], first_row, f" {run['ms']:.0f} ms", va="center", fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("ms after navigation")
        ax.margins(x=0.08)

    floor = figures["startup"]["runtime_floor_ms"]
    timeline(start_ax, [("app, first visit", mask["cold_start"]),
                        ("built site, second visit", mask["cached_start"]),
                        ("built site, third visit", mask["cached_third_start"]),
                        ("plain JavaScript", mask["js_cold_start"]),
                        ("runtime floor", {"ms": floor, "phases": {"Pyodide, numpy and Pillow alone": [0.0, floor]}})])
    start_ax.set_title(f"start-up: navigation to the first result (median of {mask['cold_runs']}); "
                       f"a photo given to the page is on screen after {figures['startup']['interactive_ms']:.0f} ms",
                       fontsize=10)
    stacked(style_ax, [("whole pipeline", style["stages_ms"]),
                       ("the two models alone", {"segmentation + style models": style["models_ms"]})])
    style_ax.set_title(f"segment & stylize, {style['width']}×{style['height']}, style at {style['style_side']} px "
                       f"(median of {style['frames']})", fontsize=10)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def cmd_bench(args: argparse.Namespace) -> int:
    ensure_dev_env()
    pyodide_dist = prepare_site(self_host=True)
    site = BUILD / "bench-site"
    build_site(site, pyodide_dist)
    with (serving(routes(pyodide_dist)) as url, serving(routes(pyodide_dist), isolated=False) as not_isolated,
          serving([("/pylens/", site)], isolated=False) as built_site):  # as a GitHub Pages project site
        figures = run_bench(args, url, not_isolated, built_site + "pylens/")
    print_bench(figures)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    write_atomically(results / "bench.json", (json.dumps(figures, indent=2) + "\n").encode())
    bench_chart(figures, results / "bench.png")
    log(f"wrote {results / 'bench.json'} and {results / 'bench.png'}")
    if args.json:
        print(json.dumps(figures))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="set up and serve the app")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=cmd_serve)
    build = sub.add_parser("build", help="write the static site, for GitHub Pages or any static host")
    build.add_argument("--self-host", action="store_true",
                       help="include Pyodide, so that the site makes no request to another origin")
    build.add_argument("--out", default=str(DIST), metavar="DIR", help="default dist/")
    build.set_defaults(run=cmd_build)
    sub.add_parser("models", help="fetch, verify and convert the models").set_defaults(run=cmd_models)
    sub.add_parser("pyodide", help="fetch and verify a self-hosted Pyodide").set_defaults(run=cmd_pyodide)
    test = sub.add_parser("test", help="set up and run every test (further arguments go to pytest)")
    test.set_defaults(run=cmd_test)
    detect = sub.add_parser("detect", help="detect faces with and without masks; one JSON line per image")
    detect.add_argument("--backend", choices=BACKENDS)
    detect.add_argument("images", nargs="+", metavar="IMAGE")
    detect.set_defaults(run=cmd_detect)
    segment = sub.add_parser("segment", help="person mask of an image as an 8-bit PNG (probability × 255)")
    segment.add_argument("--backend", choices=BACKENDS)
    segment.add_argument("--model", choices=("selfie", "meet"), default="selfie")
    segment.add_argument("image", metavar="IMAGE")
    segment.add_argument("--out", required=True, metavar="MASK.png")
    segment.set_defaults(run=cmd_segment)
    stylize = sub.add_parser("stylize", help="an image in one of the six styles, whole or by person mask")
    stylize.add_argument("--backend", choices=BACKENDS)
    stylize.add_argument("--style", required=True, metavar="NAME",
                         help="la_muse, rain_princess, scream, udnie, wave or wreck (the style cards)")
    stylize.add_argument("--mask", choices=("person", "background"))
    stylize.add_argument("--max-side", type=int, default=1024, metavar="N",
                         help="style transfer runs at the image's size up to N pixels on the long side")
    stylize.add_argument("image", metavar="IMAGE")
    stylize.add_argument("--out", required=True, metavar="OUT.png")
    stylize.set_defaults(run=cmd_stylize)
    bench = sub.add_parser("bench", help="time both pipelines against their models alone, in Chromium")
    bench.add_argument("--backend", choices=BACKENDS, default="wasm")
    bench.add_argument("--frames", type=int, default=100, help="face-mask frames")
    bench.add_argument("--style-frames", type=int, default=20, help="segment-and-stylize frames")
    bench.add_argument("--soak", type=int, default=1000, help="face-mask frames of the soak")
    bench.add_argument("--cold-runs", type=int, default=3, help="fresh-browser start-ups of each page (median)")
    bench.add_argument("--loop-seconds", type=float, default=20,
                       help="how long each view's webcam loop runs while the main thread is watched")
    bench.add_argument("--results", default=str(ROOT / "results"), metavar="DIR",
                       help="where to write bench.json and bench.png (default results/)")
    bench.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    bench.set_defaults(run=cmd_bench)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        return args.run(args)
    except SetupError as exc:
        log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
