"""Build what renderers and templates show from stored articles. Pure: no I/O.

Ids are ``tag:`` URIs (RFC 4151) under the site's host, so an item's id never changes
while the deployment keeps its name, whatever feed or filter it appears in.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from feeds import __version__
from feeds.identifiers import from_key
from feeds.models import Article, ArticleQuery, SourceHealth, Story
from feeds.render.view import Category, FeedItem, FeedView, Outlet, SourceRef
from feeds.stories import lead_article

MESH_SCHEME = "https://id.nlm.nih.gov/mesh/"
TAG_DATE = "2024"  # the date part of tag: URIs; fixed forever (RFC 4151 §2.1)


@dataclass(frozen=True, slots=True)
class Site:
    """What views need to know about the deployment."""

    title: str  # site title
    base_url: str  # public URL, no trailing slash
    topics: Mapping[str, str]  # slug -> title, in config order
    sources: Mapping[str, SourceHealth]  # id -> health (name, URL, last success)
    mesh: Mapping[str, str]  # descriptor UI -> heading, for the descriptors that occur

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    def tag(self, specific: str) -> str:
        return f"tag:{self.host},{TAG_DATE}:{specific}"


def feed_title(site: Site, query: ArticleQuery) -> str:
    """What the feed is: "Lupus — Health News Feeds", "Lupus + CAR-T, matching 'remission' — …"."""
    return f"{feed_heading(site, query)} — {site.title}"


def feed_heading(site: Site, query: ArticleQuery) -> str:
    """The feed's title without the site's name."""
    names = [site.topics.get(t, t) for t in query.topics]
    joiner = " + " if query.match_all else " or "
    about = study_heading(query.studies)
    parts = [joiner.join(names) if names else about or "All topics"]
    if names and about:
        parts.append(f"about {about}")
    if query.text:
        parts.append(f"matching '{query.text}'")
    if query.exclude:
        parts.append("excluding " + ", ".join(site.topics.get(t, t) for t in query.exclude))
    if query.sources:
        parts.append(
            "from "
            + ", ".join(site.sources[s].name if s in site.sources else s for s in query.sources)
        )
    if query.since:
        parts.append(f"since {query.since.date().isoformat()}")
    if query.until:
        parts.append(f"until {query.until.date().isoformat()}")
    return ", ".join(parts)


def study_heading(keys: Sequence[str]) -> str:
    """How the studies of a ``study=`` filter are named: "DOI 10.1038/…", "PMID 36109639"."""
    studies = [from_key(key) for key in keys]
    return " or ".join(s.label if s else key for s, key in zip(studies, keys, strict=True))


def feed_subtitle(site: Site, query: ArticleQuery) -> str:
    """One sentence on what the feed holds."""
    if query.studies and not query.topics:
        return f"Every article about {study_heading(query.studies)}, from every source."
    if len(query.topics) == 1 and not query.exclude and not query.text:
        topic = site.topics.get(query.topics[0], query.topics[0])
        return f"Health news about {topic}, from many sources."
    return "Health news from many sources, filtered and tagged by topic."


def feed_view(
    site: Site,
    query: ArticleQuery,
    articles: Sequence[Article],
    *,
    self_url: str,
    html_url: str,
    feed_key: str,
    now: datetime,
    items: Sequence[FeedItem] | None = None,
) -> FeedView:
    """The feed for ``query`` as served at ``self_url``: one item per article, or the
    given ``items`` (one per story, from ``story_items``)."""
    items = tuple(items) if items is not None else tuple(feed_item(site, a) for a in articles)
    return FeedView(
        id=site.tag(f"feed:{feed_key}"),
        title=feed_title(site, query),
        subtitle=feed_subtitle(site, query),
        self_url=self_url,
        html_url=html_url,
        updated=max((i.updated for i in items), default=now),
        items=items,
        generator=f"feeds {__version__}",
    )


def feed_item(site: Site, article: Article) -> FeedItem:
    """One article as a feed item."""
    health = site.sources.get(article.source_id)
    topic_scheme = f"{site.base_url}/topics/"
    categories = [
        Category(term=t.topic, label=site.topics.get(t.topic, t.topic), scheme=topic_scheme)
        for t in article.topics
        if t.topic in site.topics
    ]
    for ui in mesh_descriptors(article):
        categories.append(Category(term=ui, label=site.mesh.get(ui, ui), scheme=MESH_SCHEME))
    updated = max(article.updated or article.published, article.published)
    return FeedItem(
        id=site.tag(f"article:{article.id}"),
        url=article.url,
        title=article.title,
        summary=article.summary,
        content_html=article.content_html,
        published=article.published,
        updated=updated,
        authors=article.authors,
        categories=tuple(categories),
        dois=article.dois,
        studies=article.studies,
        enclosures=article.enclosures,
        source=SourceRef(
            id=article.source_id,
            name=health.name if health else article.source_id,
            feed_url=health.url if health else "",
            site_url=None,
            # When the entry was copied from the source feed: the source's metadata as of
            # that copy (RFC 4287 §4.2.11), not of the last fetch, so that a fetch which
            # brings nothing new changes no feed body (feeds.web.cache, ARTICLES).
            updated=article.first_seen,
        ),
    )


def story_items(
    site: Site, stories: Sequence[Story], priority: Sequence[str]
) -> tuple[FeedItem, ...]:
    """One item per story (see ``story_item``)."""
    return tuple(story_item(site, story, priority) for story in stories)


def story_item(site: Site, story: Story, priority: Sequence[str]) -> FeedItem:
    """A story as one feed item: its lead article (``priority``'s first source that has
    one, else the earliest), the other outlets listed in the content and in ``also``.

    The id is the founding article's id, the one the story had when it was a single
    article: a reader who already has that item does not see it again as new when the
    story grows; ``updated`` moves instead, when a new outlet joins.
    """
    lead, outlets = story_lead(site, story, priority)
    item = feed_item(site, lead)
    others = [a for a in story.articles if a.id != lead.id]
    if not others:
        return item
    content = (item.content_html or f"<p>{html.escape(item.summary)}</p>") + also_html(outlets)
    dois = tuple(dict.fromkeys([*lead.dois, *(d for a in others for d in a.dois)]))
    updated = max(item.updated, story.updated or item.updated)
    return replace(
        item,
        id=site.tag(f"article:{story.id}"),
        content_html=content,
        updated=updated,
        dois=dois,
        also=outlets,
    )


def story_lead(
    site: Site, story: Story, priority: Sequence[str]
) -> tuple[Article, tuple[Outlet, ...]]:
    """The article that stands for ``story`` (``stories.lead_article``) and the other
    outlets, each once, with its earliest article."""
    lead = lead_article(story.leads, priority)
    also: dict[str, Outlet] = {}
    for other in story.articles:
        if other.source_id != lead.source_id and other.source_id not in also:
            health = site.sources.get(other.source_id)
            name = health.name if health else other.source_id
            also[other.source_id] = Outlet(other.source_id, name, other.url, other.title)
    return lead, tuple(also.values())


def also_html(outlets: Sequence[Outlet]) -> str:
    """The "Also reported by" paragraph: each outlet's name, linked to its article."""
    if not outlets:
        return ""
    links = [
        f'<a href="{html.escape(o.url)}">{html.escape(o.name)}</a>'
        if o.url
        else html.escape(o.name)
        for o in outlets
    ]
    return f"<p>Also reported by: {', '.join(links)}.</p>"


def mesh_descriptors(article: Article) -> tuple[str, ...]:
    """The MeSH descriptors whose terms matched in the article, in order of appearance."""
    found: dict[str, None] = {}
    for tag in article.topics:
        for match in tag.matches:
            if match.rule.startswith("mesh:"):
                found.setdefault(match.rule.removeprefix("mesh:"), None)
    return tuple(found)


def utc_now() -> datetime:
    return datetime.now(UTC)


def failing_sources_view(
    site: Site, health: Sequence[SourceHealth], *, self_url: str, now: datetime
) -> FeedView:
    """One item per source that is failing or gone. An item's id names the failure episode
    (source and failing-since), so a reader sees each new failure once and a recovery
    followed by a new failure as new."""
    items = []
    for state in health:
        if not state.needs_attention:
            continue
        since = state.failing_since or state.last_fetch_at or now
        last = state.last_fetch_at or since
        verb = "is gone" if state.gone else "is failing"
        detail = (
            f"{state.error_kind}: {state.error_message}. {state.error_count} consecutive "
            f"failed fetch{'es' if state.error_count != 1 else ''} since {since:%Y-%m-%d %H:%M} UTC"
        )
        if state.next_check_at and not state.gone:
            detail += f"; next check {state.next_check_at:%Y-%m-%d %H:%M} UTC"
        items.append(
            FeedItem(
                id=site.tag(f"failure:{state.source_id}:{since.isoformat()}"),
                url=f"{site.base_url}/sources",
                title=f"{state.name} {verb} ({state.error_kind})",
                summary=detail + ".",
                content_html=f"<p>{html.escape(detail)}.</p><p>Feed: {html.escape(state.url)}</p>",
                published=since,
                updated=last,
                authors=(),
                categories=(),
                dois=(),
                enclosures=(),
                source=SourceRef(
                    id=state.source_id,
                    name=state.name,
                    feed_url=state.url,
                    site_url=None,
                    updated=state.last_success_at or since,
                ),
            )
        )
    items.sort(key=lambda i: (i.updated, i.id), reverse=True)
    return FeedView(
        id=site.tag("feed:sources-failing"),
        title=f"Failing sources — {site.title}",
        subtitle="One item per source whose fetches fail, for the operators of this service.",
        self_url=self_url,
        html_url=f"{site.base_url}/sources",
        updated=max((i.updated for i in items), default=now),
        items=tuple(items),
        generator=f"feeds {__version__}",
    )
