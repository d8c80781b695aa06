"""Renderers, read back the way readers read them (DESIGN.md §2).

RSS and Atom are parsed with feedparser and every rule is checked on what feedparser
reports; JSON Feed is validated against the JSON Feed 1.1 schema; OPML is parsed with
ElementTree. The last section pins the feedgen quirks the renderers work around: if one of
those tests fails after a feedgen upgrade, the workaround it names may be simplified (the
output tests above keep guarding the output either way).
"""

from __future__ import annotations

import calendar
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from feedgen.feed import FeedGenerator
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from feeds.models import Enclosure
from feeds.render.opml import OpmlOutline, render_opml
from feeds.render.registry import RENDERERS, Rendered, render
from feeds.render.view import FeedItem, FeedView
from tests.atom import ATOM
from tests.render_fixtures import (
    BARE_ITEM,
    FULL_ITEM,
    HEALTH_NOTES,
    HTML_URL,
    LUPUS_WIRE,
    SELF_URL,
    TRICKY_ITEM,
    TRICKY_TITLE,
    empty_view,
    sample_view,
)

FORMATS = ("rss", "atom", "json")
XML_FORMATS = ("rss", "atom")
DC = "{http://purl.org/dc/elements/1.1/}"
# RFC 822 (as updated by RFC 1123: four-digit year) with the numeric zone DESIGN.md §2 asks.
RFC_822_UTC = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d\d:\d\d:\d\d \+0000"
)
# RFC 3339 in UTC with uppercase T and Z.
RFC_3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# The shared/ folder beside the repository holds the JSON Feed schemas.
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"


def body(fmt: str, view: FeedView | None = None) -> bytes:
    return render(view or sample_view(), fmt).body


def read(fmt: str, view: FeedView | None = None) -> Any:
    """feedparser's reading of the rendered feed, which must be free of errors."""
    result = feedparser.parse(body(fmt, view))
    assert not result.bozo, result.get("bozo_exception")
    return result


def instant(parsed: Any) -> datetime:
    """A feedparser ``*_parsed`` value (a UTC struct_time) as an aware datetime."""
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def json_feed(view: FeedView | None = None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body("json", view))
    return document


def one_item_view(item: FeedItem) -> FeedView:
    return replace(sample_view(), items=(item,))


# --- registry --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("rss", "application/rss+xml; charset=utf-8"),
        ("atom", "application/atom+xml; charset=utf-8"),
        ("json", "application/feed+json; charset=utf-8"),
    ],
)
def test_render_looks_a_format_up_by_name_and_names_its_media_type(
    fmt: str, media_type: str
) -> None:
    rendered = render(sample_view(), fmt)
    assert rendered == RENDERERS[fmt](sample_view())
    assert rendered.media_type == media_type
    assert rendered.body


def test_the_registry_holds_exactly_rss_atom_and_json() -> None:
    assert sorted(RENDERERS) == ["atom", "json", "rss"]


def test_render_raises_key_error_for_an_unknown_format() -> None:
    with pytest.raises(KeyError, match="unknown feed format 'rdf'"):
        render(sample_view(), "rdf")


# --- every format ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_equal_views_twice_gives_identical_bytes(fmt: str) -> None:
    # Bodies are cached and ETagged: two renders of the same data must not differ.
    assert body(fmt, sample_view()) == body(fmt, sample_view())
    assert body(fmt, empty_view()) == body(fmt, empty_view())


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_renderer_writes_the_time_of_rendering(fmt: str) -> None:
    # feedgen defaults feed and entry dates to "now"; every date must come from the view.
    today = date.today()
    text = body(fmt).decode()
    assert today.isoformat() not in text
    assert today.strftime("%d %b %Y") not in text


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_an_empty_feed_is_a_valid_rss_or_atom_document(fmt: str) -> None:
    view = empty_view()
    result = read(fmt, view)
    assert result.version == {"rss": "rss20", "atom": "atom10"}[fmt]
    assert result.entries == []
    assert result.feed.title == view.title
    assert instant(result.feed.updated_parsed) == view.updated


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_items_keep_the_views_newest_first_order(fmt: str) -> None:
    # feedgen's add_entry() prepends unless told to append.
    assert [e.id for e in read(fmt).entries] == [i.id for i in sample_view().items]


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_titles_with_markup_characters_round_trip_exactly(fmt: str) -> None:
    result = read(fmt)
    tricky = result.entries[2]
    assert tricky.title == TRICKY_TITLE
    assert tricky.title_detail.type == "text/plain"
    assert result.feed.title == sample_view().title
    assert json_feed()["items"][2]["title"] == TRICKY_TITLE


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_characters_xml_cannot_carry_are_dropped_rather_than_failing_the_feed(fmt: str) -> None:
    item = replace(TRICKY_ITEM, title="Bad\x0b title\x00", authors=("A\x1bB",))
    entry = read(fmt, one_item_view(item)).entries[0]
    assert entry.title == "Bad title"
    assert entry.authors == [{"name": "AB"}]


def test_the_feed_icon_is_written_in_every_format() -> None:
    icon = "https://feeds.example.org/static/icon.png"
    view = replace(sample_view(), icon_url=icon)
    assert read("rss", view).feed.image.href == icon
    assert read("atom", view).feed.icon == icon
    assert json_feed(view)["icon"] == icon


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_ids_are_stable_and_unique(fmt: str) -> None:
    first, second = read(fmt), read(fmt)
    ids = [e.id for e in first.entries]
    assert ids == [e.id for e in second.entries]
    assert len(set(ids)) == len(ids)


# --- RSS 2.0 ---------------------------------------------------------------------------


def test_rss_is_read_as_rss_2_with_every_item() -> None:
    result = read("rss")
    assert result.version == "rss20"
    assert len(result.entries) == 3


def test_rss_guid_is_the_item_id_and_not_a_permalink() -> None:
    result = read("rss")
    for entry, item in zip(result.entries, sample_view().items, strict=True):
        assert entry.id == item.id
        assert entry.guidislink is False
    guids = ET.fromstring(body("rss")).findall("channel/item/guid")
    assert [g.get("isPermaLink") for g in guids] == ["false"] * 3


def test_rss_dates_are_rfc_822_with_a_numeric_utc_zone() -> None:
    result = read("rss")
    view = sample_view()
    assert RFC_822_UTC.fullmatch(result.feed.updated)  # lastBuildDate
    assert instant(result.feed.updated_parsed) == view.updated
    for entry, item in zip(result.entries, view.items, strict=True):
        assert RFC_822_UTC.fullmatch(entry.published), entry.published
        assert instant(entry.published_parsed) == item.published


def test_rss_channel_link_is_the_html_page_and_the_self_link_is_the_exact_url_served() -> None:
    feed = read("rss").feed
    assert feed.link == HTML_URL
    assert [link.href for link in feed.links if link.rel == "self"] == [SELF_URL]
    # The query string's "&" is escaped in the attribute, not dropped or doubled.
    assert b'href="https://feeds.example.org/feed?topics=lupus,car-t&amp;match=all' in body("rss")


def test_rss_item_link_is_the_absolute_article_url() -> None:
    entries = read("rss").entries
    assert [e.link for e in entries] == [i.url for i in sample_view().items]


def test_rss_writes_one_dc_creator_per_author_and_no_rss_author() -> None:
    entries = read("rss").entries
    assert entries[0].authors == [{"name": "Jane Doe"}, {"name": "Ravi Kumar"}]
    assert entries[0].author_detail.name == "Jane Doe"
    # (feedparser's flat ``author`` string is the LAST of several authors, in RSS and Atom
    # alike; ``authors`` is the list to read. Atom therefore writes one author only.)
    assert entries[2].author == "Zoë O'Brien"
    assert "author" not in entries[1]
    items = ET.fromstring(body("rss")).findall("channel/item")
    assert [len(i.findall(f"{DC}creator")) for i in items] == [2, 0, 1]
    assert [i.find("author") for i in items] == [None, None, None]


def test_rss_categories_carry_their_scheme_as_domain() -> None:
    tags = read("rss").entries[0].tags
    topics_and_mesh = [(t.term, t.scheme) for t in tags if t.scheme != "https://doi.org/"]
    assert topics_and_mesh == [(c.term, c.scheme) for c in FULL_ITEM.categories]


def test_rss_dois_are_categories_in_the_doi_org_domain() -> None:
    tags = read("rss").entries[0].tags
    assert [t.term for t in tags if t.scheme == "https://doi.org/"] == list(FULL_ITEM.dois)


def test_rss_attributes_each_item_to_its_source_feed() -> None:
    entries = read("rss").entries
    assert entries[0].source == {"href": LUPUS_WIRE.feed_url, "title": LUPUS_WIRE.name}
    assert entries[1].source == {"href": HEALTH_NOTES.feed_url, "title": HEALTH_NOTES.name}


def test_rss_description_is_the_html_content_or_else_the_summary_escaped_as_html() -> None:
    full, bare, _ = read("rss").entries
    assert full.summary_detail.type == "text/html"
    assert full.summary == FULL_ITEM.content_html
    # A plain-text summary is text in HTML: its "&" arrives as "&amp;", meaning "&".
    assert bare.summary_detail.type == "text/html"
    assert bare.summary == html.escape(BARE_ITEM.summary, quote=False)
    assert html.unescape(bare.summary) == BARE_ITEM.summary


def test_rss_never_uses_cdata() -> None:
    assert b"CDATA" not in body("rss")


def test_rss_writes_only_the_first_enclosure_with_its_type_and_length() -> None:
    enclosures = [link for link in read("rss").entries[0].links if link.rel == "enclosure"]
    assert enclosures == [
        {
            "href": "https://lupus.example.com/audio/ep42.mp3",
            "rel": "enclosure",
            "type": "audio/mpeg",
            "length": "1234567",
        }
    ]


def test_rss_enclosure_of_unknown_type_and_size_says_octet_stream_and_zero() -> None:
    item = replace(FULL_ITEM, enclosures=(Enclosure(url="https://x.example/a.bin"),))
    enclosure = ET.fromstring(body("rss", one_item_view(item))).find("channel/item/enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": "https://x.example/a.bin",
        "length": "0",
        "type": "application/octet-stream",
    }


def test_rss_item_without_url_has_no_link_but_keeps_its_guid() -> None:
    entry = read("rss", one_item_view(replace(BARE_ITEM, url=None))).entries[0]
    assert "link" not in entry
    assert entry.id == BARE_ITEM.id


# --- Atom 1.0 --------------------------------------------------------------------------


def test_atom_is_read_as_atom_1_0_with_every_entry() -> None:
    result = read("atom")
    assert result.version == "atom10"
    assert [e.id for e in result.entries] == [i.id for i in sample_view().items]


def test_atom_feed_has_id_title_subtitle_updated_and_generator() -> None:
    feed = read("atom").feed
    view = sample_view()
    assert (feed.id, feed.title, feed.subtitle) == (view.id, view.title, view.subtitle)
    assert RFC_3339_UTC.fullmatch(feed.updated)
    assert instant(feed.updated_parsed) == view.updated
    assert feed.generator == view.generator


def test_atom_feed_links_self_to_the_exact_url_and_alternate_to_the_html_page() -> None:
    links = {(link.rel, link.href) for link in read("atom").feed.links}
    assert links == {("self", SELF_URL), ("alternate", HTML_URL)}


def test_atom_dates_are_rfc_3339_with_uppercase_t_and_z_on_every_entry() -> None:
    entries = read("atom").entries
    for entry, item in zip(entries, sample_view().items, strict=True):
        assert RFC_3339_UTC.fullmatch(entry.published), entry.published
        assert RFC_3339_UTC.fullmatch(entry.updated), entry.updated
        assert instant(entry.published_parsed) == item.published
        assert instant(entry.updated_parsed) == item.updated


def test_atom_entry_links_put_the_absolute_alternate_link_first() -> None:
    entries = read("atom").entries
    for entry, item in zip(entries, sample_view().items, strict=True):
        assert (entry.links[0].rel, entry.links[0].href) == ("alternate", item.url)
        assert entry.link == item.url
        # The link comes before the id, so feedparser does not take the id for the link.
        assert entry.guidislink is False
    # The same in document order, whatever feedparser does with it.
    for entry in ET.fromstring(body("atom")).iter(f"{ATOM}entry"):
        first = entry.find(f"{ATOM}link")
        assert first is not None
        assert first.get("rel") == "alternate"


def test_atom_entries_link_their_dois_as_related_links() -> None:
    entries = read("atom").entries
    related = [[link.href for link in e.links if link.rel == "related"] for e in entries]
    assert related == [
        [
            "https://doi.org/10.1056/nejmoa2308917",
            "https://doi.org/10.1016/s0140-6736(23)01234-5",
        ],
        [],
        ["https://doi.org/10.1200/jco.2024.42.16"],
    ]


def test_atom_enclosures_keep_rel_type_and_length() -> None:
    enclosures = [link for link in read("atom").entries[0].links if link.rel == "enclosure"]
    assert enclosures == [
        {
            "href": "https://lupus.example.com/audio/ep42.mp3",
            "rel": "enclosure",
            "type": "audio/mpeg",
            "length": "1234567",
        },
        # Without a type, feedparser would report "text/html" for a PDF.
        {
            "href": "https://lupus.example.com/slides/ep42.pdf",
            "rel": "enclosure",
            "type": "application/octet-stream",
        },
    ]


def test_atom_has_one_author_per_entry_and_falls_back_to_the_source_name() -> None:
    entries = read("atom").entries
    assert [e.authors for e in entries] == [
        [{"name": "Jane Doe"}],
        [{"name": HEALTH_NOTES.name}],
        [{"name": "Zoë O'Brien"}],
    ]


def test_atom_categories_carry_term_scheme_and_label() -> None:
    tags = read("atom").entries[0].tags
    assert [(t.term, t.scheme, t.label) for t in tags] == [
        (c.term, c.scheme, c.label) for c in FULL_ITEM.categories
    ]


def test_atom_summary_is_plain_text_and_content_is_html() -> None:
    full, bare, tricky = read("atom").entries
    assert (full.summary_detail.type, full.summary) == ("text/plain", FULL_ITEM.summary)
    assert (tricky.summary_detail.type, tricky.summary) == ("text/plain", TRICKY_ITEM.summary)
    assert [(c.type, c.value) for c in full.content] == [("text/html", FULL_ITEM.content_html)]
    assert [(c.type, c.value) for c in tricky.content] == [("text/html", TRICKY_ITEM.content_html)]
    assert "content" not in bare


def test_atom_entry_without_link_or_content_carries_its_summary_as_text_content() -> None:
    # RFC 4287 §4.1.1.1: an entry with no alternate link MUST have atom:content.
    entry = read("atom", one_item_view(replace(BARE_ITEM, url=None))).entries[0]
    assert [(c.type, c.value) for c in entry.content] == [("text/plain", BARE_ITEM.summary)]
    assert "links" not in entry
    # feedparser's fallback for an Atom entry with no link at all: the id stands in. Atom
    # has no valid way to say "this id is not a link" (RSS has isPermaLink="false").
    assert (entry.link, entry.guidislink) == (BARE_ITEM.id, True)


def test_atom_source_names_the_original_feed() -> None:
    source = read("atom").entries[0].source
    assert source.id == LUPUS_WIRE.feed_url
    assert source.title == LUPUS_WIRE.name
    assert RFC_3339_UTC.fullmatch(source.updated)
    assert instant(source.updated_parsed) == LUPUS_WIRE.updated
    links = [(link.rel, link.href) for link in source.links]
    assert links == [("self", LUPUS_WIRE.feed_url), ("alternate", LUPUS_WIRE.site_url)]


def test_atom_source_without_a_site_has_only_its_self_link() -> None:
    source = read("atom").entries[1].source
    assert [(link.rel, link.href) for link in source.links] == [("self", HEALTH_NOTES.feed_url)]


def test_atom_declares_atom_as_the_default_namespace() -> None:
    # Prefixed Atom ("ns0:feed") is valid XML but trips readers that match element names.
    assert b'<feed xmlns="http://www.w3.org/2005/Atom">' in body("atom")
    assert b"ns0:" not in body("atom")


# --- JSON Feed 1.1 ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def json_feed_schema() -> Draft4Validator:
    """A validator for the JSON Feed 1.1 schema, which $refs the 1.0 schema beside it."""
    v11_path = SCHEMAS / "jsonfeed-1.1.schema.json"
    v10_path = SCHEMAS / "jsonfeed-1.0.schema.json"
    if not (v11_path.is_file() and v10_path.is_file()):
        pytest.skip(f"JSON Feed schemas not found in {SCHEMAS} (shared/ beside the repository)")
    v11 = json.loads(v11_path.read_text(encoding="utf-8"))
    v10 = json.loads(v10_path.read_text(encoding="utf-8"))
    # 1.1 says "$ref": "feed-1#/...", relative to its own id: the 1.0 schema's id.
    registry: Registry[Any] = Registry().with_resource(
        v10["id"], Resource.from_contents(v10, default_specification=DRAFT4)
    )
    return Draft4Validator(v11, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("make_view", [sample_view, empty_view])
def test_json_feed_validates_against_the_json_feed_1_1_schema(
    json_feed_schema: Draft4Validator, make_view: Callable[[], FeedView]
) -> None:
    errors = [e.message for e in json_feed_schema.iter_errors(json_feed(make_view()))]
    assert errors == []


def test_the_json_feed_schema_check_would_catch_an_item_without_content(
    json_feed_schema: Draft4Validator,
) -> None:
    # Proves the schema (and its $refs) is really applied, not vacuously passing.
    document = json_feed()
    del document["items"][0]["content_html"]
    assert not json_feed_schema.is_valid(document)


def test_json_feed_names_its_version_home_page_and_exact_feed_url() -> None:
    document = json_feed()
    view = sample_view()
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == view.title
    assert document["home_page_url"] == HTML_URL
    assert document["feed_url"] == SELF_URL
    assert document["description"] == view.subtitle


def test_json_feed_items_have_string_ids_content_and_an_authors_array() -> None:
    items = json_feed()["items"]
    assert [i["id"] for i in items] == [i.id for i in sample_view().items]
    assert all(isinstance(i["id"], str) for i in items)
    assert items[0]["content_html"] == FULL_ITEM.content_html
    assert "content_text" not in items[0]
    # No HTML: the summary is the text content.
    assert items[1]["content_text"] == BARE_ITEM.summary
    assert "content_html" not in items[1]
    assert [i["authors"] for i in items] == [
        [{"name": "Jane Doe"}, {"name": "Ravi Kumar"}],
        [],
        [{"name": "Zoë O'Brien"}],
    ]


def test_json_feed_dates_are_rfc_3339_utc() -> None:
    for item, source in zip(json_feed()["items"], sample_view().items, strict=True):
        assert RFC_3339_UTC.fullmatch(item["date_published"])
        assert RFC_3339_UTC.fullmatch(item["date_modified"])
        assert datetime.fromisoformat(item["date_published"]) == source.published
        assert datetime.fromisoformat(item["date_modified"]) == source.updated


def test_json_feed_tags_are_the_topic_slugs() -> None:
    items = json_feed()["items"]
    assert [i["tags"] for i in items] == [["lupus", "car-t"], ["lupus"], ["car-t"]]


def test_json_feed_extension_carries_source_topics_mesh_and_dois() -> None:
    full, bare, _ = json_feed()["items"]
    assert full["_feeds"] == {
        "source": {
            "id": "lupus-wire",
            "name": "Lupus Research Wire",
            "feed_url": LUPUS_WIRE.feed_url,
            "site_url": LUPUS_WIRE.site_url,
        },
        "topics": [
            {"slug": "lupus", "title": "Lupus"},
            {"slug": "car-t", "title": "CAR-T cell therapy"},
        ],
        "mesh": [
            {"ui": "D008180", "heading": "Lupus Erythematosus, Systemic"},
            {"ui": "D059467", "heading": "Receptors, Chimeric Antigen"},
        ],
        "dois": list(FULL_ITEM.dois),
        "studies": [
            {
                "id": f"doi:{doi}",
                "scheme": "doi",
                "url": f"https://doi.org/{doi}",
                "preprint": False,
            }
            for doi in FULL_ITEM.dois
        ],
    }
    assert bare["_feeds"]["source"]["site_url"] is None
    assert (bare["_feeds"]["mesh"], bare["_feeds"]["dois"]) == ([], [])


def test_json_feed_attachments_always_have_a_mime_type() -> None:
    assert json_feed()["items"][0]["attachments"] == [
        {
            "url": "https://lupus.example.com/audio/ep42.mp3",
            "mime_type": "audio/mpeg",
            "size_in_bytes": 1234567,
        },
        {
            "url": "https://lupus.example.com/slides/ep42.pdf",
            "mime_type": "application/octet-stream",
        },
    ]


def test_json_feed_of_an_empty_view_has_an_empty_items_array() -> None:
    assert json_feed(empty_view())["items"] == []


# --- OPML 2.0 --------------------------------------------------------------------------

OUTLINES = (
    OpmlOutline(
        text="Lupus & CAR-T",
        title="Lupus & CAR-T — Health News Feeds",
        xml_url=SELF_URL,
        html_url=HTML_URL,
        description='News on lupus, "CAR-T" <cells>.',
    ),
    OpmlOutline(
        text="Rare disease",
        title="Rare disease — Health News Feeds",
        xml_url="https://feeds.example.org/topics/rare-disease/feed.atom",
        html_url="https://feeds.example.org/topics/rare-disease/",
    ),
)


def opml_root(rendered: Rendered) -> ET.Element:
    return ET.fromstring(rendered.body)


def test_opml_lists_every_feed_as_an_outline_with_type_text_and_both_urls() -> None:
    rendered = render_opml("Health News Feeds — topics", OUTLINES)
    assert rendered.media_type == "text/x-opml; charset=utf-8"
    root = opml_root(rendered)
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "Health News Feeds — topics"
    outlines = root.findall("body/outline")
    assert [o.attrib for o in outlines] == [
        {
            "type": "rss",
            "text": "Lupus & CAR-T",
            "title": "Lupus & CAR-T — Health News Feeds",
            "xmlUrl": SELF_URL,
            "htmlUrl": HTML_URL,
            "description": 'News on lupus, "CAR-T" <cells>.',
        },
        {
            "type": "rss",
            "text": "Rare disease",
            "title": "Rare disease — Health News Feeds",
            "xmlUrl": "https://feeds.example.org/topics/rare-disease/feed.atom",
            "htmlUrl": "https://feeds.example.org/topics/rare-disease/",
        },
    ]


def test_opml_writes_date_created_in_rfc_822_and_owner_name_only_when_given() -> None:
    bare = opml_root(render_opml("Feeds", OUTLINES))
    assert bare.find("head/dateCreated") is None
    assert bare.find("head/ownerName") is None
    when = datetime(2024, 5, 2, 6, 0, 0, tzinfo=UTC)
    full = opml_root(render_opml("Feeds", OUTLINES, date_created=when, owner_name="Feeds team"))
    assert full.findtext("head/dateCreated") == "Thu, 02 May 2024 06:00:00 +0000"
    assert full.findtext("head/ownerName") == "Feeds team"


def test_opml_with_no_outlines_is_still_a_well_formed_opml_document() -> None:
    root = opml_root(render_opml("Nothing yet", ()))
    assert root.get("version") == "2.0"
    body_element = root.find("body")
    assert body_element is not None
    assert list(body_element) == []


def test_opml_renders_the_same_bytes_twice() -> None:
    assert render_opml("Feeds", OUTLINES) == render_opml("Feeds", OUTLINES)


# --- feedgen quirks the renderers work around ------------------------------------------


def _feedgen_with_one_entry() -> Any:
    fg = FeedGenerator()
    fg.id("tag:example.org,2024:feed")
    fg.title("t")
    fg.description("d")
    fg.updated(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    fg.link(href="https://example.org/self", rel="self")
    fg.link(href="https://example.org/", rel="alternate")
    entry = fg.add_entry()
    entry.id("tag:example.org,2024:1")
    entry.title("e")
    entry.updated(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    entry.link(href="https://example.org/1", rel="alternate")
    entry.link(href="https://example.org/1.mp3", rel="enclosure", type="audio/mpeg")
    entry.author(name="Jane Doe")
    return fg


def test_feedgen_drops_rel_and_type_on_atom_entry_links_so_atom_rewrites_them() -> None:
    atom = _feedgen_with_one_entry().atom_str()
    assert b'<link href="https://example.org/1.mp3"/>' in atom
    assert b'rel="enclosure"' not in atom


def test_feedgen_writes_atom_dates_as_offsets_so_atom_rewrites_them_with_z() -> None:
    assert b"<updated>2024-01-02T03:04:05+00:00</updated>" in _feedgen_with_one_entry().atom_str()


def test_feedgen_writes_rss_author_only_with_an_email_so_rss_uses_dc_creator() -> None:
    assert b"<author>" not in _feedgen_with_one_entry().rss_str()


def test_feedgen_takes_the_rss_channel_link_from_the_last_link_added() -> None:
    fg = _feedgen_with_one_entry()
    fg.link(href="https://example.org/self", rel="self")
    assert b"<link>https://example.org/self</link>" in fg.rss_str()
