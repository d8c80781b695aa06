"""The pure decisions behind hostile-feed handling: which DTDs are refused, which character
references are neutralized, which entries a capped feed keeps, which dates, media types and
URLs normalize keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.errors import ErrorKind
from feeds.models import Failed, Fetched, ParsedFeed, Validators
from feeds.normalize import media_type, plausible_date, sanitize_html
from feeds.parse import parse_feed
from feeds.xmlguard import entity_problem, neutralize_char_refs
from tests.httpserver import flood

ROOT = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


def doc(subset: str, encoding: str = "UTF-8") -> bytes:
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE rss [{subset}]>\n'
    return prolog.encode() + ROOT


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (ROOT, None),
        (b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/x.dtd">' + ROOT, None),
        (doc('<!ENTITY nbsp "&#160;"><!ENTITY co "Acme">'), None),
        (doc('<!ENTITY x SYSTEM "file:///etc/passwd">'), "external entity &x;"),
        (doc('<!ENTITY x PUBLIC "-//A//B" "http://h/x">'), "external entity &x;"),
        (doc('<!ENTITY % p SYSTEM "http://h/p.dtd">'), "parameter entity %p;"),
        (doc('<!ENTITY a "ha"><!ENTITY b "&a;&a;">'), "&b; refers to other entities"),
        (doc(f'<!ENTITY big "{"x" * 9}">'), "&big; stands for 9 characters"),
        (doc("".join(f'<!ENTITY e{i} "x">' for i in range(33))), "more than 32 entities"),
        # expat cannot read this charset: the byte scan still sees the declaration.
        (doc('<!ENTITY x SYSTEM "file:///etc/passwd">', "x-no-such-charset"), "declares"),
        (doc('<!ENTITY x "y">', "UTF-16").decode().encode("utf-16"), None),
        (
            doc('<!ENTITY x SYSTEM "/etc/passwd">', "UTF-16").decode().encode("utf-16"),
            "external entity",
        ),
        (b"\x00\xff garbage <!ENTITY x SYSTEM 'y'>", "declares"),
        (b"\x00\xff garbage without declarations", None),
    ],
)
def test_a_dtd_is_refused_for_what_it_declares(body: bytes, problem: str | None) -> None:
    found = entity_problem(body)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_an_entity_quoted_after_the_root_element_is_not_a_declaration() -> None:
    body = ROOT.replace(b"<title>t", b"<title><![CDATA[<!ENTITY x SYSTEM 'y'>]]>")
    assert entity_problem(body) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (b"a&#0;b&#x1;c&#8;", b"a&#xFFFD;b&#xFFFD;c&#xFFFD;"),
        (b"&#xD800;&#55296;&#xDFFF;", b"&#xFFFD;&#xFFFD;&#xFFFD;"),
        (b"&#xFFFE;&#xFFFF;&#x110000;", b"&#xFFFD;&#xFFFD;&#xFFFD;"),
        (b"&#9;&#10;&#x20;&#xE9;&#x1F600;&amp;", b"&#9;&#10;&#x20;&#xE9;&#x1F600;&amp;"),
    ],
)
def test_references_to_characters_xml_forbids_become_replacement_characters(
    before: bytes, after: bytes
) -> None:
    assert neutralize_char_refs(before) == after


def fetched(body: bytes) -> Fetched:
    return Fetched("http://feeds.test/feed.xml", body, "application/rss+xml", Validators(), 0.0)


def test_a_lone_surrogate_reference_in_a_broken_feed_does_not_crash_the_parser() -> None:
    # Not well-formed (a bare "&"), so feedparser's loose parser runs; before the
    # references were neutralized it raised UnicodeEncodeError on "&#xD800;".
    body = ROOT.replace(b"<title>t", b"<title>a & b &#xD800;").replace(
        b"</channel>", b"<item><title>x &#xD800;</title><link>http://e.org/</link></item></channel>"
    )
    result = parse_feed(fetched(body))
    assert isinstance(result, ParsedFeed)
    assert result.entries[0].title == "x \ufffd"


def test_a_feed_over_max_items_keeps_the_newest_in_feed_order() -> None:
    result = parse_feed(fetched(flood(30)), max_items=5)  # oldest first: 0 .. 29
    assert isinstance(result, ParsedFeed)
    assert [e.title for e in result.entries] == [f"Bulletin {i}" for i in range(25, 30)]
    assert "30 entries, kept the 5 newest" in result.warnings[0]


def test_an_entity_bomb_fails_as_parse_before_feedparser_sees_it() -> None:
    laughs = '<!ENTITY a "aaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    result = parse_feed(fetched(doc(laughs)))
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.PARSE
    assert result.message.startswith("parse: entity declarations refused")


NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "kept"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), False),
        (datetime(1970, 1, 1, tzinfo=UTC), False),  # a null Unix timestamp
        (datetime(1970, 1, 2, tzinfo=UTC), True),
        (datetime(1999, 12, 31, tzinfo=UTC), True),
        (datetime(9999, 12, 31, tzinfo=UTC), True),  # kept here; clamped to first seen later
        (None, False),
    ],
)
def test_only_plausible_dates_count_as_dates(moment: datetime | None, kept: bool) -> None:
    assert plausible_date(moment) == (moment if kept else None)


@pytest.mark.parametrize(
    ("declared", "kept"),
    [
        ("audio/mpeg", "audio/mpeg"),
        ("Audio/MPEG; charset=x", "audio/mpeg"),
        ("application/vnd.apple.mpegurl", "application/vnd.apple.mpegurl"),
        ('text/html" onload="alert(1)', None),
        ("audio", None),
        ("", None),
        (None, None),
    ],
)
def test_an_enclosure_type_is_a_media_type_or_nothing(
    declared: str | None, kept: str | None
) -> None:
    assert media_type(declared) == kept


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " \x0e javascript:alert(1)",
        "jav\tascript:alert(1)",
        "java\nscript:alert(1)",
        "\ufffd javascript:alert(1)",
        "VBScript:x",
        "data:text/html,x",
    ],
)
def test_a_url_that_a_browser_reads_as_script_is_dropped_not_joined(href: str) -> None:
    html = sanitize_html(f'<a href="{href}">x</a>', "https://news.example.org/a/")
    assert html == '<a rel="noopener noreferrer">x</a>'


def test_a_relative_url_is_still_joined_to_the_base() -> None:
    html = sanitize_html('<a href="b/c:d">x</a>', "https://news.example.org/a/")
    assert 'href="https://news.example.org/a/b/c:d"' in html


def test_an_xml_base_with_a_script_scheme_is_not_used_as_the_base() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(1)//">'
        b"<title>t</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated>"
        b"<entry><title>e</title><id>urn:e</id><updated>2024-01-01T00:00:00Z</updated>"
        b'<content type="html">&lt;a href="page.html"&gt;p&lt;/a&gt;</content></entry></feed>'
    )
    result = parse_feed(fetched(body))
    assert isinstance(result, ParsedFeed)
    assert result.entries[0].html_base == "http://feeds.test/feed.xml"
