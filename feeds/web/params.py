"""Read a request's query string into an ``ArticleQuery``, or say in one line what is wrong.

The same parameters apply to every feed format and to the API:

    topics=a,b      articles in any of these topics (with match=all: in all of them)
    match=any|all   how topics= combines (default any)
    exclude=a,b     leave out articles in any of these topics
    q=words         full-text: every word in the title or summary
    source=id,id    only these sources
    study=ID        only articles citing this study: a DOI, PMID, PMCID, NCT, EU CT,
                    EudraCT, ISRCTN or arXiv id, as a key (doi:10.…) or as written (PMID:…)
    since=, until=  ISO 8601 date (2024-03-01) or date-time (2024-03-01T12:00:00Z);
                    a date-only until= includes that whole day (UTC)
    min_score=N     only topic tags at least this confident (see the tagging docs)
    limit=N         1–200 items (default from web.page_size)
    collapse=stories|none   one item per story cluster, or every article (feeds default to
                    web.collapse, the API to none)
    cursor=...      opaque position from a previous page (the API's "next" link)

Pure: no I/O. Unknown parameters, repeated parameters, unknown topics or sources and
malformed values raise ``BadRequest``; the web layer answers 400 with its message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from feeds.identifiers import parse_study
from feeds.models import ArticleQuery

LIMIT_MAX = 200
Q_MAX = 200
FEED_PARAMS = frozenset(
    {
        "topics",
        "match",
        "exclude",
        "q",
        "source",
        "study",
        "since",
        "until",
        "min_score",
        "limit",
        "collapse",
    }
)
COLLAPSE = ("stories", "none")
API_PARAMS = FEED_PARAMS | {"cursor"}


class BadRequest(ValueError):
    """The request's parameters are wrong; the message says how, in one line."""


@dataclass(frozen=True, slots=True)
class Known:
    """What parameter values may name."""

    topics: Collection[str]  # topic slugs
    sources: Collection[str]  # source ids


def parse_query(
    items: Sequence[tuple[str, str]],
    known: Known,
    *,
    allowed: frozenset[str] = FEED_PARAMS,
    path_topic: str | None = None,
    default_limit: int = 50,
    default_collapse: str = "none",
) -> ArticleQuery:
    """The query for these (key, value) pairs; ``path_topic`` comes from /feeds/{slug}."""
    values: dict[str, str] = {}
    for key, value in items:
        if key not in allowed:
            raise BadRequest(
                f"unknown parameter {_show(key)}; allowed: {', '.join(sorted(allowed))}"
            )
        if key in values:
            raise BadRequest(f"parameter {key} is given more than once")
        if "\x00" in value:
            raise BadRequest(f"{key}: contains a NUL character")
        values[key] = value.strip()

    topics = _names(values, "topics", known.topics, "topic")
    if path_topic is not None and path_topic not in topics:
        topics = (path_topic, *topics)
    match = values.get("match") or "any"
    if match not in ("any", "all"):
        raise BadRequest("match: must be any or all")
    text = values.get("q") or None
    if text is not None and len(text) > Q_MAX:
        raise BadRequest(f"q: longer than {Q_MAX} characters")
    since = _instant(values, "since", end_of_day=False)
    until = _instant(values, "until", end_of_day=True)
    if since and until and since >= until:
        raise BadRequest("since: must be before until")
    collapse = values.get("collapse") or default_collapse
    if collapse not in COLLAPSE:
        raise BadRequest("collapse: must be stories or none")
    return ArticleQuery(
        topics=topics,
        match_all=match == "all",
        exclude=_names(values, "exclude", known.topics, "topic"),
        text=text,
        sources=_names(values, "source", known.sources, "source"),
        since=since,
        until=until,
        min_score=_number(values, "min_score"),
        limit=_limit(values, default_limit),
        before=_cursor(values.get("cursor")),
        studies=_study(values.get("study")),
        stories=collapse == "stories",
    )


def normalized(items: Sequence[tuple[str, str]]) -> str:
    """A canonical form of a query string (sorted keys): one cache entry per meaning."""
    return urlencode(sorted((k, v.strip()) for k, v in items if v.strip()))


def encode_cursor(published: datetime, article_id: str) -> str:
    """The opaque cursor for the position after (published, id); with collapse=stories,
    (the story's first publication, story id)."""
    raw = f"{published.astimezone(UTC).isoformat()}|{article_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, article_id = raw.split("|", 1)
        published = datetime.fromisoformat(stamp)
        # Ids are printable: a NUL would reach PostgreSQL, which refuses it in text (a 503).
        if published.tzinfo is None or not article_id or not article_id.isprintable():
            raise ValueError("naive, or not an id")
        return published.astimezone(UTC), article_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor: not a cursor from a previous page") from None


def _study(raw: str | None) -> tuple[str, ...]:
    """One study id (ids may contain commas, so one per request): its canonical key."""
    if not raw:
        return ()
    study = parse_study(raw)
    if study is None:
        raise BadRequest(
            f"study: not a study identifier ({_show(raw)}); give a DOI, PMID, PMCID, NCT, "
            "EU CT, EudraCT, ISRCTN or arXiv id"
        )
    return (study.key,)


def _names(values: dict[str, str], key: str, known: Collection[str], what: str) -> tuple[str, ...]:
    raw = values.get(key)
    if not raw:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if len(names) > 50:
        raise BadRequest(f"{key}: at most 50 values")
    for name in names:
        if name not in known:
            raise BadRequest(f"{key}: unknown {what} {_show(name)}")
    return names


def _instant(values: dict[str, str], key: str, *, end_of_day: bool) -> datetime | None:
    raw = values.get(key)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            start = datetime.combine(day, time(), UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        raise BadRequest(f"{key}: not an ISO 8601 date or date-time ({_show(raw)})") from None
    except OverflowError:  # in UTC (or the day after) it falls outside the years 1-9999
        raise BadRequest(f"{key}: outside the years 1 to 9999 in UTC ({_show(raw)})") from None


_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def _number(values: dict[str, str], key: str) -> float | None:
    raw = values.get(key)
    if not raw:
        return None
    # Plain decimals only: float() would also read "1_0" as 10, "1e2", " 2 " and "nan".
    if not _DECIMAL.fullmatch(raw):
        raise BadRequest(f"{key}: not a number ({_show(raw)})")
    number = float(raw)
    if not 0 <= number <= 1000:
        raise BadRequest(f"{key}: must be between 0 and 1000")
    return number


def _limit(values: dict[str, str], default: int) -> int:
    raw = values.get("limit")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= LIMIT_MAX:
        raise BadRequest(f"limit: must be a whole number from 1 to {LIMIT_MAX} ({_show(raw)})")
    return int(raw)


def _show(value: str) -> str:
    """A value quoted for an error message, shortened and without control characters."""
    clean = "".join(c if c.isprintable() else "?" for c in value[:40])
    return repr(clean + ("…" if len(value) > 40 else ""))
