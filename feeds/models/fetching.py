"""What the fetch and parse stages hand on: a response (or its absence) and the feed it held.

A fetch ends as ``Fetched | NotModified | Failed`` (``feeds.fetch``); parsing a ``Fetched``
body ends as ``ParsedFeed | Failed`` (``feeds.parse``). Entries are as the feed states them,
before any cleaning (that is ``feeds.normalize``). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.errors import ErrorKind


@dataclass(frozen=True, slots=True)
class Validators:
    """The opaque values a conditional GET sends back (RFC 9110 §13.1)."""

    etag: str | None = None  # sent as If-None-Match
    last_modified: str | None = None  # sent as If-Modified-Since


@dataclass(frozen=True, slots=True)
class CacheHints:
    """What a response says about when to ask again (RFC 9111 §5.2, §5.3; RFC 9110 §10.2.3).

    Durations are relative to the response, computed against its Date header when it has
    one, so a server's clock skew does not matter.
    """

    max_age: float | None = None  # Cache-Control max-age, seconds (None with no-cache/no-store)
    expires_in: float | None = None  # Expires minus Date, seconds
    retry_after: float | None = None  # Retry-After (seconds or HTTP-date), seconds


NO_HINTS = CacheHints()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetch that brought a body."""

    url: str  # final URL, after redirects
    body: bytes  # decompressed body, at most fetch.max_bytes long
    content_type: str | None  # Content-Type header, for the charset
    validators: Validators  # ETag / Last-Modified to store for the next fetch
    elapsed: float  # seconds from request to last byte
    status: int = 200  # HTTP status (200 for local files)
    hints: CacheHints = NO_HINTS  # caching headers, for the next check time
    moved_to: str | None = None  # new URL after only permanent redirects (301/308)


@dataclass(frozen=True, slots=True)
class NotModified:
    """A conditional fetch answered 304: nothing to parse."""

    url: str  # URL that answered
    validators: Validators  # validators to keep (refreshed when the 304 carries new ones)
    elapsed: float  # seconds the request took
    hints: CacheHints = NO_HINTS  # caching headers, for the next check time


@dataclass(frozen=True, slots=True)
class Failed:
    """A fetch or parse that could not produce entries."""

    kind: ErrorKind  # one of the closed set of error kinds
    message: str  # what happened, for people; starts with the stage
    status_code: int | None = None  # the HTTP status, for kind http_status
    elapsed: float = 0.0  # seconds spent before failing
    hints: CacheHints = NO_HINTS  # Retry-After on 429/503, for the next check time


FetchResult = Fetched | NotModified | Failed


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A media file attached to an entry (RSS <enclosure>, Atom rel="enclosure")."""

    url: str  # absolute URL
    type: str | None = None  # MIME type as declared
    length: int | None = None  # size in bytes as declared


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed entry as the feed states it, before any cleaning."""

    entry_id: str  # guid / atom:id, else link, else a hash of title + link
    title: str  # as HTML (a plain-text title is escaped), like summary_html
    link: str | None  # the entry's main link, resolved against xml:base / feed URL
    links: tuple[str, ...]  # every other link of the entry (related, via, ...)
    summary_html: str  # description / summary as HTML
    content_html: str  # full content as HTML, or ""
    published: datetime | None  # publication date from the feed, UTC
    updated: datetime | None  # last-update date from the feed, UTC
    authors: tuple[str, ...]  # author names (or e-mails when no name is given)
    categories: tuple[str, ...]  # the feed's own category terms
    enclosures: tuple[Enclosure, ...]  # attached media
    html_base: str | None = None  # base URI (xml:base, else the feed URL) of the HTML fields


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed document that yielded entries (or was validly empty)."""

    url: str  # the URL the document came from, for resolving relative links
    title: str  # channel / feed title
    link: str | None  # the site the feed belongs to
    version: str  # feedparser's format name (rss20, atom10, rss10, ...)
    entries: tuple[ParsedEntry, ...]  # entries that could be read
    ttl_minutes: int | None = None  # RSS <ttl>, for scheduling
    update_minutes: float | None = None  # sy:updatePeriod / sy:updateFrequency, in minutes
    warnings: tuple[str, ...] = ()  # survivable problems (bozo, skipped entries)


ParseResult = ParsedFeed | Failed
