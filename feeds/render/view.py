"""What a renderer is given: a feed's metadata and its items, already chosen and ordered.

The web layer builds a ``FeedView`` from storage results; renderers turn it into bytes.
Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models import Enclosure, StudyId


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Attribution of the original source of an item."""

    id: str  # source id (slug)
    name: str  # source display name
    feed_url: str  # the source's feed URL (RSS <source url>, atom:source link rel=self)
    site_url: str | None  # the source's website, when known
    updated: datetime  # when feeds copied the item from the source feed (first seen)


@dataclass(frozen=True, slots=True)
class Category:
    """A category of an item: a topic, or a MeSH descriptor."""

    term: str  # topic slug, or MeSH UI (e.g. D008180)
    label: str  # topic title, or MeSH heading
    scheme: str  # "{base_url}/topics/" for topics, "https://id.nlm.nih.gov/mesh/" for MeSH


@dataclass(frozen=True, slots=True)
class Outlet:
    """Another outlet that reported the same story as an item (collapse=stories)."""

    source_id: str  # source id (slug)
    name: str  # source display name
    url: str | None  # that outlet's article
    title: str  # that outlet's headline


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of a rendered feed."""

    id: str  # stable, globally unique id (a tag: URI); never changes for the article
    url: str | None  # canonical link to the article
    title: str  # plain text
    summary: str  # plain text, at most 500 characters
    content_html: str  # sanitized HTML
    published: datetime  # UTC
    updated: datetime  # UTC; equals published when the source gave no update date
    authors: tuple[str, ...]  # author names
    categories: tuple[Category, ...]  # topics first, then MeSH descriptors
    dois: tuple[str, ...]  # DOIs (lower-case, without https://doi.org/)
    enclosures: tuple[Enclosure, ...]  # attached media
    source: SourceRef  # where the article came from
    studies: tuple[StudyId, ...] = ()  # identifiers of the studies it cites, in order
    also: tuple[Outlet, ...] = ()  # the story's other outlets, earliest first (collapse=stories)

    @property
    def cited(self) -> tuple[StudyId, ...]:
        """Every study the item cites: ``studies``, then any DOI of ``dois`` not among them
        (a view built from DOIs alone still links them)."""
        keys = {s.key for s in self.studies}
        extra = tuple(StudyId("doi", d) for d in self.dois if f"doi:{d}" not in keys)
        return self.studies + extra


@dataclass(frozen=True, slots=True)
class FeedView:
    """A whole feed, ready to render in any format."""

    id: str  # stable feed id (a tag: URI, or the canonical URL without the query)
    title: str  # what the feed is ("Lupus — Health News Feeds")
    subtitle: str  # one sentence on what it holds
    self_url: str  # the exact URL being served, query string included
    html_url: str  # the HTML page of the same content (rel="alternate")
    updated: datetime  # newest item's updated time, or when the view was built if empty
    items: tuple[FeedItem, ...]  # newest first
    generator: str = "feeds"  # name/version of the software
    icon_url: str | None = None  # optional icon
