"""A real HTTP server on 127.0.0.1 that serves tests/data/ the ways real publishers do.

Routes (NAME is a file in tests/data/):
  /feeds/NAME            the file, explicit Content-Type, ETag + Last-Modified, 304 on match
  /gzip/NAME             the file gzip-encoded (Content-Encoding: gzip)
  /br/NAME               the file brotli-encoded (Content-Encoding: br)
  /wrong-type/NAME       the file served as text/plain
  /no-type/NAME          the file with no Content-Type at all
  /redirect/CODE/NAME    a CODE redirect to /feeds/NAME
  /loop                  a redirect to itself
  /status/CODE           an empty answer with that status
  /retry/CODE/VALUE      CODE (429, 503) with Retry-After: VALUE (seconds, or "date" for
                         an HTTP-date 2 hours after the response's Date)
  /cached/NAME           the file with Cache-Control: max-age=7200 and an Expires header
  /slow/NAME             the file dripped in small pieces, one every 0.2 s
  /big/N                 N bytes of XML comment (no Content-Length: chunked)
  /bomb/N                gzip of N zero bytes (a small body that inflates to N)
  /empty                 200 with an empty body
  /reset/NAME            headers and half the file, then a TCP reset (RST)
  /custom/PATH           bytes set by the test with ``server.put(PATH, body)``
  /held/PATH             the same bytes, but only once ``server.released`` is set (until then
                         the request hangs: a fetch a test can catch in flight)
  /goto/URL              a 302 redirect to URL (percent-encoded in the path)
  /redirect-file/NAME    a 302 redirect to the URL written in hostile/NAME
  /declared/N            Content-Length: N (say 1 GB), then 64 KiB and a hang-up
  /endless               a chunked body that never ends (until the client hangs up)
  /endless-slow          the same, one small chunk every 0.1 s
  /bomb-stream/N         gzip of N zero bytes, compressed while it is sent (N may be 1 GB)
  /br-bomb/N             brotli of N zero bytes (1 GB is about 1.5 KB: one network read)
  /flood/N               RSS 2.0 with N items, oldest first (item i is i minutes newer)
  /odd-validators/NAME   the file with an ETag and Last-Modified that are not ASCII
  /canary/PATH           a marker text; a hit here means something was fetched that must not be
Every request's path and headers are recorded in ``server.requests``.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import gzip
import hashlib
import itertools
import socket
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import brotli

DATA = Path(__file__).parent / "data"
CANARY = b"CANARY-3f9c2a: fetched by something that must never fetch it"
LAST_MODIFIED = "Mon, 15 Jan 2024 10:00:00 GMT"
TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".html": "text/html; charset=utf-8",
}


@dataclass
class Recorded:
    """One request the server saw."""

    path: str
    headers: dict[str, str]
    started: float = 0.0  # time.monotonic() when the request arrived


@dataclass
class FeedServer:
    """Handle to the running server."""

    port: int
    requests: list[Recorded] = field(default_factory=list)
    custom: dict[str, bytes] = field(default_factory=dict)
    released: threading.Event = field(default_factory=threading.Event)
    host: str = "127.0.0.1"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def put(self, path: str, body: bytes) -> str:
        """Serve ``body`` at /custom/PATH; returns its URL."""
        self.custom[path] = body
        return self.url(f"/custom/{path}")

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def requests_to_prefix(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(prefix)]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append(Recorded(self.path, headers, time.monotonic()))
            # The client may give up (timeouts, size limits): expected in these tests.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._route()

        def _route(self) -> None:
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            kind, rest = parts[0], parts[1:]
            if kind == "feeds":
                self._file(rest[0])
            elif kind == "gzip":
                body = (DATA / rest[0]).read_bytes()
                self._send(200, gzip.compress(body), _type(rest[0]), {"Content-Encoding": "gzip"})
            elif kind == "br":
                body = brotli.compress((DATA / rest[0]).read_bytes())
                self._send(200, body, _type(rest[0]), {"Content-Encoding": "br"})
            elif kind == "wrong-type":
                self._send(200, (DATA / rest[0]).read_bytes(), "text/plain")
            elif kind == "no-type":
                self._send(200, (DATA / rest[0]).read_bytes(), None)
            elif kind == "redirect":
                self._send(int(rest[0]), b"", None, {"Location": f"/feeds/{rest[1]}"})
            elif kind == "loop":
                self._send(302, b"", None, {"Location": "/loop"})
            elif kind == "status":
                self._send(int(rest[0]), b"", None)
            elif kind == "retry":
                now = time.time()
                value = rest[1]
                if value == "date":
                    value = email.utils.formatdate(now + 7200, usegmt=True)
                headers = {"Retry-After": value, "Date": email.utils.formatdate(now, usegmt=True)}
                self._send(int(rest[0]), b"", None, headers)
            elif kind == "cached":
                now = time.time()
                headers = {
                    "Cache-Control": "public, max-age=7200",
                    "Date": email.utils.formatdate(now, usegmt=True),
                    "Expires": email.utils.formatdate(now + 600, usegmt=True),
                }
                self._send(200, (DATA / rest[0]).read_bytes(), _type(rest[0]), headers)
            elif kind == "slow":
                self._slow(rest[0])
            elif kind == "big":
                self._chunked(b"<!--" + b"x" * (int(rest[0]) - 7) + b"-->", "application/xml")
            elif kind == "bomb":
                body = gzip.compress(b"\0" * int(rest[0]))
                self._send(200, body, "application/xml", {"Content-Encoding": "gzip"})
            elif kind == "reset":
                body = (DATA / rest[0]).read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", _type(rest[0]))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                # SO_LINGER with a zero timeout turns close() into a reset, not a clean FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
            elif kind == "odd-validators":
                # Sent as Latin-1 bytes (what http.server does with any str), read back by
                # httpx as "é": a value that cannot go out again in an ASCII header.
                odd = {"ETag": '"\u00e9t\u00e9"', "Last-Modified": "lundi, \u00e9t\u00e9"}
                self._send(200, (DATA / rest[0]).read_bytes(), _type(rest[0]), odd)
            elif kind == "empty":
                self._send(200, b"", "application/xml")
            elif kind == "custom":
                self._send(200, server.custom["/".join(rest)], "application/xml")
            elif kind == "held":
                server.released.wait(60)
                self._send(200, server.custom["/".join(rest)], "application/xml")
            elif kind == "goto":
                self._send(302, b"", None, {"Location": unquote("/".join(rest))})
            elif kind == "redirect-file":
                location = (DATA / "hostile" / rest[0]).read_text("utf-8").strip()
                self._send(302, b"", None, {"Location": location})
            elif kind == "declared":
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", rest[0])
                self.end_headers()
                self.wfile.write(b"<!--" + b"x" * 65536)
                self.close_connection = True
            elif kind in ("endless", "endless-slow"):
                self._endless(pause=0.1 if kind == "endless-slow" else 0.0)
            elif kind == "bomb-stream":
                self._bomb(int(rest[0]))
            elif kind == "br-bomb":
                body = brotli_bomb(int(rest[0]))
                self._send(200, body, "application/xml", {"Content-Encoding": "br"})
            elif kind == "flood":
                self._send(200, flood(int(rest[0])), "application/rss+xml")
            elif kind == "canary":
                self._send(200, CANARY, "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def _file(self, name: str) -> None:
            body = (DATA / name).read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
            if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-None-Match") is None
                and self.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                self._send(304, b"", None, validators)
                return
            self._send(200, body, _type(name), validators)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str | None,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def _slow(self, name: str) -> None:
            body = (DATA / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", _type(name))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for start in range(0, len(body), 64):
                self.wfile.write(body[start : start + 64])
                self.wfile.flush()
                time.sleep(0.2)

        def _endless(self, pause: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"<!--" + b"x" * 16384 + b"-->"
            for piece in itertools.chain([b'<rss version="2.0">'], itertools.repeat(chunk)):
                # Until the client hangs up (BrokenPipeError, caught in do_GET).
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
                if pause:
                    time.sleep(pause)

        def _bomb(self, size: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip wrapper
            zeros = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                if data := packer.compress(zeros):
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            data = packer.flush()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")

        def _chunked(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    return Handler


@functools.cache
def brotli_bomb(size: int) -> bytes:
    """Brotli of ``size`` zero bytes, compressed 1 MiB at a time (never held whole)."""
    packer = brotli.Compressor(quality=5)
    zeros = b"\0" * (1 << 20)
    parts = [packer.process(zeros) for _ in range(size >> 20)]
    tail: bytes = packer.finish()  # brotli has no type hints
    return b"".join(parts) + tail


def flood(count: int) -> bytes:
    """An RSS document of ``count`` small items, oldest first: item i is dated i minutes
    after 2024-01-01 00:00 UTC, so the newest N are the last N."""
    start = 1704067200  # 2024-01-01T00:00:00Z
    items = (
        f"<item><title>Bulletin {i}</title><guid>flood-{i}</guid>"
        f"<pubDate>{email.utils.formatdate(start + 60 * i, usegmt=True)}</pubDate></item>\n"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        "<title>Flood</title><link>https://flood.example.org/</link>"
        "<description>Many items</description>\n" + "".join(items) + "</channel></rss>\n"
    ).encode()


def _type(name: str) -> str:
    return TYPES.get(Path(name).suffix, "application/octet-stream")


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up on purpose (size limits, timeouts) are not errors here."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def start(host: str = "127.0.0.1") -> tuple[FeedServer, ThreadingHTTPServer]:
    """Start the server on a free port of ``host`` (a loopback address) in a daemon thread."""
    handle = FeedServer(port=0, host=host)
    handle.released.set()
    httpd = _QuietServer((host, 0), _handler(handle))
    httpd.daemon_threads = True
    handle.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return handle, httpd
