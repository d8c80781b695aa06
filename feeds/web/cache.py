"""The render cache: bodies rendered once per (request, data version), served from memory.

An entry holds the identity body, its gzip form (compressed once, when stored: compressing
per request costs far more than serving), a strong ETag for each, and Last-Modified; once
``feeds.web.http.prepare`` has run, also the four complete answers it can give (identity or
gzip, 200 or 304) as raw ASGI headers, so a hit builds no headers at all. Entries
are keyed by a request key (path + normalized query) and remember the versions they were
rendered at, as a prefix of the storage's ``(data version, sources version)``: feeds, pages
of articles and the API depend on the articles only (``ARTICLES``: a fetch that brings
nothing new, which only moves the sources version, leaves them valid); the source-health
pages depend on both (``HEALTH``). A lookup at newer versions is a miss; who renders it
again, and what the others get meanwhile, is ``feeds.web.rendering``'s business. The cache
is an LRU bounded by the bytes it holds.

``DataVersion`` reads the storage's version counters at most once per ``ttl`` seconds, by
one request at a time, so a hot feed costs one cheap read a second at most, and a change
elsewhere (another process) is seen within about that time. It remembers when it last read
each recent value, so the renderer knows at most how out of date an older entry is.

What this module does not do: render, or touch the database itself.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

GZIP_MIN_BYTES = 512  # below this, gzip framing costs more than it saves
RawHeaders = list[tuple[bytes, bytes]]  # ASGI "http.response.start" headers
Versions = tuple[int, ...]  # (data version,) or (data version, sources version)
ARTICLES = 1  # an entry that depends on stored articles only: keyed on (data version,)
HEALTH = 2  # one that shows source health too: keyed on (data version, sources version)
HISTORY = 64  # versions DataVersion remembers (one a second at most: about a minute)


@dataclass(frozen=True, slots=True)
class Answer:
    """One complete HTTP answer, as sent over ASGI (uvicorn adds Date and Server)."""

    status: int  # 200 or 304
    headers: RawHeaders  # lower-case names, Content-Length included; never mutate
    body: bytes  # b"" for a 304


@dataclass(frozen=True, slots=True)
class CachedBody:
    """A rendered response body, ready for any client."""

    body: bytes  # identity encoding
    gzipped: bytes | None  # gzip encoding, or None when not worth it
    media_type: str  # Content-Type
    etag: str  # strong ETag of the identity body, quoted
    last_modified: str  # HTTP-date (RFC 9110 §5.6.7)
    version: Versions  # the versions it was rendered at (a prefix: ARTICLES or HEALTH)
    # (identity 200, gzip 200, identity 304, gzip 304), filled by ``http.prepare``
    answers: tuple[Answer, ...] = field(default=(), compare=False)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    @property
    def gzip_etag(self) -> str:
        # RFC 9110 §8.8.3: a strong validator differs between representations, and the
        # gzip body is a different representation of the same resource.
        return self.etag[:-1] + '-gz"'


def make_entry(
    body: bytes, media_type: str, last_modified: datetime, version: Versions
) -> CachedBody:
    """Build a cache entry: ETag from the content, gzip once."""
    digest = hashlib.sha256(body).hexdigest()[:20]
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return CachedBody(
        body=body,
        gzipped=gzipped,
        media_type=media_type,
        etag=f'"{digest}"',
        last_modified=format_datetime(last_modified, usegmt=True),
        version=version,
    )


class RenderCache:
    """An LRU of ``CachedBody`` by request key, bounded by total bytes. Thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[str, CachedBody] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, version: Versions) -> CachedBody | None:
        """The entry for ``key`` if it was rendered at ``version`` (the current versions, of
        which the entry compares the prefix it depends on); counts a hit or a miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version[: len(entry.version)]:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def get_hit(self, key: str, version: Versions) -> CachedBody | None:
        """Like ``get``, but a miss is not counted (the caller falls back to ``get``)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version[: len(entry.version)]:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def peek(self, key: str) -> CachedBody | None:
        """The entry held for ``key`` at whatever versions (the renderer's stale copy)."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: CachedBody) -> None:
        if entry.size > self._max_bytes // 4:
            return  # one huge body must not flush everything else
        with self._lock:
            old = self._entries.get(key)
            if old is not None and old.version > entry.version:
                return  # a slow render finished after a newer one: keep the newer
            if old is not None:
                del self._entries[key]
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            while self._bytes > self._max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)


class DataVersion:
    """The storage's data versions, re-read at most once per ``ttl`` seconds."""

    def __init__(self, read: Callable[[], tuple[int, int]], ttl: float = 1.0) -> None:
        self._read = read
        self._ttl = ttl
        self._value: tuple[int, int] | None = None
        self._read_at = 0.0
        self._refreshing = False
        self._lock = threading.Lock()
        # (versions, when last read), oldest first, one per value, for ``stale_for``.
        self._seen: deque[tuple[tuple[int, int], float]] = deque(maxlen=HISTORY)

    def cached(self) -> tuple[tuple[int, int] | None, bool]:
        """The last value read (no I/O), and whether the caller should re-read it now.

        Only one caller at a time is told to re-read: when the value expires under load the
        others keep using it until that read lands, instead of all queueing for the
        database at once (stale-while-revalidate; the staleness is one read's duration).
        """
        with self._lock:
            if self._value is None:
                return None, True
            if time.monotonic() - self._read_at < self._ttl or self._refreshing:
                return self._value, False
            self._refreshing = True
            return self._value, True

    def fresh(self) -> tuple[int, int] | None:
        """The last value read if it is still fresh, else None; never claims the re-read
        (the fast path uses it and leaves the re-read to the Starlette path)."""
        value = self._value
        if value is None or time.monotonic() - self._read_at >= self._ttl:
            return None
        return value

    def last_read(self) -> tuple[int, int] | None:
        """The last value read, however old (no I/O)."""
        return self._value

    def current(self) -> tuple[int, int]:
        """Read the versions from the database now."""
        try:
            value = self._read()
        finally:
            with self._lock:
                self._refreshing = False
        with self._lock:
            now = time.monotonic()
            self._value = value
            self._read_at = now
            if self._seen and self._seen[-1][0] == value:
                self._seen.pop()
            self._seen.append((value, now))
        return value

    def stale_for(self, version: Versions) -> float:
        """At most how out of date a body rendered at ``version`` (an entry's prefix) is:
        seconds since this process last read versions at which it was current. ``inf``
        when it never did, or no longer remembers."""
        with self._lock:
            # Newest first: read times only grow, so the first match is the last read at
            # which it was current, and for a body one change old it is one step away
            # (this runs for every previous body the fast path serves).
            confirmed = next(
                (last for value, last in reversed(self._seen) if value[: len(version)] == version),
                None,
            )
        return math.inf if confirmed is None else time.monotonic() - confirmed

    def invalidate(self) -> None:
        """Forget the cached value (after a write in this process)."""
        with self._lock:
            self._value = None
