"""Parse a fetched body into entries. The only module that imports feedparser.

Reads RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 from bytes plus the response's Content-Type (for the
charset) and URL (the base for relative links, together with any ``xml:base``). HTML is not
sanitized here; that is the normalize stage's job, with one allowlist for every format.

Bozo policy (feedparser flags a feed "bozo" when it had to bend the rules):
- survivable, kept as a warning: a wrong or missing declared encoding
  (``CharacterEncodingOverride`` / ``CharacterEncodingUnknown``), a non-XML Content-Type
  (``NonXMLContentType``), and XML that is not well-formed but from which the lenient
  parser still read entries;
- fatal: nothing recognisable as a feed (``not_a_feed``; for an HTML page the feed links it
  advertises are named in the message), or a recognised feed with errors and no entry
  (``parse``). A well-formed feed with zero items is valid and simply empty.

Entries: the id is the guid / atom:id, else the link, else a hash of title + link. An entry
with no title, link or text, or one whose fields cannot be read, is skipped with a warning;
when every entry is skipped the feed is a ``parse`` failure. At most ``max_items`` entries
are kept (``fetch.max_items``): the newest, in feed order.

Hostile documents (``feeds.xmlguard``): a DTD declaring external, parameter, nested or long
entities is a ``parse`` failure before feedparser runs; references to characters XML
forbids become U+FFFD; and any exception feedparser raises on a body is a ``parse`` failure
of that source, never the end of a run.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from feeds.errors import ErrorKind
from feeds.models import Enclosure, Failed, Fetched, ParsedEntry, ParsedFeed, ParseResult
from feeds.xmlguard import entity_problem, neutralize_char_refs, xml_chars

MAX_ITEMS = 1000  # entries kept from one document, the newest (fetch.max_items)

_SURVIVABLE = (
    feedparser.CharacterEncodingOverride,
    feedparser.CharacterEncodingUnknown,
    feedparser.NonXMLContentType,
)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


def parse_feed(fetched: Fetched, *, max_items: int = MAX_ITEMS) -> ParseResult:
    """Parse ``fetched.body`` into a ``ParsedFeed``, or say why it is not one."""
    if not fetched.body.strip():
        return Failed(ErrorKind.EMPTY, "parse: the body is empty")
    if problem := entity_problem(fetched.body):
        return Failed(ErrorKind.PARSE, f"parse: {problem}")
    headers = {"content-location": fetched.url}
    if fetched.content_type:
        headers["content-type"] = fetched.content_type
    try:
        result = feedparser.parse(
            neutralize_char_refs(fetched.body),
            response_headers=headers,
            sanitize_html=False,
            # Off: feedparser's resolver joins an unparseable "jav&#x09;ascript:" URL to the
            # base as if it were a path; normalize resolves against html_base with nh3,
            # after its own scheme check, so such a URL is dropped instead.
            resolve_relative_uris=False,
        )
    except Exception as exc:  # a crash on one hostile body must fail that source only
        return Failed(ErrorKind.PARSE, f"parse: the parser failed ({_describe(exc)})")
    version: str = result.get("version") or ""
    raw_entries: list[Any] = result.get("entries") or []
    problem = result.get("bozo_exception") if result.get("bozo") else None

    if not version and not raw_entries:
        return _not_a_feed(fetched)
    if problem is not None and not raw_entries and not isinstance(problem, _SURVIVABLE):
        return Failed(ErrorKind.PARSE, f"parse: no entry could be read ({_describe(problem)})")

    warnings: list[str] = []
    if problem is not None:
        warnings.append(f"parse: {_describe(problem)}")
    if len(raw_entries) > max_items:
        # Cut before converting: feedparser has read them all, but the rest of the pipeline
        # (normalize, tag, store) works only on the ones kept.
        warnings.append(f"parse: {len(raw_entries)} entries, kept the {max_items} newest")
        raw_entries = newest(raw_entries, max_items)
    entries: list[ParsedEntry] = []
    for position, raw in enumerate(raw_entries, 1):
        try:
            entry = _entry(raw, fetched.url)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            warnings.append(f"parse: entry {position} skipped: {exc}")
            continue
        if entry is None:
            warnings.append(f"parse: entry {position} skipped: no title, link or text")
            continue
        entries.append(entry)
    if raw_entries and not entries:
        return Failed(ErrorKind.PARSE, f"parse: none of {len(raw_entries)} entries is readable")

    feed: Mapping[str, Any] = result.get("feed") or {}
    return ParsedFeed(
        url=fetched.url,
        title=str(feed.get("title") or ""),
        link=_absolute(feed.get("link"), fetched.url),
        version=version or "unknown",
        entries=tuple(entries),
        ttl_minutes=_int(feed.get("ttl")),
        update_minutes=_update_minutes(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        warnings=tuple(warnings),
    )


def newest(raw_entries: Sequence[dict[str, Any]], limit: int) -> list[Any]:
    """The ``limit`` newest of feedparser's entries (published, else updated), in feed order.

    Undated entries rank after dated ones, and entries of the same date by position, since
    feeds list their newest entries first by convention. Pure.
    """

    def rank(position: int) -> tuple[bool, float, int]:
        raw = raw_entries[position]
        # dict.get, not FeedParserDict.get: see _entry (feedparser issue 310).
        parsed = dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")
        moment = _date(parsed)
        return (moment is None, -moment.timestamp() if moment else 0.0, position)

    kept = sorted(sorted(range(len(raw_entries)), key=rank)[:limit])
    return [raw_entries[position] for position in kept]


def _entry(raw: dict[str, Any], feed_url: str) -> ParsedEntry | None:
    title = _html(raw.get("title_detail"), raw.get("title"))
    link = _absolute(raw.get("link"), feed_url)
    summary = _html(raw.get("summary_detail"), raw.get("summary"))
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    content = _html(contents[0], contents[0].get("value")) if contents else ""
    # The base URI in effect for the HTML that normalize keeps (content, else summary):
    # xml:base, else the document's URL (RFC 3986 §5.1, XML Base).
    # An xml:base of "javascript:..." would make every relative URL one: web bases only.
    detail = contents[0] if contents else raw.get("summary_detail") or {}
    base = str(detail.get("base") or "")
    html_base = base if urlsplit(base).scheme in ("http", "https") else None
    if not (title.strip() or link or summary.strip() or content.strip()):
        return None
    # Cleaned here, not in normalize: the update stage keys entries by this id before
    # normalizing, and both must agree.
    entry_id = xml_chars(str(raw.get("id") or "")).strip() or link or _hash_id(title, link)
    return ParsedEntry(
        entry_id=entry_id,
        title=title,
        link=link,
        links=tuple(
            href
            for item in raw.get("links") or []
            if (href := _absolute(item.get("href"), feed_url)) and href != link
        ),
        summary_html=summary,
        content_html=content if content != summary else "",
        published=_date(raw.get("published_parsed")),
        # dict.get, not FeedParserDict.get: the latter falls back to published_parsed
        # (feedparser issue 310), which would report a publication date as an update.
        updated=_date(dict.get(raw, "updated_parsed")),
        authors=tuple(_authors(raw)),
        categories=tuple(
            str(tag.get("term") or tag.get("label") or "").strip()
            for tag in raw.get("tags") or []
            if tag.get("term") or tag.get("label")
        ),
        enclosures=tuple(_enclosures(raw.get("enclosures") or [], feed_url)),
        html_base=html_base,
    )


def _html(detail: Mapping[str, Any] | None, value: object) -> str:
    """Content as HTML: plain-text constructs are escaped so they stay text."""
    text = str(value or "")
    if detail and detail.get("type") == "text/plain":
        return html.escape(text)
    return text


def _authors(raw: Mapping[str, Any]) -> Iterable[str]:
    for author in raw.get("authors") or []:
        name = author.get("name") or author.get("email")
        if name:
            yield str(name)
    if not raw.get("authors") and raw.get("author"):
        yield str(raw["author"])


def _enclosures(items: Iterable[Mapping[str, Any]], base: str) -> Iterable[Enclosure]:
    for item in items:
        href = _absolute(item.get("href"), base)
        if href:
            yield Enclosure(
                url=href, type=item.get("type") or None, length=_int(item.get("length"))
            )


def _absolute(href: object, base: str) -> str | None:
    if not href or not isinstance(href, str) or not href.strip():
        return None
    return urljoin(base, href.strip())


def _date(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime; None when absent or impossible."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


# RSS 1.0 Syndication module: sy:updatePeriod is one of these, sy:updateFrequency (default
# 1) says how many times per period the feed is updated.
_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}


def _update_minutes(period: object, frequency: object) -> float | None:
    minutes = _PERIOD_MINUTES.get(str(period or "").strip().lower())
    if minutes is None:
        return None
    times = _int(frequency) or 1
    return minutes / times


def _int(value: object) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _hash_id(title: str, link: str | None) -> str:
    digest = hashlib.sha256(f"{title}\n{link or ''}".encode()).hexdigest()[:32]
    return f"feeds:sha256:{digest}"


def _describe(problem: object) -> str:
    message = str(problem).strip() or type(problem).__name__
    return message.splitlines()[0][:200]


def _not_a_feed(fetched: Fetched) -> Failed:
    finder = _FeedLinkFinder()
    head = fetched.body[:200_000].decode("utf-8", errors="replace")
    is_html = "<html" in head[:2000].lower() or "html" in (fetched.content_type or "")
    if is_html:
        finder.feed(head)
        # Only web links: the message is shown on pages and in the failing-sources feed.
        links = [
            link
            for href in finder.links
            if urlsplit(link := urljoin(fetched.url, href.strip())).scheme in ("http", "https")
        ]
        if links:
            return Failed(
                ErrorKind.NOT_A_FEED,
                f"parse: an HTML page, not a feed; it links to {', '.join(links[:3])}",
            )
        return Failed(ErrorKind.NOT_A_FEED, "parse: an HTML page, not a feed")
    return Failed(ErrorKind.NOT_A_FEED, "parse: not an RSS or Atom feed")


class _FeedLinkFinder(HTMLParser):
    """Collects ``<link rel="alternate" type="application/rss+xml" href>`` of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {name: (value or "") for name, value in attrs}
        rels = values.get("rel", "").lower().split()
        if "alternate" in rels and values.get("type", "").lower() in _FEED_TYPES:
            href = values.get("href", "").strip()
            if href:
                self.links.append(href)
