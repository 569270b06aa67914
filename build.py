#!/usr/bin/env python3
"""PyLens task runner. Runs with a plain python3 (3.11+, standard library only at import time)
and sets up what each command needs.

    python3 build.py serve [--port N]                  set up, then serve the app on http://localhost:N
    python3 build.py test [PYTEST ARGS]                set up, then run ruff and every test
    python3 build.py models                            fetch, verify and convert the models of models/*.toml
    python3 build.py pyodide                           fetch and verify a self-hosted Pyodide
    python3 build.py detect [--backend B] IMAGE...     face-mask detection in headless Chromium, JSON lines
    python3 build.py segment [--backend B] [--model selfie|meet] IMAGE --out MASK.png
    python3 build.py stylize [--backend B] --style NAME [--mask person|background] [--max-side N] IMAGE --out OUT.png
    python3 build.py bench [--backend B] [--frames N] [--style-frames N] [--json]
                                                       time both pipelines against their models alone

Environment:
    PYODIDE_DIST   a local Pyodide distribution to self-host instead of the CDN (tests always self-host)
    MODEL_MIRROR   a folder holding each card's source files under its `mirror` folder, instead of upstream
    IMAGE_MIRROR   a folder holding the demo photos of site/demos.toml by file name, instead of upstream
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
import shutil
import subprocess
import sys
import tempfile
import threading
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
    """The demo photo that style thumbnails are made from (the first of site/demos.toml)."""
    return tomllib.loads((ROOT / "site" / "demos.toml").read_text())["demos"][0]


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
    """Fetch the demo photos listed in site/demos.toml, verified by sha256."""
    mirror = os.environ.get("IMAGE_MIRROR")
    for demo in tomllib.loads((ROOT / "site" / "demos.toml").read_text())["demos"]:
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
    ]
    if pyodide_dist is not None:
        table.append(("/pyodide/", pyodide_dist))
    table.append(("/", ROOT / "site"))
    return table


def pyscript_config(self_hosted: bool) -> bytes:
    """site/pyscript.toml, pointed at the self-hosted Pyodide when there is one."""
    text = (ROOT / "site" / "pyscript.toml").read_text()
    if self_hosted:
        text = 'interpreter = "./pyodide/pyodide.mjs"\n' + text
    return text.encode()


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

    def __init__(self, *args, table: list[tuple[str, Path]], quiet: bool, **kwargs):
        self.table = table
        self.quiet = quiet
        super().__init__(*args, directory=str(ROOT / "site"), **kwargs)

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
        if self.path.split("?", 1)[0] == "/pyscript.toml":
            body = pyscript_config(any(p == "/pyodide/" for p, _ in self.table))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if not self.quiet:
            super().log_message(format, *args)


def make_server(port: int, table: list[tuple[str, Path]], quiet: bool = False) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(SiteHandler, table=table, quiet=quiet)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


@contextlib.contextmanager
def serving(table: list[tuple[str, Path]]) -> Iterator[str]:
    """Serve a route table on a free local port in a background thread; yields its base URL."""
    server = make_server(0, table, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


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

@functools.cache
def playwright():
    """The process's one Playwright driver (its sync API allows one per thread); stopped at exit."""
    import atexit  # noqa: PLC0415

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 — installed by ensure_dev_env

    driver = sync_playwright().start()
    atexit.register(driver.stop)
    return driver


class HeadlessApp:
    """The real page, in headless Chromium, driven through the API the Python app puts on `window.pylens`."""

    READY_TIMEOUT_MS = 180_000

    def __init__(self, base_url: str, backend: str | None = None, chromium_args: tuple[str, ...] = (),
                 permissions: tuple[str, ...] = (), fail_on_error: bool = True, init_script: str | None = None):
        self.browser = playwright().chromium.launch(
            executable_path=find_chromium(), headless=True, args=[*CHROMIUM_FLAGS, *chromium_args])
        self.context = self.browser.new_context(permissions=list(permissions), accept_downloads=True)
        if init_script:
            self.context.add_init_script(init_script)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda msg: self.console.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console.append(str(exc)))
        try:
            self.page.goto(base_url + (f"?backend={backend}" if backend else ""))
            self.page.wait_for_function("window.pylens && (window.pylens.ready || window.pylens.error)",
                                        timeout=self.READY_TIMEOUT_MS)
        except Exception:
            self.close()  # a page that never became ready must not leave its browser running
            raise
        self.error = self.page.evaluate("window.pylens.error || null")
        if self.error and fail_on_error:
            self.close()
            raise SetupError(f"the app did not start: {self.error}")

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
    ensure_models()
    ensure_demos()
    return ensure_pyodide() if self_host else None


# ---------------------------------------------------------------- commands

def cmd_serve(args: argparse.Namespace) -> int:
    pyodide_dist = prepare_site(self_host=bool(os.environ.get("PYODIDE_DIST")))
    server = make_server(args.port, routes(pyodide_dist))
    where = "self-hosted from " + str(pyodide_dist) if pyodide_dist else "from its CDN"
    log(f"serving on http://localhost:{server.server_address[1]}/ (Pyodide {where}); Ctrl+C stops")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
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
        for image in args.images:
            try:
                data = Path(image).read_bytes()
            except OSError as exc:
                result = {"error": f"{image} cannot be read: {exc.strerror}."}
            else:
                result = app.detect(data, Path(image).name)
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


def cmd_bench(args: argparse.Namespace) -> int:
    ensure_dev_env()
    pyodide_dist = prepare_site(self_host=True)
    image = BUILD / "demos" / "aizoo_demo.jpg"
    with serving(routes(pyodide_dist)) as url, HeadlessApp(url, args.backend) as app:
        app.detect(image.read_bytes(), image.name)
        browser = f"Chromium {app.browser.version}"
        mask = json.loads(app.page.evaluate("n => window.pylens.benchFaceMask(n)", args.frames))
        app.detect(*bench_picture())
        app.page.evaluate("window.pylens.showView('style')")
        style = json.loads(app.page.evaluate("n => window.pylens.benchSegmentStyle(n)", args.style_frames))
    print_rows(f"face-mask, {image.name}, {mask['frames']} frames, backend {mask['backend']}, {browser}", [
        ("model: predict + readback", mask["predict_ms"]),
        ("Python pipeline, whole frame", mask["python_pipeline_ms"]),
        ("  of which post-processing (readback, decode, NMS)", mask["postprocess_ms"]),
        *((f"  stage: {name}", ms) for name, ms in mask["stages_ms"].items()),
        ("pipeline / model", mask["python_pipeline_ms"] / mask["predict_ms"], ""),
    ])
    style["overhead"] = style["pipeline_ms"] / style["models_ms"] - 1
    print_rows(f"segment & stylize, {style['width']}×{style['height']}, style at {style['style_side']} px, "
               f"{style['segmenter']} + {style['style']}, {style['frames']} frames", [
        ("the two models alone: predict + wait", style["models_ms"]),
        ("whole pipeline, capture to drawn", style["pipeline_ms"]),
        *((f"  stage: {name}", ms) for name, ms in style["stages_ms"].items()),
        ("overhead beyond the models", 100 * style["overhead"], "%"),
    ])
    if args.json:
        print(json.dumps({"backend": mask["backend"], "browser": browser, "face_mask": mask, "segment_style": style}))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="set up and serve the app")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=cmd_serve)
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
