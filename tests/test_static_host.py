"""The static host the bench measures a visitor's start through: what it sends as GitHub Pages does,
and a link that takes a round trip per response and shares one bandwidth."""

import gzip
import http.client
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from pylens_build.static_host import Link, static_hosting


def get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", **(headers or {})})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def logged(log: list, count: int) -> list:
    """The log once it holds `count` responses (the host logs a response after its last byte is sent,
    which may be after the client has it)."""
    deadline = time.monotonic() + 5
    while len(log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return log


def test_it_sends_what_github_pages_sends(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>site</title>" * 50)
    (tmp_path / "app.mjs").write_text("export const answer = 42;\n" * 50)
    (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 40)
    with static_hosting([("/site/", tmp_path)], Link(down_mbit=None, rtt_ms=0),
                        compress_first=(tmp_path,)) as (url, log):
        status, headers, body = get(url + "site/")
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == (tmp_path / "index.html").read_bytes()
        assert headers["Cache-Control"] == "max-age=600" and headers["ETag"] and headers["Last-Modified"]
        assert "Cross-Origin-Opener-Policy" not in headers and "Cross-Origin-Embedder-Policy" not in headers
        status, headers, body = get(url + "site/app.mjs")
        assert headers["Content-Type"] == "text/javascript" and headers["Content-Encoding"] == "gzip"
        status, headers, body = get(url + "site/weights.bin")  # binary: as it is
        assert headers.get("Content-Encoding") is None and body == (tmp_path / "weights.bin").read_bytes()
        status, _, _ = get(url + "site/weights.bin", {"If-None-Match": headers["ETag"]})
        assert status == 304
        status, _, _ = get(url + "site/missing.js")
        assert status == 404
        assert [(r.path, r.status) for r in logged(log, 5)] == [
            ("/site/", 200), ("/site/app.mjs", 200), ("/site/weights.bin", 200), ("/site/weights.bin", 304),
            ("/site/missing.js", 404)]
        assert log[2].size == 256 * 40 and log[0].size == len(gzip.compress(
            (tmp_path / "index.html").read_bytes(), mtime=0))
        assert all(r.asked <= r.first_byte <= r.last_byte for r in log)


def test_the_link_takes_its_round_trips_and_shares_its_bandwidth(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"\0" * 250_000)
    (tmp_path / "b.bin").write_bytes(b"\0" * 250_000)
    link = Link(down_mbit=10, rtt_ms=100)  # 250 kB takes 0.2 s on its own
    with static_hosting([("/", tmp_path)], link) as (url, log):
        started = time.monotonic()
        get(url + "a.bin")
        # A new connection's two round trips, the request's one, and the bytes at 10 Mbit/s.
        assert time.monotonic() - started >= 0.3 + 0.2
        assert logged(log, 1)[0].first_byte - log[0].asked >= 0.1
        # Two at once share the link: both are done no sooner than the bytes of both could cross it.
        started = time.monotonic()
        both = [threading.Thread(target=get, args=(url + name,)) for name in ("a.bin", "b.bin")]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()
        assert time.monotonic() - started >= 0.4


def test_a_connection_is_kept_for_the_next_requests(tmp_path):
    (tmp_path / "a.txt").write_text("a" * 1000)
    (tmp_path / "b.txt").write_text("b" * 1000)
    with static_hosting([("/", tmp_path)], Link(down_mbit=None, rtt_ms=100)) as (url, log):
        connection = http.client.HTTPConnection(urllib.parse.urlsplit(url).netloc)
        started = time.monotonic()
        for name in ("a.txt", "b.txt", "a.txt"):
            connection.request("GET", "/" + name)
            response = connection.getresponse()
            assert response.status == 200 and response.read() == (tmp_path / name).read_bytes()
        # The handshake's two round trips once, then one round trip a request.
        assert 0.5 <= time.monotonic() - started < 0.75
        connection.close()
