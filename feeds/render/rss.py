"""Render a ``FeedView`` as RSS 2.0 with feedgen.

What it writes, per DESIGN.md §2 and the RSS 2.0 specification (rssboard.org):

- channel ``<link>`` = the HTML page, ``atom:link rel="self"`` = the exact URL served;
- per item: ``<guid isPermaLink="false">`` = the item's stable id, absolute ``<link>``,
  ``<pubDate>`` in RFC 822 with a numeric zone (``+0000``), ``<description>`` = sanitized HTML,
  one ``dc:creator`` per author, one ``dc:contributor`` per other outlet of a story,
  one ``<category domain="scheme">term</category>`` per topic, MeSH descriptor and cited
  study (domain ``https://doi.org/``, PubMed, ClinicalTrials.gov…), ``<source url="...">``
  attribution and at most one enclosure.

What it does not do: choose, order or clean items (the view arrives ready), or write any
XML by hand (feedgen builds the tree; this module only works around its quirks, listed where
they bite). ``xml_text`` is shared with the other XML renderers.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Final

from feedgen.feed import FeedGenerator

from feeds.render.view import FeedItem, FeedView
from feeds.xmlguard import xml_chars

MEDIA_TYPE: Final = "application/rss+xml; charset=utf-8"
# RSS 2.0 requires url, length and type on <enclosure>; the RSS Best Practices Profile
# (rssboard.org/rss-profile §enclosure) says to use 0 when the length is unknown.
UNKNOWN_MEDIA_TYPE: Final = "application/octet-stream"


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 §2.2 does not allow in a document.

    normalize already strips them from what it stores; this guards everything else a feed
    is built from (config values, rows stored before). lxml refuses such characters with
    ValueError, and one stray control character must not make a whole feed fail to render.
    """
    return xml_chars(text)


def utc_seconds(moment: datetime) -> datetime:
    """``moment`` in UTC, to the second: every format then states the same instant."""
    return moment.astimezone(UTC).replace(microsecond=0)


def description_html(item: FeedItem) -> str:
    """The item's ``<description>``: its sanitized HTML, else its summary as HTML.

    RSS 2.0 defines description as HTML ("entity-encoded HTML is allowed"), so a plain-text
    summary is escaped; otherwise a summary mentioning ``<br>`` would be read as markup.
    Quotes need no escaping in element text, and leaving them alone keeps feedparser from
    taking a plain sentence for HTML because it contains an entity.
    """
    if item.content_html:
        return xml_text(item.content_html)
    return html.escape(xml_text(item.summary), quote=False)


def render_rss(view: FeedView) -> bytes:
    """The RSS 2.0 document for ``view``, UTF-8 encoded."""
    fg = FeedGenerator()
    # feedgen writes RSS <author> only for authors with an e-mail address (RSS 2.0 defines
    # <author> as an e-mail); names go in Dublin Core dc:creator, which every reader maps to
    # the author. atom=False: this generator only ever writes RSS.
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(xml_text(view.title))
    # <description> is required on the channel (RSS 2.0 "Required channel elements").
    fg.description(xml_text(view.subtitle) or xml_text(view.title))
    # feedgen quirk: the channel <link> is the href of the LAST link() call, whatever its
    # rel. So rel="self" goes first (it becomes atom:link rel="self", per the RSS Best
    # Practices Profile) and the HTML page last (it becomes <link>).
    fg.link(href=xml_text(view.self_url), rel="self", type="application/rss+xml")
    fg.link(href=xml_text(view.html_url), rel="alternate")
    # feedgen defaults lastBuildDate to "now"; the view's date keeps the body byte-identical
    # from one render to the next (bodies are cached and ETagged).
    fg.lastBuildDate(utc_seconds(view.updated))
    fg.generator(xml_text(view.generator))
    if view.icon_url:
        fg.image(url=xml_text(view.icon_url), title=xml_text(view.title), link=view.html_url)
    for item in view.items:
        _add_item(fg, item)
    body: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return body


def _add_item(fg: FeedGenerator, item: FeedItem) -> None:
    # feedgen quirk: add_entry() prepends by default, which would reverse the view's
    # newest-first order.
    entry = fg.add_entry(order="append")
    # id() writes <guid isPermaLink="false">: the id is a tag: URI, not a page to open.
    entry.id(xml_text(item.id))
    entry.title(xml_text(item.title))
    if item.url:
        entry.link(href=xml_text(item.url), rel="alternate")
    entry.description(description_html(item))
    # feedgen formats pubDate with strftime("%a, %d %b %Y %H:%M:%S %z") in the C locale:
    # a UTC datetime gives the numeric zone "+0000" that DESIGN.md §2 asks for.
    entry.published(utc_seconds(item.published))
    names = [xml_text(name) for name in item.authors if xml_text(name).strip()]
    if names:
        entry.dc.dc_creator(names)
    # RSS has one <source> per item; the story's other outlets are Dublin Core contributors
    # ("an entity responsible for making contributions to the resource"), which feedparser
    # and most readers list with the item. Their links are in the description.
    outlets = [xml_text(o.name) for o in item.also if xml_text(o.name).strip()]
    if outlets:
        entry.dc.dc_contributor(outlets)
    # feedgen writes a category's label (not its term) as the element text when one is
    # given; RSS readers compare terms, so only term + domain are passed.
    categories = [{"term": xml_text(c.term), "scheme": xml_text(c.scheme)} for c in item.categories]
    # A study is a category in its resolver's domain (https://doi.org/, PubMed, …): the
    # domain followed by the term is the study's URL.
    categories += [{"term": xml_text(s.value), "scheme": s.domain} for s in item.cited]
    if categories:
        entry.category(categories)
    if item.enclosures:
        # RSS Best Practices Profile: "an item should not contain more than one enclosure"
        # for the widest support (and feedgen keeps only the last one anyway). The others
        # are in the Atom and JSON Feed renderings.
        first = item.enclosures[0]
        entry.enclosure(
            url=xml_text(first.url),
            # feedgen quirk: enclosure() does str(length), so None would be written "None".
            length=str(first.length if first.length is not None else 0),
            # feedgen quirk: a None type makes lxml raise; RSS 2.0 requires the attribute.
            type=xml_text(first.type) if first.type else UNKNOWN_MEDIA_TYPE,
        )
    entry.source(url=xml_text(item.source.feed_url), title=xml_text(item.source.name))
