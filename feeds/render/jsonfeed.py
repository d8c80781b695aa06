"""Render a ``FeedView`` as JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with ``json.dumps``.

Every item has a string ``id``, ``content_html`` (or ``content_text`` when the article has no
HTML), RFC 3339 dates in UTC with ``Z``, an ``authors`` array (empty when the article names
no one) and a ``_feeds`` object: JSON Feed's extension mechanism ("custom objects" whose
keys start with ``_``, which readers that do not know them must ignore) carrying what the
core format has no field for: the source, the topics, the MeSH descriptors, the DOIs and
the cited studies (``{id, scheme, url, preprint}``).

It does not choose or clean items; keys are written in a fixed order so that the same view
always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Final, TypeAlias

from feeds.render.atom import rfc3339
from feeds.render.rss import UNKNOWN_MEDIA_TYPE
from feeds.render.view import Category, FeedItem, FeedView

MEDIA_TYPE: Final = "application/feed+json; charset=utf-8"
VERSION: Final = "https://jsonfeed.org/version/1.1"
MESH_SCHEME: Final = "https://id.nlm.nih.gov/mesh/"

JSON: TypeAlias = dict[str, object]


def render_json_feed(view: FeedView) -> bytes:
    """The JSON Feed 1.1 document for ``view``, UTF-8 encoded."""
    feed: JSON = {
        "version": VERSION,
        "title": view.title,
        "home_page_url": view.html_url,
        "feed_url": view.self_url,
    }
    if view.subtitle:
        feed["description"] = view.subtitle
    if view.icon_url:
        feed["icon"] = view.icon_url
    feed["items"] = [_item(item) for item in view.items]
    # ensure_ascii=False: readable UTF-8 (the media type says charset=utf-8). "replace" so a
    # lone surrogate that slipped through cannot make the whole feed fail to encode.
    text = json.dumps(feed, ensure_ascii=False, indent=2)
    return text.encode("utf-8", errors="replace") + b"\n"


def is_mesh(category: Category) -> bool:
    """Whether ``category`` is a MeSH descriptor rather than a topic."""
    return category.scheme == MESH_SCHEME


def _item(item: FeedItem) -> JSON:
    topics = [c for c in item.categories if not is_mesh(c)]
    mesh = [c for c in item.categories if is_mesh(c)]
    result: JSON = {"id": item.id}
    if item.url:
        result["url"] = item.url
    result["title"] = item.title
    # JSON Feed 1.1: an item MUST have content_html or content_text.
    if item.content_html:
        result["content_html"] = item.content_html
    else:
        result["content_text"] = item.summary
    if item.summary:
        result["summary"] = item.summary
    result["date_published"] = rfc3339(item.published)
    result["date_modified"] = rfc3339(item.updated)
    # Always an array, empty when no one is named (JSON Feed 1.1 "authors"; an author
    # object needs at least one member, so blank names are left out).
    authors: list[JSON] = [{"name": name} for name in item.authors if name.strip()]
    # A story's other outlets are authors too (with their article as the author URL).
    authors += [
        {"name": o.name, **({"url": o.url} if o.url else {})} for o in item.also if o.name.strip()
    ]
    result["authors"] = authors
    if topics:
        # The schema requires unique tags; a view should not repeat a topic, but be sure.
        result["tags"] = list(dict.fromkeys(c.term for c in topics))
    if item.enclosures:
        result["attachments"] = [
            {
                "url": e.url,
                # JSON Feed 1.1: mime_type is required on an attachment.
                "mime_type": e.type or UNKNOWN_MEDIA_TYPE,
                **({"size_in_bytes": e.length} if e.length is not None else {}),
            }
            for e in item.enclosures
        ]
    extension: JSON = {
        "source": {
            "id": item.source.id,
            "name": item.source.name,
            "feed_url": item.source.feed_url,
            "site_url": item.source.site_url,
        },
        "topics": [{"slug": c.term, "title": c.label} for c in topics],
        "mesh": [{"ui": c.term, "heading": c.label} for c in mesh],
        "dois": list(item.dois),
        "studies": [
            {"id": s.key, "scheme": s.scheme, "url": s.url, "preprint": s.preprint}
            for s in item.cited
        ],
    }
    if item.also:
        extension["also_reported_by"] = [
            {"source": {"id": o.source_id, "name": o.name}, "url": o.url, "title": o.title}
            for o in item.also
        ]
    result["_feeds"] = extension
    return result
