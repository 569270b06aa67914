"""Serving as a visitor's browser meets a static host: through a link of a named profile (one
bandwidth shared by every request, a round trip before each response and two for each new
connection, which is kept open for the next requests), with gzip and the cache headers GitHub
Pages sends, and no COOP/COEP headers. Every response is logged: when it was asked for, when its
first and last bytes left, how many bytes."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import gzip
import hashlib
import http.server
import mimetypes
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .server import SiteHandler

# Types GitHub Pages (its CDN) sends gzipped when the browser accepts it; the rest (images, wheels,
# zips, the models' weights) go as they are.
COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "application/wasm", "image/svg+xml")
CHUNK = 16 * 1024
CACHE_CONTROL = "max-age=600"  # as GitHub Pages sends


@dataclass
class Link:
    """One network path between the browser and the host: `down_mbit` megabits a second shared by
    all responses (None: no limit) and `rtt_ms` for a round trip."""
    down_mbit: float | None
    rtt_ms: float
    _free_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def round_trips(self, count: int = 1) -> None:
        time.sleep(count * self.rtt_ms / 1000)

    def carry(self, size: int) -> None:
        """Wait until `size` more bytes have crossed the link, behind those already on it."""
        if self.down_mbit is None:
            return
        with self._lock:
            now = time.monotonic()
            self._free_at = max(self._free_at, now) + size * 8 / (self.down_mbit * 1e6)
            done = self._free_at
        time.sleep(max(0.0, done - now))


# The links `build.py bench` can measure a visitor's start over: name -> Link's figures.
PROFILES = {
    "broadband": {"down_mbit": 20, "rtt_ms": 40},
    "unthrottled": {"down_mbit": None, "rtt_ms": 0},
    "mobile": {"down_mbit": 5, "rtt_ms": 100},  # a fair 4G signal: the first visit's bytes take 20 s
}
DEFAULT_PROFILES = ("broadband", "unthrottled")  # what it measures unless told


@dataclass
class Response:
    path: str
    asked: float  # time.monotonic() when the request had arrived
    first_byte: float
    last_byte: float
    size: int  # bytes of the body on the wire (gzipped, when it was)
    status: int


class StaticHostHandler(SiteHandler):
    cache_control = CACHE_CONTROL
    protocol_version = "HTTP/1.1"  # connections kept alive: a host's handshakes are not paid per file

    def __init__(self, *args, link: Link, log: list[Response], **kwargs):
        self.link = link
        self.log = log
        self.asked = 0.0
        super().__init__(*args, **kwargs)

    def handle(self) -> None:
        self.link.round_trips(2)  # a new connection: TCP's handshake, then TLS 1.3's
        super().handle()

    def parse_request(self) -> bool:
        self.asked = time.monotonic()
        return super().parse_request()

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.link.round_trips()
            first_byte = time.monotonic()
            self.send_error(404)
            self.log.append(Response(self.path, self.asked, first_byte, time.monotonic(), 0, 404))
            return
        body, etag = file_body(path)
        content_type = type_of(path)
        gzipped = content_type.startswith(COMPRESSED_TYPES) and "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzipped_body(path)
        self.link.round_trips()  # the request's way up and the response's first byte's way down
        first_byte = time.monotonic()
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            self.log.append(Response(self.path, self.asked, first_byte, time.monotonic(), 0, 304))
            return
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        self.send_header("Vary", "Accept-Encoding")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        for start in range(0, len(body), CHUNK):
            chunk = body[start:start + CHUNK]
            self.link.carry(len(chunk))
            self.wfile.write(chunk)
        self.log.append(Response(self.path, self.asked, first_byte, time.monotonic(), len(body), 200))


@functools.lru_cache(maxsize=512)
def _read(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, f'"{hashlib.sha1(body).hexdigest()}"'


@functools.lru_cache(maxsize=512)
def _gzip(path: Path, mtime_ns: int) -> bytes:
    return gzip.compress(_read(path, mtime_ns)[0], compresslevel=6, mtime=0)


def type_of(path: Path) -> str:
    """The Content-Type the development server sends for a file, the host's too."""
    known = SiteHandler.extensions_map.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return known or "application/octet-stream"


def file_body(path: Path) -> tuple[bytes, str]:
    """A file's bytes and its entity tag, read once while it is unchanged."""
    return _read(path, path.stat().st_mtime_ns)


def gzipped_body(path: Path) -> bytes:
    return _gzip(path, path.stat().st_mtime_ns)


@contextlib.contextmanager
def static_hosting(table: list[tuple[str, Path]], link: Link,
                   compress_first: tuple[Path, ...] = ()) -> Iterator[tuple[str, list[Response]]]:
    """Serve a route table as a static host through `link`, on a free local port in a background
    thread; yields its base URL and the log of its responses. The files under `compress_first`
    are gzipped before serving begins (a host has them ready; gzipping a 10 MB file takes a second)."""
    for folder in compress_first:
        for path in folder.rglob("*"):
            if path.is_file() and type_of(path).startswith(COMPRESSED_TYPES):
                gzipped_body(path)
    log: list[Response] = []
    handler = functools.partial(StaticHostHandler, table=table, quiet=True, isolated=False, watch=(), link=link,
                                log=log)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", log
    finally:
        server.shutdown()
        server.server_close()
