"""The cache-hit fast path: a hot feed answered from memory before Starlette is entered.

What it does: for a ``GET``/``HEAD`` of ``/feeds/…`` whose render-cache key (raw path and
query string, ``respond.cache_key``) is a hit at the current data version, or is being
rendered anew with a previous body that may be served meanwhile (``Renderer.stale``), it reads the
three request headers that choose the answer (Accept-Encoding, If-None-Match,
If-Modified-Since) in one pass over the raw headers, picks one of the entry's prepared
answers through ``http.choose`` (the function the Starlette handlers use), sends it, and
counts it in the same Prometheus series as ``MetricsMiddleware``.

What it does not do: anything else. A miss, an expired data version (the one re-read needs
the thread pool), another method or path, a request whose answer depends on its Origin
(explicit ``cors_origins``), and CORS preflights all go to the Starlette app unchanged.

Why: a cache hit is ~10 µs of work, and Starlette's stack (routing, middleware, Request and
Response objects) is most of the rest; docs/performance.md ("Serving") has the profile.
Identity with the Starlette path holds by construction (same entry, same prepared answer,
same ``choose``) and is checked by tests/test_web_fastpath.py over real HTTP.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.web.cache import Answer
from feeds.web.http import choose
from feeds.web.respond import cache_key

if TYPE_CHECKING:
    from feeds.web.app import AppState

FEED_PREFIX = "/feeds/"
FEED_ROUTE = "/feeds/{slug}.{format}"  # the route template metrics count hits under


class FastPath:
    """An ASGI app that answers render-cache hits itself and passes the rest to ``app``.

    It stands in for the Starlette application: ``state`` and any other attribute are the
    wrapped app's, so ``create_app(...).state.feeds`` keeps working.
    """

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self._state = state
        self._origin_matters = not state.header_policy.any_origin

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(FEED_PREFIX)
            and scope["method"] in ("GET", "HEAD")
        ):
            started = time.perf_counter()
            answer = self._answer(scope)
            if answer is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": answer.status,
                        "headers": answer.headers,
                    }
                )
                await send({"type": "http.response.body", "body": answer.body})
                self._state.metrics.observe(
                    FEED_ROUTE, answer.status, time.perf_counter() - started
                )
                return
        await self.app(scope, receive, send)

    def _answer(self, scope: Scope) -> Answer | None:
        """The prepared answer for a fresh cache hit, or None to let Starlette answer."""
        state = self._state
        version = state.version.fresh()
        if version is None:
            return None
        accept = match = since = None
        for name, value in scope["headers"]:
            # The first of repeated headers counts, as with Starlette's Headers.get.
            if name == b"accept-encoding":
                if accept is None:
                    accept = value.decode("latin-1")
            elif name == b"if-none-match":
                if match is None:
                    match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if since is None:
                    since = value.decode("latin-1")
            elif name == b"origin" and self._origin_matters:
                return None
        key = cache_key(scope["path"], scope["query_string"])
        entry = state.cache.get_hit(key, version)
        if entry is not None:
            state.metrics.cache_hits.inc()
        else:
            # Being rendered anew after a change: the previous body, within web.serve_stale,
            # exactly as the Starlette path would answer (feeds.web.rendering).
            entry = state.renderer.stale(key, state.version)
            if entry is None:
                return None
            state.metrics.cache_stale.inc()
        return choose(entry, accept, match, since)
