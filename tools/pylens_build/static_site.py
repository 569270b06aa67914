"""The static site (`build.py build`): every file the page loads, every URL relative, stamped with
its version for the service worker."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

from .models import model_cards
from .project import BUILD, NODE_MODULES, PYODIDE, ROOT, SetupError
from .runtimes import TFJS_BUNDLE
from .server import pyscript_config

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
    for package in sorted({module.parent for module in (ROOT / "py").rglob("*.py")}):
        copy(package, ["*.py"], package.relative_to(ROOT).as_posix())
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
