"""The development and test server: the route table that serves the app from the source tree, with
cross-origin isolation, live editing and Content Security Policy reports."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .project import BUILD, NODE_MODULES, PYODIDE, ROOT
from .runtimes import TFJS_BUNDLE
from .site_runtime import ensure_site_runtime


def routes(pyodide_dist: Path | None, models: Path = BUILD / "models", source: Path = ROOT) -> list[tuple[str, Path]]:
    """URL prefix -> folder, first match wins. The same layout serves development and tests;
    `source` holds py/, site/ and the model cards (models/*.toml)."""
    table = [
        ("/py/", source / "py"),
        ("/models/", source / "models"),
        ("/models/", models),
        ("/demos/", BUILD / "demos"),
        ("/vendor/pyscript/", NODE_MODULES / "@pyscript/core/dist"),
        ("/vendor/tfjs/", NODE_MODULES / "@tensorflow/tfjs/dist"),
        ("/vendor/tfjs-backend-wasm/", NODE_MODULES / "@tensorflow/tfjs-backend-wasm/dist"),
        ("/vendor/tfjs-backend-webgpu/", NODE_MODULES / "@tensorflow/tfjs-backend-webgpu/dist"),
        ("/vendor/ort/", NODE_MODULES / "onnxruntime-web/dist"),
        ("/vendor/", TFJS_BUNDLE.parent),
    ]
    if pyodide_dist is not None:  # the verified Pyodide, as the site serves it
        table.append(("/pyodide/", ensure_site_runtime(pyodide_dist)))
    table.append(("/", source / "site"))
    return table


def pyscript_config(self_hosted: bool) -> bytes:
    """site/pyscript.toml with its `interpreter`: site/start.mjs, which starts the self-hosted Pyodide,
    or else the pinned Pyodide on its CDN."""
    text = (ROOT / "site" / "pyscript.toml").read_text()
    pyodide = "./pyodide/" if self_hosted else PYODIDE["cdn"]
    # Ending in .mjs, as PyScript wants an interpreter module's URL to end.
    return f'interpreter = "./start.mjs?pyodide={pyodide}pyodide.mjs"\n{text}'.encode()


# Live editing, added to the page by the development server only (see live-edit.js and py/live.py).
LIVE_EDIT_JS = Path(__file__).with_name("live-edit.js")
LIVE_EDIT_TAG = f'<script type="module" src="./{LIVE_EDIT_JS.name}"></script>'
WATCH_EVERY_S = 0.1


def watched(source: Path = ROOT) -> tuple[Path, ...]:
    """The folders whose files live editing watches."""
    return (source / "py", source / "site", source / "models")


POLICY_REPORTS = "/__policy-reports"  # where the browser posts Content Security Policy violations


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    cache_control = "no-cache"  # edited files are never taken from the browser's cache
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
            self.send_body(page.replace("</head>", f"{LIVE_EDIT_TAG}</head>", 1).encode(), "text/html; charset=utf-8")
        elif self.watch and path == f"/{LIVE_EDIT_JS.name}":
            self.send_body(LIVE_EDIT_JS.read_bytes(), "text/javascript")
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
        """Server-sent events: a `change` event for each save, its data the paths of the files added,
        edited or removed (as py/boxes.py), once they have settled (an editor may write in steps)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        state, idle = tree_state(self.watch), 0.0
        with contextlib.suppress(OSError):  # the page went away
            while True:
                time.sleep(WATCH_EVERY_S)
                now = tree_state(self.watch)
                if now == state:
                    idle += WATCH_EVERY_S
                    if idle >= 15:  # a comment now and then finds a closed connection
                        self.wfile.write(b": waiting\n\n")
                        self.wfile.flush()
                        idle = 0.0
                    continue
                while (settled := tree_state(self.watch)) != now:
                    now = settled
                    time.sleep(WATCH_EVERY_S)
                changed = sorted(path for path in state.keys() | now.keys() if state.get(path) != now.get(path))
                self.wfile.write(f"event: change\ndata: {json.dumps(changed)}\n\n".encode())
                self.wfile.flush()
                state, idle = now, 0.0

    def end_headers(self) -> None:
        self.send_header("Cache-Control", self.cache_control)
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


def tree_state(folders: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Every file under the folders (hidden ones and caches aside), as folder/path, with its
    modification time and size."""
    state = {}
    for folder in folders:
        for path in folder.rglob("*"):
            parts = path.relative_to(folder).parts
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in parts):
                stat = path.stat()
                state["/".join((folder.name, *parts))] = (stat.st_mtime_ns, stat.st_size)
    return state


def make_server(port: int, table: list[tuple[str, Path]], quiet: bool = False, isolated: bool = True,
                watch: tuple[Path, ...] = (), policy_reports: list | None = None) -> http.server.ThreadingHTTPServer:
    """A server of the route table; `isolated` sends COOP/COEP; `watch` turns on live editing of
    the files under those folders; `policy_reports` collects the reports of
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
