"""Render a list of feeds as OPML 2.0 (http://opml.org/spec2.opml), for subscribing in bulk.

One ``<outline type="rss">`` per feed, with the ``text``, ``xmlUrl`` and ``htmlUrl`` that
feed readers import (OPML 2.0 "Subscription lists": ``type="rss"`` stands for any feed
format, Atom and JSON Feed included). Written with the standard library's ElementTree,
which escapes every attribute. It does not decide which feeds to list, and it reads no
clock: ``dateCreated`` is written only when given, so the same call gives the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Final

from feeds.render.registry import Rendered
from feeds.render.rss import utc_seconds, xml_text

MEDIA_TYPE: Final = "text/x-opml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    """One subscription of an OPML subscription list."""

    text: str  # what readers show; required on every outline (OPML 2.0)
    title: str  # the feed's title, usually the same as text
    xml_url: str  # the feed's URL (xmlUrl)
    html_url: str  # the web page of the same content (htmlUrl)
    type: str = "rss"  # "rss" for any feed format, per OPML 2.0
    description: str = ""  # one sentence on the feed; omitted when empty


def render_opml(
    title: str,
    outlines: Sequence[OpmlOutline],
    *,
    date_created: datetime | None = None,
    owner_name: str | None = None,
) -> Rendered:
    """The OPML 2.0 document listing ``outlines``, UTF-8 encoded."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_text(title)
    if date_created is not None:
        # OPML 2.0: dateCreated is an RFC 822 date-time; numeric zone as in our RSS.
        ET.SubElement(head, "dateCreated").text = format_datetime(utc_seconds(date_created))
    if owner_name:
        ET.SubElement(head, "ownerName").text = xml_text(owner_name)
    body = ET.SubElement(root, "body")
    for outline in outlines:
        attributes = {
            "type": outline.type,
            "text": outline.text,
            "title": outline.title,
            "xmlUrl": outline.xml_url,
            "htmlUrl": outline.html_url,
        }
        if outline.description:
            attributes["description"] = outline.description
        ET.SubElement(body, "outline", {k: xml_text(v) for k, v in attributes.items()})
    ET.indent(root, space="  ")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    return Rendered(body=document, media_type=MEDIA_TYPE)
