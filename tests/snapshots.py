"""Golden-file helpers: parse + normalize a fixture feed and project the result to JSON.

Each fixture ``tests/data/<name>`` has a ``tests/data/<name>.expected.json`` beside it that
holds either the failure (``error_kind`` and a ``message_contains`` substring) or the feed
and every normalized article. Set ``FEEDS_REGEN_EXPECTED=1`` to rewrite the expected files
from the current code; the comparison still runs afterwards, so a regenerated run is green
only when the projection is deterministic. Read the diff before committing regenerated files.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feeds.models import (
    Article,
    Enclosure,
    Failed,
    Fetched,
    ParsedFeed,
    ParseResult,
    Source,
    Validators,
)
from feeds.normalize import normalize_entry
from feeds.parse import parse_feed

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BASE_URL = "http://127.0.0.1/feeds/"
REGEN_VARIABLE = "FEEDS_REGEN_EXPECTED"

FEED_FILES = (
    "rss20.xml",
    "atom10.xml",
    "rss10.rdf",
    "windows-1252.xml",
    "latin-1.xml",
    "missing-guids.xml",
    "relative-links.xml",
    "relative-links-rss.xml",
    "scripts.xml",
    "duplicates.xml",
    "odd-dates.xml",
    "not-a-feed.html",
    "empty-feed.xml",
    "tracking-links.xml",
    "not-well-formed.xml",
    "garbage.xml",
)

# The Content-Type each fixture is served with: RSS as RSS, Atom as Atom, the rest generic.
_RSS_FILES = frozenset(
    {
        "rss20.xml",
        "windows-1252.xml",
        "latin-1.xml",
        "missing-guids.xml",
        "relative-links-rss.xml",
        "scripts.xml",
        "duplicates.xml",
        "odd-dates.xml",
        "empty-feed.xml",
        "tracking-links.xml",
        "not-well-formed.xml",
    }
)
_ATOM_FILES = frozenset({"atom10.xml", "relative-links.xml"})


def content_type(name: str) -> str:
    """The explicit Content-Type a fixture is served with."""
    if name in _RSS_FILES:
        return "application/rss+xml"
    if name in _ATOM_FILES:
        return "application/atom+xml"
    if name.endswith(".rdf"):
        return "application/rdf+xml"
    if name.endswith(".html"):
        return "text/html"
    return "application/xml"


def feed_url(name: str) -> str:
    """The URL a fixture is "fetched" from."""
    return f"{BASE_URL}{name}"


def source_for(name: str) -> Source:
    """The configured source a fixture belongs to."""
    return Source(id="test", name="Test", url=feed_url(name), interval=timedelta(hours=1))


def fetched(name: str, body: bytes | None = None) -> Fetched:
    """A fetch of fixture ``name`` (or of ``body`` served under that name)."""
    return Fetched(
        url=feed_url(name),
        body=(DATA / name).read_bytes() if body is None else body,
        content_type=content_type(name),
        validators=Validators(),
        elapsed=0.0,
    )


def parse(name: str) -> ParseResult:
    """``parse_feed`` of fixture ``name``."""
    return parse_feed(fetched(name))


def parse_ok(name: str) -> ParsedFeed:
    """``parse_feed`` of fixture ``name``, which must be a feed."""
    result = parse(name)
    assert isinstance(result, ParsedFeed), result
    return result


def articles(name: str) -> list[Article]:
    """Every entry of fixture ``name``, normalized with ``now = first_seen = NOW``."""
    feed = parse_ok(name)
    source = source_for(name)
    return [normalize_entry(entry, source, feed, now=NOW, first_seen=NOW) for entry in feed.entries]


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with ``Z`` for UTC; any other offset (or a naive value) is kept visible."""
    if value is None:
        return None
    text = value.isoformat()
    return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text


def enclosure_json(enclosure: Enclosure) -> dict[str, Any]:
    """An ``Enclosure`` as a JSON object."""
    return {"url": enclosure.url, "type": enclosure.type, "length": enclosure.length}


def article_json(article: Article) -> dict[str, Any]:
    """Every field of an ``Article`` as JSON: tuples as lists, datetimes as ISO strings."""
    return {
        "id": article.id,
        "source_id": article.source_id,
        "entry_id": article.entry_id,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "content_html": article.content_html,
        "published": iso(article.published),
        "updated": iso(article.updated),
        "first_seen": iso(article.first_seen),
        "authors": list(article.authors),
        "categories": list(article.categories),
        "enclosures": [enclosure_json(e) for e in article.enclosures],
        "dois": list(article.dois),
        "content_hash": article.content_hash,
    }


def project(name: str) -> dict[str, Any]:
    """What parse + normalize make of fixture ``name``, as a JSON-ready object."""
    result = parse(name)
    if isinstance(result, Failed):
        return {"error_kind": str(result.kind), "message_contains": result.message}
    source = source_for(name)
    return {
        "version": result.version,
        "title": result.title,
        "link": result.link,
        "warnings_count": len(result.warnings),
        "articles": [
            article_json(normalize_entry(entry, source, result, now=NOW, first_seen=NOW))
            for entry in result.entries
        ],
    }


def expected_path(name: str) -> Path:
    """Where the golden file of fixture ``name`` lives."""
    return DATA / f"{name}.expected.json"


def regenerating() -> bool:
    """Whether this run rewrites the golden files (``FEEDS_REGEN_EXPECTED=1``)."""
    return os.environ.get(REGEN_VARIABLE, "") not in ("", "0")


def load_expected(name: str) -> dict[str, Any]:
    """The golden projection of fixture ``name``."""
    value: dict[str, Any] = json.loads(expected_path(name).read_text(encoding="utf-8"))
    return value


def write_expected(name: str, actual: dict[str, Any]) -> None:
    """Write ``actual`` as the golden file, keeping a hand-picked ``message_contains``.

    For a failure the projection holds the whole message; when the existing golden file
    has the same error kind and a substring the new message still contains, that shorter,
    deliberately chosen substring is kept.
    """
    path = expected_path(name)
    value = dict(actual)
    if "error_kind" in value and path.exists():
        old = load_expected(name)
        kept = old.get("message_contains")
        if (
            old.get("error_kind") == value["error_kind"]
            and kept
            and kept in actual["message_contains"]
        ):
            value["message_contains"] = kept
    text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def check(name: str) -> None:
    """Compare fixture ``name`` with its golden file (rewriting it first when regenerating)."""
    actual = project(name)
    if regenerating():
        write_expected(name, actual)
    expected = load_expected(name)
    if "error_kind" in expected:
        assert actual.get("error_kind") == expected["error_kind"], actual
        assert expected["message_contains"] in actual["message_contains"], actual
    else:
        assert actual == expected
