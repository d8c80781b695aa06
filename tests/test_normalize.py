"""Normalizing parsed entries: links, ids, dates, HTML and plain text."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from feeds.models import Article, Enclosure, ParsedEntry, ParsedFeed, Source
from feeds.normalize import (
    SUMMARY_MAX,
    article_id,
    canonical_url,
    content_hash,
    normalize_entry,
    plain_text,
    sanitize_html,
    truncate,
)
from feeds.parse import parse_feed
from tests.snapshots import NOW, articles, fetched

FEED_URL = "https://example.org/feeds/health.xml"
FEED = ParsedFeed(url=FEED_URL, title="Feed", link=None, version="rss20", entries=())
SOURCE = Source(id="test", name="Test", url=FEED_URL, interval=timedelta(hours=1))
EARLIER = NOW - timedelta(days=30)


BASE_ENTRY = ParsedEntry(
    entry_id="entry-1",
    title="Title",
    link="https://example.org/a",
    links=(),
    summary_html="<p>Summary.</p>",
    content_html="",
    published=datetime(2024, 3, 5, 9, 30, tzinfo=UTC),
    updated=None,
    authors=(),
    categories=(),
    enclosures=(),
)


def _entry(**fields: Any) -> ParsedEntry:
    """``BASE_ENTRY`` with some fields changed."""
    return replace(BASE_ENTRY, **fields)


def _normalize(
    entry: ParsedEntry,
    *,
    source: Source = SOURCE,
    now: datetime = NOW,
    first_seen: datetime = NOW,
) -> Article:
    return normalize_entry(entry, source, FEED, now=now, first_seen=first_seen)


# --- canonical links ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://example.org/a?utm_source=rss&utm_medium=feed", "https://example.org/a"),
        ("https://example.org/a?id=1&utm_campaign=x", "https://example.org/a?id=1"),
        ("https://example.org/a?UTM_Source=rss&id=1", "https://example.org/a?id=1"),
        ("https://example.org/a?fbclid=IwAR0abc&id=2", "https://example.org/a?id=2"),
        ("https://example.org/a?gclid=Cj0KCQiA", "https://example.org/a"),
        ("https://example.org/a?mc_cid=5f3a&mc_eid=9d8e&p=3", "https://example.org/a?p=3"),
        ("https://example.org/a?utm_source=", "https://example.org/a"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org/a?id=5&utm_source=x#frag", "https://example.org/a?id=5"),
        ("HTTPS://News.Example.ORG/Path?id=7", "https://news.example.org/Path?id=7"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("http://example.org:443/a", "http://example.org:443/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://example.org/a%7eb", "https://example.org/a~b"),
        ("https://example.org/search?q=a+b&ref=home", "https://example.org/search?q=a+b&ref=home"),
        ("  https://example.org/padded  ", "https://example.org/padded"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("mailto:editor@example.org", None),
        ("ftp://example.org/file", None),
        ("data:text/html,<b>x</b>", None),
        ("https:///no-host", None),
    ],
)
def test_canonical_url(url: str, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "base", "canonical"),
    [
        ("/b?utm_source=x", "https://Example.org/a/c", "https://example.org/b"),
        ("../b", "https://example.org/a/c/d", "https://example.org/a/b"),
        ("b#top", "https://example.org/a/c", "https://example.org/a/b"),
        ("//cdn.example.org/x", "https://example.org/", "https://cdn.example.org/x"),
        ("/b", "https://example.org:8443/a", "https://example.org:8443/b"),
        ("https://other.example/x", "https://example.org/", "https://other.example/x"),
    ],
)
def test_a_relative_url_is_resolved_against_its_base(url: str, base: str, canonical: str) -> None:
    assert canonical_url(url, base) == canonical


def test_keep_query_keeps_tracking_parameters_but_drops_the_fragment() -> None:
    url = "https://cdn.example.org/ep.mp3?utm_source=rss&token=abc#t=10"
    assert canonical_url(url, keep_query=True) == (
        "https://cdn.example.org/ep.mp3?token=abc&utm_source=rss"
    )


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
        ("https://[2001:db8::1]/x", "https://[2001:db8::1]/x"),
    ],
)
def test_an_ipv6_host_keeps_its_brackets(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize("url", ["http://example.org:abc/x", "http://example.org:99999/x"])
def test_a_url_with_an_invalid_port_is_not_a_link(url: str) -> None:
    try:
        result = canonical_url(url)
    except ValueError as exc:
        raise AssertionError(f"canonical_url raised {exc!r}") from exc
    assert result is None


@pytest.mark.parametrize(
    "entry",
    [
        _entry(link="http://example.org:abc/x"),
        _entry(enclosures=(Enclosure(url="http://example.org:99999/a.mp3"),)),
    ],
    ids=["link", "enclosure"],
)
def test_an_entry_with_an_invalid_port_in_a_link_is_still_normalized(entry: ParsedEntry) -> None:
    try:
        article = _normalize(entry)
    except ValueError as exc:
        raise AssertionError(f"normalize_entry raised {exc!r}") from exc
    assert article.title == "Title"


def test_tracking_parameters_and_fragments_are_removed_from_fixture_links() -> None:
    urls = {a.entry_id: a.url for a in articles("tracking-links.xml")}
    assert urls == {
        "trk-001": "https://news.example.org/2024/select-trial",
        "trk-002": "https://news.example.org/2024/sepsis-ml?id=42",
        "trk-003": "https://news.example.org/Path?id=7",
        "trk-004": "https://news.example.org/2024/select-trial",
    }


def test_an_entry_with_a_javascript_link_has_no_url() -> None:
    article = _normalize(_entry(link="javascript:alert(1)"))
    assert article.url is None


def test_enclosures_are_made_canonical_and_non_http_ones_dropped() -> None:
    entry = _entry(
        enclosures=(
            Enclosure(url="HTTPS://CDN.Example.org:443/a.mp3?sig=1", type="audio/mpeg", length=9),
            Enclosure(url="javascript:alert(1)"),
        )
    )
    assert _normalize(entry).enclosures == (
        Enclosure(url="https://cdn.example.org/a.mp3?sig=1", type="audio/mpeg", length=9),
    )


# --- ids and hashes -------------------------------------------------------------------


def test_article_id_is_stable_and_32_hex_digits() -> None:
    first = article_id("who", "tag:who.int,2024:1")
    assert first == article_id("who", "tag:who.int,2024:1")
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_article_id_differs_per_source_and_per_entry() -> None:
    ids = {
        article_id("who", "entry-1"),
        article_id("cdc", "entry-1"),
        article_id("who", "entry-2"),
        article_id("who\nentry", "-1"),
    }
    assert len(ids) == 4


def test_an_edited_entry_keeps_its_id() -> None:
    before = _normalize(_entry(title="Old title"))
    after = _normalize(_entry(title="New title", link="https://example.org/moved"))
    assert before.id == after.id == article_id("test", "entry-1")


def test_content_hash_changes_when_the_title_changes() -> None:
    article = _normalize(_entry())
    edited = replace(article, title="Another title")
    assert content_hash(edited) != content_hash(article)
    assert _normalize(_entry(title="Another")).content_hash != article.content_hash


def test_content_hash_does_not_change_when_first_seen_changes() -> None:
    article = _normalize(_entry())
    assert article.content_hash == content_hash(article)
    assert content_hash(replace(article, first_seen=EARLIER)) == article.content_hash
    assert _normalize(_entry(), first_seen=EARLIER).content_hash == article.content_hash


def test_normalizing_twice_gives_the_same_article() -> None:
    assert articles("atom10.xml") == articles("atom10.xml")


# --- dates ----------------------------------------------------------------------------


def test_a_future_publication_date_is_clamped_to_first_seen() -> None:
    article = _normalize(_entry(published=NOW + timedelta(days=1)), first_seen=EARLIER)
    assert article.published == EARLIER
    assert article.first_seen == EARLIER


def test_a_past_publication_date_is_kept() -> None:
    published = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert _normalize(_entry(published=published)).published == published


def test_a_missing_publication_date_falls_back_to_the_update_date() -> None:
    updated = datetime(2024, 3, 6, tzinfo=UTC)
    article = _normalize(_entry(published=None, updated=updated))
    assert article.published == updated
    assert article.updated == updated


def test_with_no_date_at_all_the_article_is_dated_when_first_seen() -> None:
    article = _normalize(_entry(published=None, updated=None), first_seen=EARLIER)
    assert article.published == EARLIER
    assert article.updated is None


def test_an_update_date_after_first_seen_is_kept_but_capped_at_now() -> None:
    edited = EARLIER + timedelta(days=3)
    assert _normalize(_entry(updated=edited), first_seen=EARLIER).updated == edited
    future = _normalize(_entry(updated=NOW + timedelta(days=400)), first_seen=EARLIER)
    assert future.updated == NOW


def test_a_clamped_date_is_the_same_on_every_later_fetch() -> None:
    entry = _entry(published=datetime(2999, 1, 1, tzinfo=UTC))
    first = _normalize(entry, now=EARLIER, first_seen=EARLIER)
    later = _normalize(entry, now=NOW, first_seen=EARLIER)
    assert first.published == later.published == EARLIER
    assert first.content_hash == later.content_hash


def test_every_fixture_date_is_utc() -> None:
    for article in articles("odd-dates.xml") + articles("atom10.xml") + articles("rss10.rdf"):
        for value in (article.published, article.updated, article.first_seen):
            assert value is None or value.utcoffset() == timedelta(0)


# --- HTML -----------------------------------------------------------------------------

_HOSTILE = re.compile(
    r"<\s*(script|iframe|object|embed|style|form|input|param)\b|\son\w+\s*=|javascript:",
    re.IGNORECASE,
)


@pytest.mark.parametrize("name", ["scripts.xml", "rss20.xml", "atom10.xml", "relative-links.xml"])
def test_no_script_iframe_event_handler_or_javascript_url_survives(name: str) -> None:
    for article in articles(name):
        assert not _HOSTILE.search(article.content_html), article.content_html
        assert "alert(" not in article.content_html
        assert "alert(" not in article.summary


def test_safe_markup_survives_sanitizing() -> None:
    turmeric, detox, safe = articles("scripts.xml")
    assert (
        '<a href="https://www.nccih.nih.gov/health/turmeric" rel="noopener noreferrer">'
        in turmeric.content_html
    )
    assert "<ul><li>Small trials only</li><li>Poor bioavailability</li></ul>" in (
        turmeric.content_html
    )
    assert "<p><em>Bottom line:</em> talk to your doctor.</p>" in turmeric.content_html
    assert "<p>Detox teas are mostly <em>laxatives</em>.</p>" in detox.content_html
    assert '<a rel="noopener noreferrer">mixed-case js link</a>' in detox.content_html
    assert safe.content_html == (
        '<p>Drink water, sleep well, and <a href="https://www.who.int/" '
        'rel="noopener noreferrer">follow WHO guidance</a>.</p>'
        "<ul><li><em>Hydrate</em></li><li>Rest</li></ul>"
    )


def test_titles_are_plain_text() -> None:
    titles = [a.title for a in articles("scripts.xml")]
    assert titles[0] == "Bold claim & more: turmeric cures everything?"
    assert not any("<" in t or ">" in t for t in titles)


@pytest.mark.parametrize(
    ("fragment", "clean"),
    [
        (
            '<a href="/rel">x</a>',
            '<a href="https://example.org/rel" rel="noopener noreferrer">x</a>',
        ),
        ('<img src="img/a.png" alt="A">', '<img src="https://example.org/dir/img/a.png" alt="A">'),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<a href=" javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<a href="&#106;avascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<img src="data:image/png;base64,AAAA">', "<img>"),
        ('<p style="color:red" onclick="x()">t</p>', "<p>t</p>"),
        ("<p>a</p><script>alert(1)</script>", "<p>a</p>"),
        ("<style>p{}</style><p>a</p>", "<p>a</p>"),
        ("<!-- note --><p>a</p>", "<p>a</p>"),
        (
            '<a href="mailto:ed@example.org">ed</a>',
            '<a href="mailto:ed@example.org" rel="noopener noreferrer">ed</a>',
        ),
        ("", ""),
    ],
)
def test_sanitize_html(fragment: str, clean: str) -> None:
    assert sanitize_html(fragment, "https://example.org/dir/page") == clean


def test_relative_urls_in_content_become_absolute() -> None:
    by_id = {a.entry_id: a for a in articles("relative-links-rss.xml")}
    assert 'href="http://127.0.0.1/articles/1#unit"' in by_id["hospital-news-1"].content_html
    assert 'href="http://127.0.0.1/feeds/visiting.html"' in by_id["hospital-news-2"].content_html
    for article in articles("relative-links.xml"):
        assert re.findall(r'(?:href|src)="(?!https://)', article.content_html) == []


# --- plain text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("p < 0.05", "p < 0.05"),
        ("HbA1c <7% and LDL > 100", "HbA1c <7% and LDL > 100"),
        ("p &lt; 0.05", "p < 0.05"),
        ("<b>Bold</b> claim", "Bold claim"),
        ("AT&amp;T &amp; more", "AT&T & more"),
        ("Caf&eacute; &#8364;5", "Café €5"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;Safe", "Safe"),
        ("<script>alert(1)</script>Safe", "Safe"),
        ("  spread \n\t over   lines  ", "spread over lines"),
        ("&nbsp;padded&nbsp;", "padded"),
        ("\u2003em\u3000ideographic\u00a0no-break\u2028line ", "em ideographic no-break line"),
        ("", ""),
    ],
)
def test_plain_text(fragment: str, text: str) -> None:
    assert plain_text(fragment) == text


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("<p>First.</p><p>Second.</p>", "First. Second."),
        ("<ul><li>Hydrate</li><li>Rest</li></ul>", "Hydrate Rest"),
        ("line<br>break", "line break"),
    ],
)
def test_plain_text_keeps_words_of_adjacent_blocks_apart(fragment: str, text: str) -> None:
    assert plain_text(fragment) == text


def test_an_escaped_less_than_sign_before_a_word_keeps_the_text() -> None:
    assert plain_text("Infants &lt;six months at risk") == "Infants <six months at risk"


_LT_TITLE_FEEDS = {
    "rss": (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>'
        "<item><guid>i1</guid><title>Infants &lt;six months at risk</title></item>"
        "</channel></rss>"
    ),
    "atom-text": (
        '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title>T</title><entry><id>i1</id><title type="text">Infants &lt;six months at risk'
        "</title></entry></feed>"
    ),
}


@pytest.mark.parametrize("kind", sorted(_LT_TITLE_FEEDS))
def test_a_title_with_a_less_than_sign_before_a_word_is_kept_whole(kind: str) -> None:
    feed = parse_feed(fetched("rss20.xml", _LT_TITLE_FEEDS[kind].encode()))
    assert isinstance(feed, ParsedFeed)
    assert _normalize(feed.entries[0]).title == "Infants <six months at risk"


# --- summaries and titles -------------------------------------------------------------


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("Short.", SUMMARY_MAX) == "Short."
    assert truncate("x" * SUMMARY_MAX, SUMMARY_MAX) == "x" * SUMMARY_MAX


def test_truncate_cuts_at_a_word_boundary_within_the_limit() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    cut = truncate(text, SUMMARY_MAX)
    assert len(cut) <= SUMMARY_MAX
    assert cut.endswith("…")
    kept = cut.removesuffix("…")
    assert text.startswith(kept)
    assert text[len(kept)] == " "  # the cut falls between two words
    assert len(kept) > SUMMARY_MAX // 2


def test_truncate_drops_trailing_punctuation_before_the_ellipsis() -> None:
    text = "Alpha, beta; " * 60
    cut = truncate(text, SUMMARY_MAX)
    assert len(cut) <= SUMMARY_MAX
    assert not cut.removesuffix("…").endswith((",", ";", " "))


def test_truncate_cuts_one_long_word_hard() -> None:
    assert truncate("x" * 600, SUMMARY_MAX) == "x" * (SUMMARY_MAX - 1) + "…"


def test_the_summary_is_plain_text_of_at_most_500_characters() -> None:
    body = "<p>" + " ".join(["Sentence with <em>emphasis</em>."] * 40) + "</p>"
    article = _normalize(_entry(summary_html=body))
    assert len(article.summary) <= SUMMARY_MAX
    assert article.summary.endswith("…")
    assert "<" not in article.summary


def test_the_summary_falls_back_to_the_content() -> None:
    article = _normalize(_entry(summary_html="", content_html="<p>From content.</p>"))
    assert article.summary == "From content."
    assert article.content_html == "<p>From content.</p>"


def test_a_summary_with_no_text_falls_back_to_the_content() -> None:
    entry = _entry(
        summary_html='<img src="https://example.org/a.png">', content_html="<p>Text.</p>"
    )
    assert _normalize(entry).summary == "Text."


def test_a_missing_title_falls_back_to_the_summary_then_the_url() -> None:
    long_summary = "<p>" + "Words " * 40 + "</p>"
    from_summary = _normalize(_entry(title="", summary_html=long_summary))
    assert from_summary.title.startswith("Words Words")
    assert len(from_summary.title) <= 100
    from_url = _normalize(_entry(title="<b></b>", summary_html="", content_html=""))
    assert from_url.title == "https://example.org/a"
    untitled = _normalize(_entry(title="", summary_html="", content_html="", link=None))
    assert untitled.title == "Untitled"


def test_authors_and_categories_are_plain_text_and_unique() -> None:
    entry = _entry(authors=("<b>Ana</b>", "Ana", " "), categories=("A &amp; B", "A & B", "C"))
    article = _normalize(entry)
    assert article.authors == ("Ana",)
    assert article.categories == ("A & B", "C")


def test_encodings_survive_normalizing() -> None:
    titles = [a.title for a in articles("windows-1252.xml")]
    assert titles[0] == "“Miracle” supplement claims don’t hold up – review"
    assert articles("windows-1252.xml")[0].summary.startswith("Researchers say the €49")
    assert [a.title for a in articles("latin-1.xml")][2].startswith("Étude: la glycémie")


# --- DOIs -----------------------------------------------------------------------------


def test_dois_are_collected_from_links_title_and_text_lower_cased() -> None:
    dois = {a.entry_id: a.dois for a in articles("tracking-links.xml")}
    assert dois == {
        "trk-001": ("10.1056/nejmoa2308917",),
        "trk-002": ("10.1038/s41591-022-02017-5", "10.1016/s0140-6736(23)01234-5"),
        "trk-003": ("10.1001/jama.2023.1234",),
        "trk-004": (),
    }
    assert articles("atom10.xml")[0].dois == ("10.1038/s41591-022-02017-5",)


def test_a_doi_in_a_related_link_is_found() -> None:
    entry = _entry(summary_html="", links=("https://doi.org/10.1000/XYZ.123",))
    assert _normalize(entry).dois == ("10.1000/xyz.123",)
