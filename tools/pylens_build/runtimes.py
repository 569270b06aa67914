"""What the commands run on, set up once and kept: Pyodide, PyScript and tf.js from npm, tf.js
bundled, the Python environments, Chromium."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .fetch import fetch_verified, read_source, sha256_of, write_atomically
from .project import BUILD, NODE_MODULES, PYODIDE, PYPROJECT, ROOT, VENV, SetupError, log


def check_lock(data: bytes, origin: str) -> None:
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
        check_lock(lock.read_bytes(), str(lock))
        return dist
    dist = BUILD / "pyodide" / PYODIDE["version"]
    for name, sha in PYODIDE["sha256"].items():
        fetch_verified(dist / name, sha, PYODIDE["cdn"] + name)
    lock = dist / "pyodide-lock.json"
    if not lock.is_file():  # a lock on disk was written only after passing the check
        data, origin = read_source(PYODIDE["cdn"] + "pyodide-lock.json", None)
        check_lock(data, origin)
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


def bundle_module(entry: Path, out: Path, *options: str) -> None:
    """An ES module and what it imports as one ES module for the browser (esbuild)."""
    subprocess.run([str(NODE_MODULES / ".bin" / "esbuild"), str(entry), "--bundle", "--format=esm",
                    "--platform=browser", "--log-level=warning", *options, f"--outfile={out}"],
                   cwd=ROOT, check=True)


def ensure_tfjs_bundle() -> None:
    """tf.js as one ES module (TFJS_ENTRY bundled by esbuild), remade when the entry or the pins change."""
    stamp = TFJS_BUNDLE.with_name(".tfjs.stamp")
    wanted = hashlib.sha256(TFJS_ENTRY.read_bytes() + (ROOT / "package-lock.json").read_bytes()).hexdigest()
    if TFJS_BUNDLE.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return
    log("bundling tf.js (esbuild)…")
    TFJS_BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    part = TFJS_BUNDLE.with_name(TFJS_BUNDLE.name + ".part")
    bundle_module(TFJS_ENTRY, part, "--minify")
    os.replace(part, TFJS_BUNDLE)
    stamp.write_text(wanted)


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
