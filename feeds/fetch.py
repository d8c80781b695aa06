"""Fetch a source's body: conditional HTTP GET with limits, or a local file read.

What it does: send the stored validators (If-None-Match / If-Modified-Since, RFC 9110
§13.1), turn a 304 into ``NotModified``, stream the body and stop past ``max_bytes`` (counted
after decompression, which ``feeds.inflate`` does in bounded pieces, so a small gzip or
brotli body cannot inflate without bound), follow a bounded
number of redirects, and give up on a whole request after ``deadline`` seconds (per-read
timeouts alone let a server that drips a byte at a time hold a worker for ever), and
connect only to public addresses unless the source allows private ones (``feeds.netguard``
checks every address at connect time, redirects included). Every failure becomes a
``Failed`` with one of the closed ``ErrorKind`` values, mapped in ``classify_error`` and
nowhere else.

What it does not do: parse, retry, or decide when to fetch next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpcore
import httpx

from feeds.errors import ErrorKind
from feeds.inflate import ACCEPT_ENCODING, DecodeError, Inflater
from feeds.models import CacheHints, Failed, Fetched, FetchResult, NotModified, Validators
from feeds.netguard import BlockedAddress, GuardedBackend, Policy, blocked_reason

NO_VALIDATORS = Validators()
# What a web server would send for a local file, so the parser treats both alike.
FILE_TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
}
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)


class Fetcher:
    """An HTTP client for one update run; use as ``async with Fetcher(...) as fetcher``."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 20.0,
        deadline: float = 120.0,
        max_bytes: int = 10_000_000,
        concurrency: int = 8,
        max_redirects: int = 5,
        address_policy: Policy = blocked_reason,
    ) -> None:
        """``address_policy`` says which addresses are off limits to sources that do not
        allow private ones (tests stand a loopback server in for the public internet)."""
        self._max_bytes = max_bytes
        self._deadline = deadline
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

        def client(guarded: bool) -> httpx.AsyncClient:
            return httpx.AsyncClient(
                headers={
                    "User-Agent": user_agent,
                    "Accept": ACCEPT,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                timeout=httpx.Timeout(timeout),
                # An explicit transport also means no proxy from the environment: behind a
                # proxy the guard would check the proxy's address, not the feed's.
                transport=_Transport(limits, address_policy if guarded else None),
                follow_redirects=True,
                max_redirects=max_redirects,
            )

        # Two clients, so that a connection opened for a source with allow_private is never
        # reused by the pool for a public source's redirect to the same private origin.
        self._client = client(guarded=True)
        self._private_client = client(guarded=False)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()
        await self._private_client.aclose()

    async def fetch(
        self, url: str, validators: Validators = NO_VALIDATORS, *, allow_private: bool = False
    ) -> FetchResult:
        """Fetch ``url`` (http(s) or file:) once; never raises for a bad source.

        ``allow_private``: the source may connect to loopback, private and link-local
        addresses (see ``feeds.netguard``); otherwise such a connection fails as ``blocked``.
        """
        started = time.monotonic()
        if urlsplit(url).scheme == "file":
            return await asyncio.to_thread(read_file, url, validators, self._max_bytes)
        client = self._private_client if allow_private else self._client
        try:
            async with asyncio.timeout(self._deadline):
                return await self._get(client, url, validators, started)
        except TimeoutError:
            return Failed(
                ErrorKind.TIMEOUT,
                f"fetch: no complete response within {self._deadline:g} s",
                elapsed=time.monotonic() - started,
            )
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            # Neither InvalidURL nor UnicodeError is an HTTPError: a redirect to
            # "javascript:..." raises the first, one to a host name that is not valid IDNA
            # ("xn--a.example") idna's IDNAError, a UnicodeError.
            kind, message = classify_error(exc)
            return Failed(kind, message, elapsed=time.monotonic() - started)

    async def _get(
        self, client: httpx.AsyncClient, url: str, validators: Validators, started: float
    ) -> FetchResult:
        headers = {}
        # httpx sends header values as ASCII; a publisher's "été" ETag (stored as read) would
        # raise before any request, so such a validator is left out: an unconditional GET.
        if validators.etag and validators.etag.isascii():
            headers["If-None-Match"] = validators.etag
        if validators.last_modified and validators.last_modified.isascii():
            headers["If-Modified-Since"] = validators.last_modified
        async with client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            if response.status_code == 304:
                # RFC 9110 §15.4.5: a 304 may carry refreshed validators; keep the old ones
                # for whatever it leaves out.
                return NotModified(
                    url=final_url,
                    validators=Validators(
                        etag=response.headers.get("etag") or validators.etag,
                        last_modified=response.headers.get("last-modified")
                        or validators.last_modified,
                    ),
                    elapsed=time.monotonic() - started,
                    hints=cache_hints(response.headers),
                )
            if not response.is_success:
                return Failed(
                    ErrorKind.HTTP_STATUS,
                    f"fetch: HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                    status_code=response.status_code,
                    elapsed=time.monotonic() - started,
                    hints=cache_hints(response.headers, response.status_code),
                )
            declared = _int(response.headers.get("content-length"))
            encoded = response.headers.get("content-encoding", "identity") != "identity"
            if declared is not None and not encoded and declared > self._max_bytes:
                return self._too_large(started, f"declares {declared} bytes,")
            chunks: list[bytes] = []
            size = 0
            # Raw bytes, decoded here in bounded pieces: httpx would inflate a whole network
            # read at once, and one read of a brotli bomb is gigabytes (feeds.inflate).
            inflater = Inflater(response.headers.get("content-encoding"))
            async for raw in response.aiter_raw():
                try:
                    for piece in inflater.decode(raw, self._max_bytes + 1 - size):
                        size += len(piece)
                        if size > self._max_bytes:
                            return self._too_large(started, "is longer,")
                        chunks.append(piece)
                except DecodeError as exc:
                    return Failed(
                        ErrorKind.PARSE,
                        f"fetch: the body could not be decompressed ({exc})",
                        elapsed=time.monotonic() - started,
                    )
            if size == 0:
                return Failed(ErrorKind.EMPTY, "fetch: the body is empty")
            return Fetched(
                url=final_url,
                body=b"".join(chunks),
                content_type=response.headers.get("content-type"),
                validators=Validators(
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                ),
                elapsed=time.monotonic() - started,
                status=response.status_code,
                hints=cache_hints(response.headers),
                moved_to=_moved_to(response),
            )

    def _too_large(self, started: float, detail: str) -> Failed:
        return Failed(
            ErrorKind.TOO_LARGE,
            f"fetch: the body {detail} over the limit of {self._max_bytes} bytes",
            elapsed=time.monotonic() - started,
        )


class _Transport(httpx.AsyncHTTPTransport):
    """httpx's transport, with the connect-time address guard when given a policy."""

    def __init__(self, limits: httpx.Limits, policy: Policy | None) -> None:
        super().__init__(limits=limits)
        if policy is not None:
            # httpx offers no public way to give its transport an httpcore network backend,
            # so the pool is rebuilt with httpx's own settings plus the guard. The blocked-
            # address tests fail loudly should a new httpx stop using ``_pool``.
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=httpx.create_ssl_context(),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=GuardedBackend(policy=policy),
            )


class HostGate:
    """At most ``per_host`` requests in flight to one host, and request starts to one host at
    least ``spacing`` seconds apart: a publisher sees a steady trickle, not a burst, however
    many of its feeds are due at once. Local files are not gated."""

    def __init__(self, per_host: int, spacing: float) -> None:
        self._per_host = per_host
        self._spacing = spacing
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def open(self, url: str) -> AsyncIterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            yield
            return
        slot = self._slots.setdefault(host, asyncio.Semaphore(self._per_host))
        async with slot:
            now = time.monotonic()
            start = max(now, self._next_start.get(host, now))
            self._next_start[host] = start + self._spacing
            if start > now:
                await asyncio.sleep(start - now)
            yield


def read_file(url: str, validators: Validators, max_bytes: int) -> FetchResult:
    """Read a local file source, answering ``NotModified`` when its size and mtime match."""
    started = time.monotonic()
    path = Path(url2pathname(urlsplit(url).path))
    try:
        stat = path.stat()
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if validators.etag == etag:
            return NotModified(url=url, validators=validators, elapsed=0.0)
        if stat.st_size > max_bytes:
            return Failed(ErrorKind.TOO_LARGE, f"fetch: {path} is larger than {max_bytes} bytes")
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        return Failed(ErrorKind.FILE, f"fetch: cannot read {path}: {os.strerror(exc.errno or 0)}")
    if len(body) > max_bytes:
        return Failed(ErrorKind.TOO_LARGE, f"fetch: {path} is larger than {max_bytes} bytes")
    if not body:
        return Failed(ErrorKind.EMPTY, f"fetch: {path} is empty")
    return Fetched(
        url=url,
        body=body,
        content_type=FILE_TYPES.get(path.suffix.lower()),
        validators=Validators(etag=etag),
        elapsed=time.monotonic() - started,
    )


def cache_hints(headers: Mapping[str, str], status: int = 200) -> CacheHints:
    """What the response headers say about when to ask again. Pure.

    Cache-Control max-age (RFC 9111 §5.2.2.1) unless no-cache/no-store; Expires minus the
    response's Date (RFC 9111 §5.3), so the server's clock is compared with itself;
    Retry-After on 429 and 503 only (RFC 9110 §10.2.3, RFC 6585 §4), as seconds or an
    HTTP-date. Malformed values are ignored.
    """
    max_age = None
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    if not {"no-cache", "no-store"} & {d.split("=")[0] for d in directives}:
        for directive in directives:
            name, _, value = directive.partition("=")
            if name == "max-age" and value.strip().strip('"').isdigit():
                max_age = float(value.strip().strip('"'))
    date = _http_date(headers.get("date"))
    expires_at = _http_date(headers.get("expires"))
    expires_in = None
    if expires_at is not None:
        expires_in = (expires_at - (date or datetime.now(UTC))).total_seconds()
    retry_after = None
    if status in (429, 503) and (raw := headers.get("retry-after", "").strip()):
        if raw.isdigit():
            retry_after = float(raw)
        elif (when := _http_date(raw)) is not None:
            retry_after = (when - (date or datetime.now(UTC))).total_seconds()
    return CacheHints(max_age=max_age, expires_in=expires_in, retry_after=retry_after)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def classify_error(
    exc: httpx.HTTPError | httpx.InvalidURL | UnicodeError,
) -> tuple[ErrorKind, str]:
    """The one place that maps transport exceptions to error kinds and messages."""
    if isinstance(exc, httpx.InvalidURL | UnicodeError):
        return ErrorKind.CONNECT, f"fetch: a redirect to an unusable URL ({_first_line(exc)})"
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT, f"fetch: timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.TooManyRedirects):
        return ErrorKind.REDIRECT_LOOP, "fetch: too many redirects"
    if isinstance(exc, httpx.DecodingError):
        return ErrorKind.PARSE, f"fetch: the body could not be decompressed ({exc})"
    causes = list(_causes(exc))
    if blocked := next((c for c in causes if isinstance(c, BlockedAddress)), None):
        return ErrorKind.BLOCKED, f"fetch: {_first_line(blocked)}"
    if any(isinstance(c, socket.gaierror) for c in causes):
        return ErrorKind.DNS, f"fetch: the host name did not resolve ({_first_line(exc)})"
    if any(isinstance(c, ssl.SSLError | ssl.CertificateError) for c in causes):
        return ErrorKind.TLS, f"fetch: TLS failed ({_first_line(exc)})"
    return ErrorKind.CONNECT, f"fetch: {_first_line(exc) or type(exc).__name__}"


def _moved_to(response: httpx.Response) -> str | None:
    """The new URL when every redirect on the way was permanent (301/308, RFC 9110 §15.4):
    only then should the stored URL change; a 302/307 anywhere means "ask here again"."""
    if response.history and all(r.status_code in (301, 308) for r in response.history):
        return str(response.url)
    return None


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
