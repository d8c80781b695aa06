"""Routes, in one list by section, and their thin handlers: parse → storage → render → respond.

Feeds and pages are rendered once per (request, data version) and served from the render
cache with ETag / Last-Modified / gzip (``feeds.web.http``). Database work runs in the
thread pool so the event loop never waits on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from feeds.models import Article, SourceHealth, Story
from feeds.render.opml import OpmlOutline, render_opml
from feeds.render.registry import render
from feeds.stories import lead_article
from feeds.web import pages, studies
from feeds.web.cache import HEALTH, CachedBody, Versions, make_entry
from feeds.web.digests import DIGEST_ARTICLES, PERIODS, digest_feed, group_by_period
from feeds.web.limits import in_networks
from feeds.web.params import API_PARAMS, BadRequest, Known, encode_cursor, normalized, parse_query
from feeds.web.respond import cached, self_url, state_of
from feeds.web.views import (
    Site,
    failing_sources_view,
    feed_heading,
    feed_view,
    mesh_descriptors,
    story_items,
)

if TYPE_CHECKING:
    from feeds.web.app import AppState

FORMATS = {"rss": "rss", "atom": "atom", "json": "json"}
DIGEST_PAGE_ARTICLES = 200
DIGEST_PAGE_DEFAULT_SPAN = timedelta(days=7)


# --- feeds --------------------------------------------------------------------------------


async def topic_feed(request: Request) -> Response:
    slug = request.path_params["slug"]
    fmt = request.path_params["format"]
    if fmt not in FORMATS:
        raise HTTPException(404, f"unknown feed format {fmt!r}; use .rss, .atom or .json")
    state = state_of(request)
    if slug != "all" and slug not in state.topic_slugs:
        raise HTTPException(404, f"unknown topic {slug!r}")

    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        period, items = split_digest(list(request.query_params.multi_items()))
        query = parse_query(
            items,
            Known(site.topics, site.sources),
            path_topic=None if slug == "all" else slug,
            default_limit=state.settings.web.page_size,
            default_collapse=state.settings.web.collapse,
        )
        # A digest's limit counts periods; it reads enough articles to fill them.
        wanted = replace(query, limit=DIGEST_ARTICLES) if period else query
        priority = state.settings.stories.source_priority
        stories = state.stories(wanted, version) if query.stories else None
        articles = (
            state.articles(wanted, version)
            if stories is None
            else tuple(lead_article(s.leads, priority) for s in stories)
        )
        html = f"{site.base_url}/topics/{slug}" if slug != "all" else f"{site.base_url}/"
        view = feed_view(
            site,
            query,
            articles,
            self_url=self_url(request, state),
            html_url=html,
            feed_key=f"{request.url.path}?{request.url.query}",
            now=datetime.now(UTC),
            # A digest lists one entry per story: its lead article.
            items=None if stories is None or period else story_items(site, stories, priority),
        )
        if period:
            view = digest_feed(
                view,
                site,
                articles,
                period=period,
                heading=feed_heading(site, query),
                limit=query.limit,
                key=f"{slug}?{normalized([i for i in items if i[0] != 'limit'])}",
            )
        rendered = render(view, FORMATS[fmt])
        return make_entry(rendered.body, rendered.media_type, view.updated, version)

    return await cached(request, build)


async def opml(request: Request) -> Response:
    def build(state: AppState, version: Versions) -> CachedBody:
        base = state.settings.site.base_url
        outlines = [
            OpmlOutline(
                text=f"{topic.title} — {state.settings.site.title}",
                title=topic.title,
                xml_url=f"{base}/feeds/{topic.slug}.rss",
                html_url=f"{base}/topics/{topic.slug}",
                description=topic.description,
            )
            for topic in state.settings.topics
        ]
        rendered = render_opml(f"{state.settings.site.title}: topic feeds", outlines)
        return make_entry(rendered.body, rendered.media_type, datetime.now(UTC), version)

    return await cached(request, build, takes_query=False)


def split_digest(items: list[tuple[str, str]]) -> tuple[str | None, list[tuple[str, str]]]:
    """Take ``digest=daily|weekly`` out of the query items (it is not an article filter)."""
    periods = [v.strip() for k, v in items if k == "digest"]
    if len(periods) > 1:
        raise BadRequest("parameter digest is given more than once")
    if periods and periods[0] not in PERIODS:
        raise BadRequest("digest: must be daily or weekly")
    return (periods[0] if periods else None), [(k, v) for k, v in items if k != "digest"]


async def digest_page(request: Request) -> Response:
    slug = request.path_params["slug"]
    state = state_of(request)
    if slug != "all" and slug not in state.topic_slugs:
        raise HTTPException(404, f"unknown topic {slug!r}")

    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        query = parse_query(
            list(request.query_params.multi_items()),
            Known(site.topics, site.sources),
            path_topic=None if slug == "all" else slug,
            default_limit=DIGEST_PAGE_ARTICLES,
        )
        if query.since is None:  # "everything since last week" unless told otherwise
            query = replace(query, since=datetime.now(UTC) - DIGEST_PAGE_DEFAULT_SPAN)
        priority = state.settings.stories.source_priority
        articles = (
            tuple(lead_article(s.leads, priority) for s in state.stories(query, version))
            if query.stories
            else state.articles(query, version)
        )
        body = state.templates.get_template("digest.html").render(
            site=site,
            heading=feed_heading(site, query),
            days=group_by_period(articles, "daily"),
            since=query.since,
            feed_url=f"{site.base_url}/feeds/{slug}.rss",
        )
        return make_entry(body.encode(), "text/html; charset=utf-8", datetime.now(UTC), version)

    return await cached(request, build)


# --- API ----------------------------------------------------------------------------------


async def api_articles(request: Request) -> Response:
    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        query = parse_query(
            list(request.query_params.multi_items()),
            Known(site.topics, site.sources),
            allowed=API_PARAMS,
            default_limit=state.settings.web.page_size,
        )
        if query.stories:
            stories = state.stories(query, version)
            items = story_json(stories, site, state.settings.stories.source_priority)
            positions = [(s.first_published, s.id) for s in stories]
        else:
            articles = state.articles(query, version)
            items = [article_json(a, site.sources.get(a.source_id), site.topics) for a in articles]
            positions = [(a.published, a.id) for a in articles]
        next_url = None
        if len(positions) == query.limit:  # a full page: there may be more
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            params.append(("cursor", encode_cursor(*positions[-1])))
            next_url = f"{site.base_url}{request.url.path}?{urlencode(params)}"
        body = json.dumps(
            {"articles": items, "next": next_url}, ensure_ascii=False, separators=(",", ":")
        )
        return make_entry(body.encode(), "application/json", datetime.now(UTC), version)

    # no-cache: partners revalidate every page (a 304 when nothing changed), so a page
    # never lags behind the feeds; the body is still rendered once per data version.
    return await cached(request, build, cache_control="no-cache")


def article_json(
    article: Article, health: SourceHealth | None, titles: Mapping[str, str]
) -> dict[str, Any]:
    """An article as the API shows it: with its topics, their scores and matches."""
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "content_html": article.content_html,
        "published": article.published.isoformat().replace("+00:00", "Z"),
        "updated": article.updated.isoformat().replace("+00:00", "Z") if article.updated else None,
        "authors": list(article.authors),
        "dois": list(article.dois),
        "studies": [
            {"id": s.key, "scheme": s.scheme, "url": s.url, "preprint": s.preprint}
            for s in article.studies
        ],
        "source": {
            "id": article.source_id,
            "name": health.name if health else article.source_id,
            "url": health.url if health else None,
        },
        "topics": [
            {
                "slug": t.topic,
                "title": titles.get(t.topic, t.topic),
                "score": t.score,
                "matches": [
                    {
                        "term": m.term,
                        "rule": m.rule,
                        "field": m.field,
                        "start": m.start,
                        "end": m.end,
                    }
                    for m in t.matches
                ],
            }
            for t in article.topics
        ],
        "mesh": list(mesh_descriptors(article)),
    }


def story_json(
    stories: Sequence[Story], site: Site, priority: Sequence[str]
) -> list[dict[str, Any]]:
    """Stories as the API shows them (collapse=stories): the lead article, with the story's
    id and the other outlets' articles."""
    result = []
    for story in stories:
        lead = lead_article(story.leads, priority)
        body = article_json(lead, site.sources.get(lead.source_id), site.topics)
        body["story"] = {
            "id": story.id,
            "updated": story.updated.isoformat().replace("+00:00", "Z") if story.updated else None,
            "also_reported_by": [
                {
                    "id": a.id,
                    "url": a.url,
                    "title": a.title,
                    "source": {
                        "id": a.source_id,
                        "name": site.sources[a.source_id].name
                        if a.source_id in site.sources
                        else a.source_id,
                    },
                }
                for a in story.articles
                if a.id != lead.id
            ],
        }
        result.append(body)
    return result


# --- sources ------------------------------------------------------------------------------


async def sources_json(request: Request) -> Response:
    state = state_of(request)

    def listing() -> list[dict[str, object]]:
        counts = state.storage.counts_by_source()
        recent = state.storage.counts_by_source(datetime.now(UTC) - timedelta(days=7))
        return [
            h.to_json(counts.get(h.source_id, 0), recent.get(h.source_id, 0))
            for h in state.storage.source_health()
        ]

    return JSONResponse(await run_in_threadpool(listing), headers={"Cache-Control": "no-cache"})


async def failing_sources_feed(request: Request) -> Response:
    fmt = request.path_params["format"]
    if fmt not in FORMATS:
        raise HTTPException(404, f"unknown feed format {fmt!r}; use .rss, .atom or .json")
    if request.query_params:
        raise BadRequest("this feed takes no parameters")

    def build(state: AppState, version: Versions) -> CachedBody:
        site = state.site()
        view = failing_sources_view(
            site,
            state.storage.source_health(),
            self_url=self_url(request, state),
            now=datetime.now(UTC),
        )
        rendered = render(view, FORMATS[fmt])
        return make_entry(rendered.body, rendered.media_type, view.updated, version)

    return await cached(request, build, depends=HEALTH)


# --- operations ---------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    state = state_of(request)
    if not state.ready.is_set():
        return PlainTextResponse("starting: the first update is running\n", status_code=503)
    await run_in_threadpool(state.storage.versions)  # the database answers
    return PlainTextResponse("ready\n")


async def metrics(request: Request) -> Response:
    state = state_of(request)
    networks = state.settings.web.metrics_networks
    if not in_networks(request.client.host if request.client else None, networks):
        # Not a 404: an operator who scrapes from the wrong place should learn why.
        allowed = ", ".join(str(n) for n in networks) or "none"
        reason = f"metrics: served only to clients in web.metrics_networks ({allowed})\n"
        return PlainTextResponse(reason, status_code=403)
    body = await run_in_threadpool(state.metrics.exposition)  # reads the database
    return Response(body, media_type="text/plain; version=0.0.4")


ROUTES = [
    # feeds (first: the hottest route, and the router tries routes in order)
    Route("/feeds/{slug}.{format}", topic_feed, name="feed"),
    # one study's articles: /studies/{id} (HTML) and /studies/{id}.rss|.atom|.json
    Route("/studies/{study:path}", studies.study, name="study"),
    # pages (HTML)
    Route("/", pages.index, name="index"),
    Route("/topics/{slug}", pages.topic_page, name="topic"),
    Route("/sources", pages.sources_page, name="sources"),
    Route("/opml", opml, name="opml"),
    Route("/digests/{slug}.html", digest_page, name="digest"),
    # API
    Route("/api/articles", api_articles, name="api_articles"),
    Route("/sources.json", sources_json, name="sources_json"),
    Route("/sources/failing.{format}", failing_sources_feed, name="failing_sources"),
    # operations
    Route("/healthz", healthz, name="healthz"),
    Route("/readyz", readyz, name="readyz"),
    Route("/metrics", metrics, name="metrics"),
]
