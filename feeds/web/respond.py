"""Shared pieces of handlers: the app state, the public URL, serving through the cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from feeds.web.cache import CachedBody
from feeds.web.http import cached_response

if TYPE_CHECKING:
    from feeds.web.app import AppState

Builder = Callable[["AppState", tuple[int, int]], CachedBody]


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.feeds
    return state


async def cached(request: Request, build: Builder) -> Response:
    """Serve the request from the render cache, building the body on a miss."""
    state = state_of(request)
    # From the raw scope: building request.url costs more than the whole cache lookup.
    key = f"{request.scope['path']}?{request.scope['query_string'].decode('latin-1')}"
    # The version is re-read from the database at most once a second, by one request;
    # only that one pays a thread-pool hop.
    version, reread = state.version.cached()
    if reread or version is None:
        version = await run_in_threadpool(state.version.current)
    entry = state.cache.get(key, version) or state.cache.claim(key)
    (state.metrics.cache_hits if entry else state.metrics.cache_misses).inc()
    if entry is None:
        try:
            entry = await run_in_threadpool(build, state, version)
            state.cache.put(key, entry)
        finally:
            state.cache.release(key)
    return cached_response(request, entry, int(state.settings.web.max_age.total_seconds()))


def self_url(request: Request, state: AppState) -> str:
    """The public URL of this request, query string included, exactly as asked."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{state.settings.site.base_url}{request.url.path}{query}"
