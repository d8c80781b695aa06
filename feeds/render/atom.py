"""Render a ``FeedView`` as Atom 1.0 (RFC 4287): feedgen builds it, a fix-up pass completes it.

feedgen writes the feed and entry skeleton (ids, titles, author, summary, content,
categories, feed links, generator). Where feedgen 1.0 falls short, the document it wrote is
parsed back with the standard library's ElementTree and corrected, entry by entry, from the
view itself (not from what feedgen happened to write):

- dates: feedgen writes ``isoformat()`` (``+00:00``); DESIGN.md §2 asks for RFC 3339 with an
  uppercase ``T`` and ``Z``, so every ``updated``/``published`` is rewritten;
- entry links: feedgen drops ``rel``/``type``/``length`` on entry links, turning enclosures
  and related links into alternates; all entry links are rewritten, the absolute
  ``rel="alternate"`` first (DESIGN.md §2), then ``rel="related"`` study links (DOI,
  PubMed, ClinicalTrials.gov, …: ``StudyId.url``), then
  ``rel="enclosure"`` links, all at the top of the entry;
- ``atom:source``: feedgen writes only a title and an untyped link; it is rewritten with
  ``id``, ``title``, ``updated`` and ``link rel="self"`` (RFC 4287 §4.2.11).

It does not choose or clean items, and it writes no XML text by hand.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Final

from feedgen.feed import FeedGenerator

from feeds.render.rss import UNKNOWN_MEDIA_TYPE, utc_seconds, xml_text
from feeds.render.view import FeedItem, FeedView

MEDIA_TYPE: Final = "application/atom+xml; charset=utf-8"
ATOM_NS: Final = "http://www.w3.org/2005/Atom"


def rfc3339(moment: datetime) -> str:
    """``moment`` as RFC 3339, UTC, to the second, with ``T`` and ``Z``: 2024-01-02T03:04:05Z."""
    return utc_seconds(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_atom(view: FeedView) -> bytes:
    """The Atom 1.0 document for ``view``, UTF-8 encoded."""
    fg = FeedGenerator()
    fg.id(xml_text(view.id))
    fg.title(xml_text(view.title))
    if view.subtitle:
        fg.subtitle(xml_text(view.subtitle))
    # feedgen defaults updated to "now"; set it so renders are byte-identical.
    fg.updated(utc_seconds(view.updated))
    fg.link(href=xml_text(view.self_url), rel="self", type="application/atom+xml")
    fg.link(href=xml_text(view.html_url), rel="alternate", type="text/html")
    fg.generator(xml_text(view.generator))
    if view.icon_url:
        fg.icon(xml_text(view.icon_url))
    for item in view.items:
        _add_entry(fg, item)
    skeleton: bytes = fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return _complete(skeleton, view)


def _add_entry(fg: FeedGenerator, item: FeedItem) -> None:
    # feedgen quirk: add_entry() prepends by default, which would reverse the view's order.
    entry = fg.add_entry(order="append")
    entry.id(xml_text(item.id))
    entry.title(xml_text(item.title))
    entry.updated(utc_seconds(item.updated))
    entry.published(utc_seconds(item.published))
    # RFC 4287 §4.1.2: an entry MUST have an author unless its feed or source has one. One
    # author (DESIGN.md §2: readers disagree on several); the source stands in when the
    # article names none, so the entry is valid whatever feed it is copied into.
    names = [xml_text(name) for name in item.authors if xml_text(name).strip()]
    entry.author(name=names[0] if names else xml_text(item.source.name))
    # A story's other outlets are atom:contributor (RFC 4287 §4.2.3), with their article.
    for outlet in item.also:
        entry.contributor(
            name=xml_text(outlet.name), uri=xml_text(outlet.url) if outlet.url else None
        )
    if item.content_html:
        entry.content(xml_text(item.content_html), type="html")
    elif not item.url:
        # RFC 4287 §4.1.1.1: an entry with no alternate link MUST have content.
        entry.content(xml_text(item.summary or item.title), type="text")
    if item.summary:
        entry.summary(xml_text(item.summary), type="text")
    if item.url:
        # Written again by _fix_links; given here because feedgen refuses an entry that has
        # neither content nor an alternate link.
        entry.link(href=xml_text(item.url), rel="alternate")
    if item.categories:
        entry.category(
            [
                {"term": xml_text(c.term), "scheme": xml_text(c.scheme), "label": xml_text(c.label)}
                for c in item.categories
            ]
        )


def _complete(skeleton: bytes, view: FeedView) -> bytes:
    """feedgen's document with RFC 3339 dates, correct entry links and atom:source."""
    # Our own document, just written by lxml: no DTD, no entities, safe to parse.
    root = _without_namespace(ET.fromstring(skeleton))
    _set_text(root, "updated", rfc3339(view.updated))
    for element, item in zip(root.findall("entry"), view.items, strict=True):
        _set_text(element, "updated", rfc3339(item.updated))
        _set_text(element, "published", rfc3339(item.published))
        _fix_links(element, item)
        _fix_source(element, item)
    ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _without_namespace(root: ET.Element) -> ET.Element:
    """The tree with Atom elements under plain names and Atom declared on the root.

    ElementTree would otherwise write "ns0:feed": its ``default_namespace`` option refuses
    un-namespaced attributes (rel, href...), and ``register_namespace`` is process-wide
    state. A plain ``xmlns`` attribute on the root makes the same document, with Atom as
    the default namespace like feedgen writes it, which every reader expects.
    """
    prefix = f"{{{ATOM_NS}}}"
    for element in root.iter():
        if element.tag.startswith(prefix):
            element.tag = element.tag.removeprefix(prefix)
    root.set("xmlns", ATOM_NS)
    return root


def _set_text(parent: ET.Element, name: str, text: str) -> None:
    child = parent.find(name)
    if child is None:
        child = ET.SubElement(parent, name)
    child.text = text


def _fix_links(element: ET.Element, item: FeedItem) -> None:
    """Replace the entry's links with the full set, alternate first (DESIGN.md §2)."""
    old = element.findall("link")
    for link in old:
        element.remove(link)
    links: list[dict[str, str]] = []
    if item.url:
        links.append({"rel": "alternate", "href": xml_text(item.url)})
    # Every cited study as a related link (RFC 4287 §4.2.7.2), its id as the title.
    links += [
        {"rel": "related", "href": xml_text(study.url), "title": xml_text(study.label)}
        for study in item.cited
    ]
    for enclosure in item.enclosures:
        attributes = {"rel": "enclosure", "href": xml_text(enclosure.url)}
        # feedparser reads a link without a type as text/html; say what is known instead.
        attributes["type"] = xml_text(enclosure.type) if enclosure.type else UNKNOWN_MEDIA_TYPE
        if enclosure.length is not None:
            attributes["length"] = str(enclosure.length)
        links.append(attributes)
    # First in the entry, before <id>: feedparser takes an id read before any link for the
    # entry's link too (its RSS guid rule, applied to atom:id), and reports guidislink.
    for position, attributes in enumerate(links):
        element.insert(position, ET.Element("link", attributes))


def _fix_source(element: ET.Element, item: FeedItem) -> None:
    """Replace any atom:source with the item's source feed (RFC 4287 §4.2.11)."""
    for old in element.findall("source"):
        element.remove(old)
    source = ET.SubElement(element, "source")
    # The source feed's own atom:id is not stored; its feed URL is a stable, unique IRI.
    ET.SubElement(source, "id").text = xml_text(item.source.feed_url)
    ET.SubElement(source, "title").text = xml_text(item.source.name)
    ET.SubElement(source, "updated").text = rfc3339(item.source.updated)
    ET.SubElement(source, "link", {"rel": "self", "href": xml_text(item.source.feed_url)})
    if item.source.site_url:
        ET.SubElement(source, "link", {"rel": "alternate", "href": xml_text(item.source.site_url)})
