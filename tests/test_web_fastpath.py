"""The cache-hit fast path answers byte for byte as the Starlette path does, over real HTTP.

Two uvicorn servers (httptools, as ``feeds serve`` runs) share one application state: one
serves the full app (fast path first), the other only the Starlette app inside it. Each
request is sent to both as raw bytes on a socket and the raw answers are compared, with
only the Date header (the clock) taken out.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.config import Settings
from feeds.storage import Storage
from feeds.web.app import create_app
from feeds.web.cache import CachedBody, DataVersion
from feeds.web.fastpath import FastPath
from tests.servers import free_port

REPO = Path(__file__).parent.parent


class Counting:
    """Counts the requests that reach the Starlette app (those the fast path passed on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


class Server(threading.Thread):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(daemon=True)
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, http="httptools", log_level="warning"
        )
        self.server = uvicorn.Server(config)

    def run(self) -> None:
        self.server.run()

    def __enter__(self) -> Server:
        self.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.join(timeout=10)


def raw(port: int, request: bytes) -> bytes:
    """Send one request; return the whole answer with the Date header removed."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + sep + body


def request(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost:8000", *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.fixture(scope="module")
def servers(loaded: tuple[Settings, Storage]) -> Iterator[tuple[Server, Server, Counting]]:
    app = create_app(*loaded)
    inner = Counting(app.app)
    app.app = inner
    with Server(app) as fast, Server(inner) as slow:
        yield fast, slow, inner


def etags(slow: Server, target: str) -> tuple[str, str, str]:
    """(identity ETag, gzip ETag, Last-Modified) of a feed, read from the Starlette path."""
    plain = raw(slow.port, request("GET", target)).decode("latin-1")
    zipped = raw(slow.port, request("GET", target, "Accept-Encoding: gzip")).decode("latin-1")

    def header(text: str, name: str) -> str:
        return next(
            line.split(":", 1)[1].strip()
            for line in text.split("\r\n")
            if line.lower().startswith(name + ":")
        )

    return header(plain, "etag"), header(zipped, "etag"), header(plain, "last-modified")


TARGETS = ["/feeds/lupus.rss", "/feeds/all.atom?topics=lupus,car-t&limit=5", "/feeds/car-t.json"]


@pytest.mark.parametrize("target", TARGETS)
def test_fast_path_answers_are_byte_identical_to_starlettes(
    servers: tuple[Server, Server, Counting], target: str
) -> None:
    fast, slow, inner = servers
    etag, gzip_etag, modified = etags(slow, target)  # also puts the feed in the cache
    cases = [
        ("GET",),
        ("GET", "Accept-Encoding: gzip"),
        ("GET", "Accept-Encoding: gzip, deflate, br"),
        ("GET", "Accept-Encoding: gzip;q=0"),
        ("GET", "Accept-Encoding: *"),
        ("GET", "Accept-Encoding: identity", "Accept-Encoding: gzip"),  # the first counts
        ("HEAD",),
        ("HEAD", "Accept-Encoding: gzip"),
        ("GET", f"If-None-Match: {etag}"),
        ("GET", "Accept-Encoding: gzip", f"If-None-Match: {gzip_etag}"),
        ("GET", "Accept-Encoding: gzip", f"If-None-Match: W/{gzip_etag}"),
        ("GET", f'If-None-Match: "nope", {etag}'),
        ("GET", 'If-None-Match: "nope"'),
        ("GET", "If-None-Match: *"),
        ("HEAD", f"If-None-Match: {etag}"),
        ("GET", f"If-Modified-Since: {modified}"),
        ("GET", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"),
        ("GET", "If-Modified-Since: garbage"),
        ("GET", 'If-None-Match: "nope"', f"If-Modified-Since: {modified}"),
        ("GET", "Origin: https://partner.example"),
        ("GET", "Accept-Encoding: gzip", "Origin: https://partner.example"),
    ]
    for method, *headers in cases:
        before = inner.calls
        answer = raw(fast.port, request(method, target, *headers))
        assert inner.calls == before, f"{method} {headers} left the fast path"
        assert answer == raw(slow.port, request(method, target, *headers)), (method, headers)
        status = answer.split(b" ", 2)[1]
        assert status in (b"200", b"304")


def test_fast_path_passes_misses_and_other_requests_to_starlette(
    servers: tuple[Server, Server, Counting],
) -> None:
    fast, slow, inner = servers
    for method, target in [
        ("GET", "/feeds/oncology.rss?limit=3"),  # not cached yet: a miss
        ("GET", "/feeds/nope.rss"),  # 404
        ("GET", "/feeds/lupus.rss?limit=abc"),  # 400
        ("POST", "/feeds/lupus.rss"),  # 405
        ("OPTIONS", "/feeds/lupus.rss"),
    ]:
        before = inner.calls
        answer = raw(fast.port, request(method, target))
        assert inner.calls == before + 1, (method, target)
        assert answer == raw(slow.port, request(method, target))
    raw(fast.port, request("GET", "/feeds/oncology.rss?limit=3"))  # now cached: a hit
    before = inner.calls
    raw(fast.port, request("GET", "/feeds/oncology.rss?limit=3"))
    assert inner.calls == before


def test_fast_path_hits_are_counted_in_the_request_metrics(
    servers: tuple[Server, Server, Counting],
) -> None:
    fast, _slow, inner = servers
    raw(fast.port, request("GET", "/feeds/oncology.atom"))  # cached by Starlette

    def counted() -> tuple[float, float]:
        text = raw(fast.port, request("GET", "/metrics")).decode()
        wanted = 'feeds_http_requests_total{route="/feeds/{slug}.{format}",status="200"} '
        hits = 'feeds_render_cache_total{result="hit"} '
        values = [
            float(line.rsplit(" ", 1)[1])
            for prefix in (wanted, hits)
            for line in text.splitlines()
            if line.startswith(prefix)
        ]
        return values[0], values[1]

    requests_before, hits_before = counted()
    calls = inner.calls
    for _ in range(5):
        raw(fast.port, request("GET", "/feeds/oncology.atom", "Accept-Encoding: gzip"))
    assert inner.calls == calls  # all five on the fast path
    requests_after, hits_after = counted()
    assert requests_after - requests_before == 5
    assert hits_after - hits_before == 5


def test_with_explicit_cors_origins_a_request_with_origin_takes_the_starlette_path(
    loaded: tuple[Settings, Storage],
) -> None:
    settings, storage = loaded
    web = settings.web.model_copy(update={"cors_origins": ("https://partner.example",)})
    app: FastPath = create_app(settings.model_copy(update={"web": web}), storage)
    inner = Counting(app.app)
    app.app = inner
    with Server(app) as fast, Server(inner) as slow:
        raw(fast.port, request("GET", "/feeds/lupus.rss"))
        for origin in ("https://partner.example", "https://other.example"):
            calls = inner.calls
            answer = raw(fast.port, request("GET", "/feeds/lupus.rss", f"Origin: {origin}"))
            assert inner.calls == calls + 1
            assert answer == raw(slow.port, request("GET", "/feeds/lupus.rss", f"Origin: {origin}"))
            allowed = f"access-control-allow-origin: {origin}".encode() in answer
            assert allowed == (origin == "https://partner.example")
            assert b"vary: Accept-Encoding, Origin" in answer
        calls = inner.calls
        assert b"vary: Accept-Encoding, Origin" in raw(
            fast.port, request("GET", "/feeds/lupus.rss")
        )
        assert inner.calls == calls  # no Origin: the fast path answers


def test_while_a_feed_renders_anew_both_paths_serve_its_previous_body(
    loaded: tuple[Settings, Storage],
) -> None:
    settings, storage = loaded
    app: FastPath = create_app(settings, storage)
    state = app.state.feeds
    inner = Counting(app.app)
    app.app = inner
    moved = [storage.versions()]
    state.version = DataVersion(lambda: moved[0], ttl=3600)
    with Server(app) as fast, Server(inner) as slow:
        before = raw(slow.port, request("GET", "/feeds/lupus.rss"))  # rendered and cached
        release = threading.Event()

        def held(version: tuple[int, ...]) -> CachedBody:
            assert release.wait(10)
            raise AssertionError("never served: the test ends before")

        moved[0] = (moved[0][0] + 1, moved[0][1])  # a write elsewhere
        state.version.current()
        # The first request after the change starts a render that does not finish...
        starter = asyncio.run(
            state.renderer.after_miss("/feeds/lupus.rss?", moved[0][:1], held, state.version)
        )
        try:
            calls = inner.calls
            fast_answer = raw(fast.port, request("GET", "/feeds/lupus.rss"))
            assert inner.calls == calls  # answered on the fast path
            # ...and everybody gets the previous body meanwhile, on either path.
            assert fast_answer == raw(slow.port, request("GET", "/feeds/lupus.rss")) == before
            assert starter.body in before
        finally:
            release.set()
