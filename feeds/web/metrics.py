"""Prometheus metrics for ``/metrics``, in a registry per application (no global state).

Requests by route and status, a latency histogram, render-cache hits and misses; fetch
outcomes and stored articles are read from the database when scraped.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """The application's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "feeds_http_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "feeds_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.cache = Counter(
            "feeds_render_cache", "Render cache lookups", ["result"], registry=self.registry
        )
        self.articles = Gauge("feeds_articles", "Articles stored", registry=self.registry)
        self.sources = Gauge(
            "feeds_sources",
            "Sources by status of their last fetch",
            ["status"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every request by its route template (not its raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route_name(scope)
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def _route_name(scope: Scope) -> str:
    # The router records the matched route in the scope (the same dict object we passed
    # down), so nothing is matched twice.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
