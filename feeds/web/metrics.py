"""Prometheus metrics for ``/metrics``, in a registry per application (no global state).

Requests by route and status, a latency histogram and render-cache lookups are counted by
this process. What the updater does may happen in another process, so it is read from the
database at scrape time (``StorageCollector``): fetches by outcome and error kind and bytes
fetched (counters the updater keeps in the database, in each fetch's own transaction),
sources by status, the duration of each source's last fetch, articles stored.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feeds.storage import Storage


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
        cache = Counter(
            "feeds_render_cache", "Render cache lookups", ["result"], registry=self.registry
        )
        # Bound once: a labels() lookup per request is a measurable share of a cache hit.
        self.cache_hits = cache.labels("hit")
        self.cache_misses = cache.labels("miss")  # rendered for this request
        self.cache_stale = cache.labels("stale")  # the previous body, while it renders anew
        self.render_seconds = Histogram(
            "feeds_render_seconds",
            "Time from a render's start to its body (waits for the interpreter included)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        # (route template, status) -> its two series; bounded by routes × statuses.
        self._series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one request and its latency (the labelled series are looked up once)."""
        series = self._series.get((route, status))
        if series is None:
            series = (self.requests.labels(route, str(status)), self.latency.labels(route))
            self._series[(route, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def watch(self, storage: Storage) -> None:
        """Also report what the database knows (see ``StorageCollector``)."""
        self.registry.register(StorageCollector(storage))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


FETCH_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class StorageCollector(Collector):
    """Metrics read from the database when scraped, whichever process did the work."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def collect(self) -> Iterator[Metric]:
        counters = self._storage.counters()
        fetches = CounterMetricFamily("feeds_fetches", "Fetches by outcome", labels=["outcome"])
        errors = CounterMetricFamily(
            "feeds_fetch_errors", "Failed fetches by kind", labels=["kind"]
        )
        for key, value in sorted(counters.items()):
            group, _, label = key.partition(":")
            if group == "fetches":
                fetches.add_metric([label], value)
            elif group == "errors":
                errors.add_metric([label], value)
        yield fetches
        yield errors
        yield CounterMetricFamily(
            "feeds_fetched_bytes",
            "Bytes fetched, after decompression",
            value=counters.get("fetched_bytes", 0),
        )
        health = self._storage.source_health()
        by_status = GaugeMetricFamily("feeds_sources", "Sources by status", labels=["status"])
        statuses = collections.Counter(str(h.shown_status) for h in health)
        for status, count in sorted(statuses.items()):
            by_status.add_metric([status], count)
        yield by_status
        durations = [h.last_duration_ms / 1000 for h in health if h.last_duration_ms is not None]
        buckets = [(str(b), sum(d <= b for d in durations)) for b in FETCH_SECONDS]
        yield GaugeHistogramMetricFamily(
            "feeds_last_fetch_seconds",
            "Duration of each source's last fetch",
            buckets=[*buckets, ("+Inf", len(durations))],
            gsum_value=sum(durations),
        )
        yield GaugeMetricFamily(
            "feeds_articles", "Articles stored", value=self._storage.count_articles()
        )


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
            self.metrics.observe(_route_name(scope), status, time.perf_counter() - started)


def _route_name(scope: Scope) -> str:
    # The router records the matched route in the scope (the same dict object we passed
    # down), so nothing is matched twice.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
