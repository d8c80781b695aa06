"""HTML pages: the index, a page per topic, the sources' health. Jinja2 templates, no
JavaScript needed to read them; rendered once per data version like the feeds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from feeds.models import Article, ArticleQuery
from feeds.render.view import Outlet
from feeds.web.cache import HEALTH, CachedBody, Versions, make_entry
from feeds.web.respond import cached, state_of
from feeds.web.views import story_lead

if TYPE_CHECKING:
    from feeds.web.app import AppState

HTML = "text/html; charset=utf-8"
HEADLINES = 3


def _page(state: AppState, template: str, version: Versions, **context: Any) -> CachedBody:
    site = state.site()
    body = state.templates.get_template(template).render(
        site=site, base_url=site.base_url, topics=state.settings.topics, **context
    )
    return make_entry(body.encode(), HTML, datetime.now(UTC), version)


async def index(request: Request) -> Response:
    def build(state: AppState, version: Versions) -> CachedBody:
        counts = state.storage.topic_counts()
        latest = {
            t.slug: entries(state, version, t.slug, HEADLINES)
            for t in state.settings.topics
            if counts.get(t.slug)
        }
        total = state.storage.count_articles()
        return _page(state, "index.html", version, counts=counts, latest=latest, total=total)

    return await cached(request, build, takes_query=False)


async def topic_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    state = state_of(request)
    topic = next((t for t in state.settings.topics if t.slug == slug), None)
    if topic is None:
        raise HTTPException(404, f"unknown topic {slug!r}")

    def build(state: AppState, version: Versions) -> CachedBody:
        found = entries(state, version, slug, state.settings.web.page_size)
        return _page(state, "topic.html", version, topic=topic, entries=found)

    return await cached(request, build, takes_query=False)


def entries(
    state: AppState, version: Versions, slug: str, limit: int
) -> list[tuple[Article, tuple[Outlet, ...]]]:
    """A topic's newest entries as pages list them: like its feeds, one per story (its lead
    article and the other outlets) when ``web.collapse`` is ``stories``, else per article."""
    query = ArticleQuery(
        topics=(slug,), limit=limit, stories=state.settings.web.collapse == "stories"
    )
    if query.stories:
        site, priority = state.site(), state.settings.stories.source_priority
        return [story_lead(site, s, priority) for s in state.stories(query, version)]
    return [(a, ()) for a in state.articles(query, version)]


async def sources_page(request: Request) -> Response:
    def build(state: AppState, version: Versions) -> CachedBody:
        health = state.storage.source_health()
        return _page(state, "sources.html", version, sources=health)

    return await cached(request, build, takes_query=False, depends=HEALTH)
