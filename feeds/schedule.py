"""Pure scheduling decisions: is a source due, and what its health becomes after a fetch.

Nothing here does I/O or reads the clock or a random generator; callers pass ``now`` and,
for jitter, a number in [0, 1). The update orchestrator calls these and stores the result.

After a success the next check honours the freshness the publisher declares, in this order
of precedence (the first present wins): Cache-Control max-age; Expires; RSS ``<ttl>`` or
``sy:updatePeriod`` / ``sy:updateFrequency`` (remembered across 304s, since a 304 carries
no feed). A declared freshness can lengthen the source's configured interval (asking
before the content can have changed is pointless, RFC 9111 §4.2) but never shorten it: a
short max-age must not make us poll more often than we chose to. After a failure: Retry-After
(429/503), else exponential backoff from ``backoff_base`` doubling per consecutive error,
with ±``jitter`` so that sources that failed together do not retry together; from the
``failing_after``-th consecutive error on, the cap. Every delay is floored at
``min_interval`` (so no header can make us hammer a publisher) and capped at
``max_interval`` (so no header can make us forget a source).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feeds.models import (
    CacheHints,
    Failed,
    NotModified,
    ParsedFeed,
    Source,
    SourceHealth,
    SourceStatus,
)


@dataclass(frozen=True, slots=True)
class Policy:
    """How politely and how persistently to fetch (from ``fetch:`` in the config)."""

    min_interval: timedelta = timedelta(minutes=5)  # no check sooner than this
    max_interval: timedelta = timedelta(hours=24)  # no check later than this
    backoff_base: timedelta = timedelta(minutes=10)  # delay after the first failure
    failing_after: int = 10  # consecutive failures before checking only at the cap
    jitter: float = 0.1  # ± share of a backoff delay, spread at random


DEFAULT_POLICY = Policy()


def is_due(health: SourceHealth, now: datetime) -> bool:
    """An enabled, not-gone source is due when it has no next check yet or that time came."""
    if not health.enabled or health.gone:
        return False
    return health.next_check_at is None or health.next_check_at <= now


def success_delay(
    interval: timedelta,
    hints: CacheHints,
    refresh_minutes: float | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> timedelta:
    """How long to wait after a successful check (see the module docstring)."""
    for seconds in (
        hints.max_age,
        hints.expires_in,
        refresh_minutes * 60 if refresh_minutes else None,
    ):
        if seconds is not None:
            return _bounded(max(timedelta(seconds=seconds), interval), policy)
    return _bounded(interval, policy)


def refresh_minutes(feed: ParsedFeed) -> float | None:
    """The refresh period a feed declares: RSS ``<ttl>``, else ``sy:updatePeriod``."""
    return feed.ttl_minutes or feed.update_minutes


def failure_delay(
    error_count: int, hints: CacheHints, rand: float, policy: Policy = DEFAULT_POLICY
) -> timedelta:
    """How long to wait after the ``error_count``-th consecutive failure (1-based)."""
    if hints.retry_after is not None:
        return _bounded(timedelta(seconds=max(hints.retry_after, 0)), policy)
    if error_count >= policy.failing_after:
        return policy.max_interval
    doubled = policy.backoff_base * 2 ** min(max(error_count - 1, 0), 20)
    spread = 1 + policy.jitter * (2 * rand - 1)
    return _bounded(doubled * spread, policy)


def _bounded(delay: timedelta, policy: Policy) -> timedelta:
    return min(max(delay, policy.min_interval), policy.max_interval)


def after_success(
    health: SourceHealth,
    source: Source,
    outcome: ParsedFeed | NotModified,
    *,
    now: datetime,
    hints: CacheHints,
    etag: str | None,
    last_modified: str | None,
    size: int | None,
    elapsed: float,
    moved_to: str | None = None,
    body_hash: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> SourceHealth:
    """The health of a source whose fetch brought a feed or a 304: errors reset."""
    feed = outcome if isinstance(outcome, ParsedFeed) else None
    refresh = refresh_minutes(feed) if feed else health.refresh_minutes
    delay = success_delay(source.interval, hints, refresh, policy)
    return replace(
        health,
        url=moved_to or health.url,
        status=SourceStatus.OK if feed else SourceStatus.NOT_MODIFIED,
        etag=etag,
        last_modified=last_modified,
        last_fetch_at=now,
        last_success_at=now,
        error_kind=None,
        error_message=None,
        error_count=0,
        failing_since=None,
        next_check_at=now + delay,
        last_bytes=size if size is not None else health.last_bytes,
        last_duration_ms=round(elapsed * 1000),
        body_hash=body_hash or health.body_hash,
        refresh_minutes=refresh,
    )


def after_failure(
    health: SourceHealth,
    failure: Failed,
    *,
    now: datetime,
    rand: float,
    policy: Policy = DEFAULT_POLICY,
) -> SourceHealth:
    """The health of a source whose fetch or parse failed; validators are kept.

    410 Gone (RFC 9110 §15.5.11: "likely to be permanent") makes the source ``gone``: it is
    not fetched again until its configured URL changes.
    """
    count = health.error_count + 1
    gone = failure.status_code == 410
    return replace(
        health,
        status=SourceStatus.GONE if gone else SourceStatus.FAILING,
        last_fetch_at=now,
        error_kind=failure.kind,
        error_message=failure.message,
        error_count=count,
        failing_since=health.failing_since or now,
        next_check_at=None if gone else now + failure_delay(count, failure.hints, rand, policy),
        last_duration_ms=round(failure.elapsed * 1000),
    )
