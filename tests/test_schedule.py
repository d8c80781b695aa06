"""Scheduling decisions: next check after success and failure, backoff, gone, due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds.errors import ErrorKind
from feeds.fetch import cache_hints
from feeds.models import (
    CacheHints,
    Failed,
    NotModified,
    ParsedFeed,
    Source,
    SourceHealth,
    SourceStatus,
    Validators,
)
from feeds.schedule import (
    Policy,
    after_failure,
    after_success,
    failure_delay,
    is_due,
    success_delay,
)

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = Policy()


def hints(**values: float | None) -> CacheHints:
    return CacheHints(**values)


@pytest.mark.parametrize(
    ("given", "refresh", "expected"),
    [
        (hints(), None, HOUR),  # the configured interval
        (hints(), 120, timedelta(hours=2)),  # the feed's <ttl> / sy: period, in minutes
        (hints(expires_in=3 * 3600), 120, timedelta(hours=3)),  # Expires before <ttl>
        (hints(max_age=7200, expires_in=10800), 240, timedelta(hours=2)),  # max-age first
        (hints(max_age=600), None, HOUR),  # a short max-age never shortens our interval
        (hints(), 10, HOUR),  # nor does a short <ttl>
        (hints(max_age=7 * 86400), None, timedelta(hours=24)),  # capped
        (hints(expires_in=-60), None, HOUR),  # already expired: the interval
    ],
)
def test_success_delay_follows_the_precedence_and_is_bounded(
    given: CacheHints, refresh: float | None, expected: timedelta
) -> None:
    assert success_delay(HOUR, given, refresh, POLICY) == expected


def test_the_feed_refresh_period_is_remembered_across_304s() -> None:
    source = Source(id="s", name="S", url="https://s.example/feed", interval=HOUR)
    feed = ParsedFeed(
        url=source.url, title="S", link=None, version="rss20", entries=(), ttl_minutes=180
    )
    parsed = after_success(
        health(), source, feed, now=NOW, hints=hints(), etag='"1"', last_modified=None,
        size=10, elapsed=0.1,
    )  # fmt: skip
    assert parsed.next_check_at == NOW + timedelta(hours=3)
    not_modified = NotModified(url=source.url, validators=Validators(etag='"1"'), elapsed=0.1)
    later = after_success(
        parsed, source, not_modified, now=NOW + timedelta(hours=3), hints=hints(), etag='"1"',
        last_modified=None, size=None, elapsed=0.1,
    )  # fmt: skip
    assert later.next_check_at == NOW + timedelta(hours=6)


@pytest.mark.parametrize(
    ("errors", "rand", "expected"),
    [
        (1, 0.5, timedelta(minutes=10)),
        (2, 0.5, timedelta(minutes=20)),
        (3, 0.5, timedelta(minutes=40)),
        (1, 0.0, timedelta(minutes=9)),  # -10 % jitter
        (1, 1.0, timedelta(minutes=11)),  # +10 % jitter
        (9, 0.5, timedelta(hours=24)),  # doubled past the cap
        (10, 0.0, timedelta(hours=24)),  # failing_after reached: the cap, no jitter
    ],
)
def test_failure_delay_backs_off_exponentially_with_jitter(
    errors: int, rand: float, expected: timedelta
) -> None:
    assert failure_delay(errors, hints(), rand, POLICY) == expected


def test_retry_after_wins_over_backoff_but_stays_bounded() -> None:
    assert failure_delay(1, hints(retry_after=7200), 0.5, POLICY) == timedelta(hours=2)
    assert failure_delay(1, hints(retry_after=5), 0.5, POLICY) == timedelta(minutes=5)
    assert failure_delay(1, hints(retry_after=10**7), 0.5, POLICY) == timedelta(hours=24)


def health(**changes: object) -> SourceHealth:
    base = SourceHealth(
        source_id="s", name="S", url="https://s.example/feed", enabled=True,
        status=SourceStatus.NEW, etag=None, last_modified=None, last_fetch_at=None,
        last_success_at=None, error_kind=None, error_message=None, error_count=0,
        failing_since=None, next_check_at=None, last_bytes=None, last_duration_ms=None,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_410_makes_a_source_gone_and_never_due() -> None:
    failure = Failed(ErrorKind.HTTP_STATUS, "fetch: HTTP 410 Gone", status_code=410)
    gone = after_failure(health(), failure, now=NOW, rand=0.5)
    assert gone.status is SourceStatus.GONE
    assert not is_due(gone, NOW + timedelta(days=365))


def test_failures_count_up_and_a_success_resets_everything() -> None:
    failure = Failed(ErrorKind.TIMEOUT, "fetch: timed out")
    once = after_failure(health(), failure, now=NOW, rand=0.5)
    twice = after_failure(once, failure, now=NOW + HOUR, rand=0.5)
    assert (twice.error_count, twice.failing_since) == (2, NOW)
    assert twice.next_check_at == NOW + HOUR + timedelta(minutes=20)
    source = Source(id="s", name="S", url="https://s.example/feed", interval=HOUR)
    outcome = NotModified(url=source.url, validators=Validators(etag='"1"'), elapsed=0.1)
    ok = after_success(
        twice, source, outcome, now=NOW + 2 * HOUR, hints=hints(), etag='"1"',
        last_modified=None, size=None, elapsed=0.1,
    )  # fmt: skip
    assert (ok.status, ok.error_count, ok.failing_since, ok.error_kind) == (
        SourceStatus.NOT_MODIFIED, 0, None, None,
    )  # fmt: skip
    assert ok.next_check_at == NOW + 3 * HOUR


def test_a_permanent_redirect_moves_the_stored_url() -> None:
    source = Source(id="s", name="S", url="https://s.example/feed", interval=HOUR)
    outcome = NotModified(url="https://new.example/feed", validators=Validators(), elapsed=0.1)
    moved = after_success(
        health(), source, outcome, now=NOW, hints=hints(), etag=None, last_modified=None,
        size=None, elapsed=0.1, moved_to="https://new.example/feed",
    )  # fmt: skip
    assert moved.url == "https://new.example/feed"


@pytest.mark.parametrize(
    ("headers", "status", "expected"),
    [
        ({"cache-control": "public, max-age=600"}, 200, hints(max_age=600)),
        ({"cache-control": "no-cache, max-age=600"}, 200, hints()),
        ({"cache-control": "max-age=abc"}, 200, hints()),
        (
            {"date": "Thu, 15 Jan 2026 12:00:00 GMT", "expires": "Thu, 15 Jan 2026 13:00:00 GMT"},
            200,
            hints(expires_in=3600),
        ),
        ({"retry-after": "120"}, 429, hints(retry_after=120)),
        (
            {
                "date": "Thu, 15 Jan 2026 12:00:00 GMT",
                "retry-after": "Thu, 15 Jan 2026 14:00:00 GMT",
            },
            503,
            hints(retry_after=7200),
        ),
        ({"retry-after": "120"}, 200, hints()),  # only 429 and 503 ask to wait
        ({"expires": "0"}, 200, hints()),  # malformed: ignored
    ],
)
def test_cache_hints_are_read_from_response_headers(
    headers: dict[str, str], status: int, expected: CacheHints
) -> None:
    assert cache_hints(headers, status) == expected
