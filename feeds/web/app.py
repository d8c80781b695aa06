"""``create_app(settings, storage)``: the web application. No module-level state.

Everything a request needs lives on ``app.state.feeds`` (an ``AppState``): settings, storage,
the render cache, the data-version reader and the templates. The updater does not run
here: ``feeds serve`` runs exactly one, beside the web workers (see ``feeds.web.serve``).

The layers a request meets, outside in: the cache-hit fast path (``feeds.web.fastpath``:
hot feeds answered from memory), then Starlette with metrics, response headers (security,
CORS) and request limits as middleware, then the routes (``ROUTES``, and the admin routes
when ``$FEEDS_ADMIN_TOKEN`` is set).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.templating import Jinja2Templates

from feeds.config import Settings, load_settings
from feeds.models import Article, ArticleQuery, Story
from feeds.storage import Storage
from feeds.web.admin import ADMIN_TOKEN_ENV, admin_routes
from feeds.web.cache import DataVersion, RenderCache, Versions
from feeds.web.errors import EXCEPTION_HANDLERS
from feeds.web.fastpath import FastPath
from feeds.web.headers import HeaderMiddleware, HeaderPolicy, page_csp
from feeds.web.limits import LimitMiddleware
from feeds.web.memo import ReadMemo
from feeds.web.metrics import Metrics, MetricsMiddleware
from feeds.web.rendering import Renderer
from feeds.web.routes import ROUTES
from feeds.web.views import Site

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class AppState:
    """What the handlers share, per application."""

    settings: Settings
    storage: Storage
    cache: RenderCache
    version: DataVersion
    renderer: Renderer
    templates: Jinja2Templates
    metrics: Metrics
    header_policy: HeaderPolicy  # security and CORS headers, by path and media type
    admin_token: str | None = None  # $FEEDS_ADMIN_TOKEN; None: no admin routes
    refreshing: threading.Lock = field(default_factory=threading.Lock)  # one admin refresh
    ready: threading.Event = field(default_factory=threading.Event)
    topic_slugs: frozenset[str] = frozenset()  # for 404s without rebuilding a set per request
    memo: ReadMemo = field(default_factory=ReadMemo)  # reads shared by one version's renders
    _site: tuple[tuple[int, int], Site] | None = None
    _site_lock: threading.Lock = field(default_factory=threading.Lock)

    def site(self) -> Site:
        """Topic titles, source health and MeSH headings, re-read when the data changes."""
        # The version as the render cache sees it (re-read at most once per DataVersion ttl).
        # Calling ``current()`` here re-read it on every API request and every render, and
        # stored what it read: under an update the cache then saw several versions a second
        # and re-rendered every hot key for each (bench/load.py, docs/performance.md "Load").
        version = self.version.fresh() or self.version.current()
        with self._site_lock:
            if self._site is None or self._site[0] != version:
                self._site = (version, self._load_site())
            return self._site[1]

    def stories(self, query: ArticleQuery, version: Versions) -> tuple[Story, ...]:
        """``storage.query_stories``, read once at ``version`` for every render that asks
        (a topic's three feed formats and its page read the same stories)."""
        return self.memo.get(("stories", query, version), lambda: self.storage.query_stories(query))

    def articles(self, query: ArticleQuery, version: Versions) -> tuple[Article, ...]:
        """``storage.query_articles``, read once at ``version`` (see ``stories``)."""
        return self.memo.get(
            ("articles", query, version), lambda: self.storage.query_articles(query)
        )

    def _load_site(self) -> Site:
        health = {h.source_id: h for h in self.storage.source_health()}
        topics = {t.slug: t.title for t in self.settings.topics}
        mesh_uis = {ui for t in self.settings.topics for ui in t.mesh}
        return Site(
            title=self.settings.site.title,
            base_url=self.settings.site.base_url,
            topics=topics,
            sources=health,
            mesh=self.storage.mesh_headings(mesh_uis) if mesh_uis else {},
        )


def create_app(
    settings: Settings, storage: Storage, *, ready: bool = True, admin_token: str | None = None
) -> FastPath:
    """The web application over ``storage``; ``ready=False`` until a first update is done;
    the admin routes exist only with a non-empty ``admin_token``."""
    metrics = Metrics()
    metrics.watch(storage)
    policy = HeaderPolicy(
        page_csp=page_csp(TEMPLATES / "base.html"), cors_origins=tuple(settings.web.cors_origins)
    )
    cache = RenderCache(settings.web.cache_mb * 1024 * 1024)
    state = AppState(
        settings=settings,
        storage=storage,
        cache=cache,
        version=DataVersion(storage.versions),
        renderer=Renderer(
            cache,
            threads=settings.web.render_threads,
            serve_stale=settings.web.serve_stale,
            observe=metrics.render_seconds.observe,
        ),
        templates=Jinja2Templates(directory=str(TEMPLATES)),
        metrics=metrics,
        header_policy=policy,
        admin_token=admin_token or None,
        topic_slugs=frozenset(t.slug for t in settings.topics),
    )
    if ready:
        state.ready.set()
    app = Starlette(
        routes=[*ROUTES, *admin_routes(admin_token)],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(HeaderMiddleware, policy=policy),
            Middleware(
                LimitMiddleware,
                max_query_length=settings.web.max_query_length,
                rate_limit=settings.web.rate_limit,
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.feeds = state
    return FastPath(app, state)


def create_app_from_environment() -> FastPath:
    """Factory for uvicorn workers: config from ``$FEEDS_CONFIG``, storage from it, admin
    token from ``$FEEDS_ADMIN_TOKEN``."""
    settings = load_settings(
        Path(os.environ["FEEDS_CONFIG"]) if "FEEDS_CONFIG" in os.environ else None
    )
    storage = Storage.open(settings.database)
    app = create_app(settings, storage, admin_token=os.environ.get(ADMIN_TOKEN_ENV))
    # This process answers requests on one thread and renders on others. A render gives
    # the interpreter up at every database row and, with CPython's 5 ms default, waited up
    # to 5 ms each time for the busy event loop to hand it back (docs/design.md).
    sys.setswitchinterval(settings.web.switch_interval)
    # Everything built so far lives as long as the process: move it out of the collector's
    # generations, so no full collection of it (30-50 ms here) lands on a request.
    gc.collect()
    gc.freeze()
    return app
