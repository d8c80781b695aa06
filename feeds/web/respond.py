"""Shared pieces of handlers: the app state, the public URL, serving through the cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from feeds.web.cache import ARTICLES, CachedBody, Versions
from feeds.web.http import cached_response, prepare

if TYPE_CHECKING:
    from feeds.web.app import AppState

Builder = Callable[["AppState", Versions], CachedBody]


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.feeds
    return state


async def cached(
    request: Request,
    build: Builder,
    *,
    takes_query: bool = True,
    depends: int = ARTICLES,
    cache_control: str | None = None,
) -> Response:
    """Serve the request from the render cache, building the body on a miss.

    ``takes_query=False``: the body does not depend on the query string (a page reached with
    ``?utm_source=…``), so one entry serves every query string; otherwise any client could
    make us render anew, and fill the cache, just by varying an ignored parameter.
    ``depends``: ``cache.ARTICLES`` or ``cache.HEALTH``, the versions the body depends on.
    ``cache_control``: instead of ``public, max-age=`` the configured ``web.max_age``."""
    state = state_of(request)
    key = cache_key(request.scope["path"], request.scope["query_string"] if takes_query else b"")
    # The version is re-read from the database at most once a second, by one request;
    # only that one pays a thread-pool hop.
    versions, reread = state.version.cached()
    if reread or versions is None:
        versions = await run_in_threadpool(state.version.current)
    version = versions[:depends]

    def render(version: Versions) -> CachedBody:
        built = build(state, version)
        policy = state.header_policy
        return prepare(
            built,
            cache_control or f"public, max-age={int(state.settings.web.max_age.total_seconds())}",
            policy.vary(),
            policy.for_response(request.scope["path"], built.media_type),
        )

    entry = state.cache.get(key, version)
    if entry is not None:
        state.metrics.cache_hits.inc()
    else:
        entry = await state.renderer.after_miss(key, version, render, state.version)
        fresh = entry.version == version[: len(entry.version)]
        (state.metrics.cache_misses if fresh else state.metrics.cache_stale).inc()
    return cached_response(request, entry)


def cache_key(path: str, query_string: bytes) -> str:
    """The render cache's key: from the raw scope, as building ``request.url`` costs more
    than the whole cache lookup. The fast path (``feeds.web.fastpath``) uses it too."""
    return f"{path}?{query_string.decode('latin-1')}"


def self_url(request: Request, state: AppState) -> str:
    """The public URL of this request, query string included, exactly as asked."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{state.settings.site.base_url}{request.url.path}{query}"
