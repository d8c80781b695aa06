"""Pure scheduling decisions: is a source due, and what its health becomes after a fetch.

Nothing here does I/O or reads the clock; callers pass ``now``. The update orchestrator
calls these and stores what they return.

Next check after a success: the source's interval, but at least an RSS ``<ttl>`` when the
feed declares one (RSS 2.0 spec, "ttl": minutes a channel may be cached), floored at
``MIN_INTERVAL`` and capped at ``MAX_INTERVAL``. After a failure: the interval doubled per
consecutive error (exponential backoff), capped at ``MAX_INTERVAL``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from feeds.models import Failed, NotModified, ParsedFeed, Source, SourceHealth, SourceStatus

MIN_INTERVAL = timedelta(minutes=5)
MAX_INTERVAL = timedelta(hours=24)


def is_due(health: SourceHealth, now: datetime) -> bool:
    """An enabled source is due when it has no next check yet or that time has come."""
    return health.enabled and (health.next_check_at is None or health.next_check_at <= now)


def success_delay(interval: timedelta, ttl_minutes: int | None = None) -> timedelta:
    """How long to wait after a successful check."""
    delay = interval
    if ttl_minutes:
        delay = max(delay, timedelta(minutes=ttl_minutes))
    return min(max(delay, MIN_INTERVAL), MAX_INTERVAL)


def failure_delay(interval: timedelta, error_count: int) -> timedelta:
    """How long to wait after the ``error_count``-th consecutive failure (1-based)."""
    factor: int = 2 ** min(max(error_count - 1, 0), 16)
    delay: timedelta = interval * factor
    return min(max(delay, MIN_INTERVAL), MAX_INTERVAL)


def after_success(
    health: SourceHealth,
    source: Source,
    outcome: ParsedFeed | NotModified,
    *,
    now: datetime,
    etag: str | None,
    last_modified: str | None,
    size: int | None,
    elapsed: float,
) -> SourceHealth:
    """The health of a source whose fetch brought a feed or a 304: errors reset."""
    ttl = outcome.ttl_minutes if isinstance(outcome, ParsedFeed) else None
    return replace(
        health,
        status=SourceStatus.NOT_MODIFIED if isinstance(outcome, NotModified) else SourceStatus.OK,
        etag=etag,
        last_modified=last_modified,
        last_fetch_at=now,
        last_success_at=now,
        error_kind=None,
        error_message=None,
        error_count=0,
        failing_since=None,
        next_check_at=now + success_delay(source.interval, ttl),
        last_bytes=size if size is not None else health.last_bytes,
        last_duration_ms=round(elapsed * 1000),
    )


def after_failure(
    health: SourceHealth, source: Source, failure: Failed, *, now: datetime
) -> SourceHealth:
    """The health of a source whose fetch or parse failed; validators are kept."""
    count = health.error_count + 1
    return replace(
        health,
        status=SourceStatus.FAILING,
        last_fetch_at=now,
        error_kind=failure.kind,
        error_message=failure.message,
        error_count=count,
        failing_since=health.failing_since or now,
        next_check_at=now + failure_delay(source.interval, count),
        last_duration_ms=round(failure.elapsed * 1000),
    )
