"""Sources: a source as configured, and what the database knows about fetching it.

``Source`` comes from the config (``Settings.source_models``); ``SourceHealth`` is its row
in the database, which ``feeds.schedule`` computes anew after every fetch. Nothing here does
I/O or decides anything: when a source is due is ``feeds.schedule``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feeds.errors import ErrorKind


class SourceStatus(enum.StrEnum):
    """What a source's last fetch amounted to, as shown to operators."""

    NEW = "new"  # configured, never fetched
    OK = "ok"  # the last fetch brought a feed
    NOT_MODIFIED = "not_modified"  # the last fetch was answered 304 Not Modified
    FAILING = "failing"  # the last fetch failed; see error_kind / error_message
    GONE = "gone"  # the server answered 410 Gone: never fetched again until reconfigured
    DISABLED = "disabled"  # enabled: false in the config, or removed from it


@dataclass(frozen=True, slots=True)
class Source:
    """A source as configured: what to fetch and how often."""

    id: str  # slug, unique across sources
    name: str  # display name
    url: str  # absolute http(s) URL, or a file: URL for a local file
    interval: timedelta  # how long to wait between two successful checks
    topics: tuple[str, ...] = ()  # topic slugs every article of this source gets
    enabled: bool = True  # disabled sources are kept but never fetched
    allow_private: bool = False  # may connect to loopback/private/link-local addresses


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the database knows about a source's fetching, one row per source."""

    source_id: str  # the Source.id this row belongs to
    name: str  # display name at the last sync
    url: str  # URL fetched (the configured one, or where a permanent redirect led)
    enabled: bool  # copy of Source.enabled at the last sync
    status: SourceStatus  # summary of the last fetch
    etag: str | None  # ETag exactly as last received, sent back as If-None-Match
    last_modified: str | None  # Last-Modified exactly as received, sent as If-Modified-Since
    last_fetch_at: datetime | None  # when the last fetch ended, whatever its outcome
    last_success_at: datetime | None  # when a fetch last brought a feed or a 304
    error_kind: ErrorKind | None  # why the last fetch failed; None after a success
    error_message: str | None  # human-readable detail of that failure
    error_count: int  # consecutive failures; 0 after a success
    failing_since: datetime | None  # first failure of the current run of failures
    next_check_at: datetime | None  # when the source is due again; None means now
    last_bytes: int | None  # size of the last body received (decompressed)
    last_duration_ms: int | None  # wall time of the last fetch
    body_hash: str | None = None  # sha256 of the last body parsed, to skip an unchanged one
    config_url: str | None = None  # the configured URL, when a permanent redirect moved us
    refresh_minutes: float | None = None  # the feed's <ttl> / sy:updatePeriod, kept over 304s

    @property
    def shown_status(self) -> SourceStatus:
        """The status to show: ``disabled`` wins over the last fetch's outcome."""
        return self.status if self.enabled else SourceStatus.DISABLED

    def to_json(
        self, articles: int | None = None, articles_7d: int | None = None
    ) -> dict[str, object]:
        """The source as ``feeds sources --json`` and ``/sources.json`` show it."""
        return {
            "id": self.source_id,
            "name": self.name,
            "url": self.url,
            "moved_from": self.config_url if self.config_url != self.url else None,
            "status": str(self.shown_status),
            "last_fetch": iso(self.last_fetch_at),
            "last_success": iso(self.last_success_at),
            "error_kind": str(self.error_kind) if self.error_kind else None,
            "error": self.error_message,
            "error_count": self.error_count,
            "failing_since": iso(self.failing_since),
            "next_check": iso(self.next_check_at),
            "articles": articles,
            "articles_7d": articles_7d,
            "last_bytes": self.last_bytes,
            "last_duration_ms": self.last_duration_ms,
        }

    @property
    def needs_attention(self) -> bool:
        """Failing or gone: what ``--failing`` and the failing-sources feed list."""
        return self.enabled and self.status in (SourceStatus.FAILING, SourceStatus.GONE)

    @property
    def gone(self) -> bool:
        """The server said 410 Gone; the source is not fetched until its URL changes."""
        return self.status is SourceStatus.GONE


def iso(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z`` (RFC 3339 §5.6), or None."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None
