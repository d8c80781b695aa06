"""Request limits: query string length on every route, a per-client rate limit on the API.

What it does: ``LimitMiddleware`` answers ``414 URI Too Long`` (RFC 9110 §15.5.15) when a
query string is longer than ``web.max_query_length`` bytes, and ``429 Too Many Requests``
with ``Retry-After`` (RFC 6585 §4) when a client has used up its token bucket on ``/api/``.
``TokenBucket`` is the pure decision (given the time), so tests need not wait.
``in_networks`` is the address check of ``/metrics`` (``web.metrics_networks``).

What it does not do: limit feeds and pages (they are served from the render cache, and
readers poll them; ``max_age`` tells them how often is useful), or know client addresses
behind a proxy by itself: the address is the ASGI scope's ``client``, which uvicorn takes
from ``X-Forwarded-For`` only for the proxies ``--forwarded-allow-ips`` trusts.

Loopback clients (127.0.0.0/8, ::1) are not limited unless ``rate_limit.loopback`` says so:
local tools and health checks should never see a 429.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from feeds.config import RateLimitSettings
from feeds.web.errors import error_response

LIMITED_PREFIX = "/api/"
MAX_CLIENTS = 10_000  # buckets kept before full (idle) ones are forgotten


@dataclass(slots=True)
class _Bucket:
    tokens: float  # requests the client may still make now
    at: float  # when ``tokens`` was computed (monotonic seconds)


class TokenBucket:
    """Per-key token buckets: ``burst`` tokens, refilled at ``per_minute`` a minute."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float:
        """Take one token for ``key``: 0 when allowed, else the seconds until one is free."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_CLIENTS:
                    self._forget_idle(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: dropping it changes nothing.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= 1]
        for key in full or list(self._buckets)[: MAX_CLIENTS // 10]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def in_networks(host: str | None, networks: Iterable[IPv4Network | IPv6Network]) -> bool:
    """Whether the client address ``host`` is in one of ``networks``."""
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # not an address (e.g. "testclient")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # a dual-stack socket's IPv4 client (RFC 4291 §2.5.5.2)
    return any(address in network for network in networks)


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # not an address (e.g. "testclient"): treat as remote


class LimitMiddleware:
    """Refuses over-long query strings (414) and API clients over their rate (429)."""

    def __init__(
        self,
        app: ASGIApp,
        max_query_length: int,
        rate_limit: RateLimitSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.max_query_length = max_query_length
        self.settings = rate_limit
        self.buckets = TokenBucket(rate_limit.per_minute, rate_limit.burst)
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope["query_string"]) > self.max_query_length:
            response = error_response(
                Request(scope),
                414,
                f"query string longer than {self.max_query_length} bytes",
            )
            await response(scope, receive, send)
            return
        if self.settings.enabled and scope["path"].startswith(LIMITED_PREFIX):
            host = scope["client"][0] if scope.get("client") else None
            if self.settings.loopback or not is_loopback(host):
                wait = self.buckets.take(host or "unknown", self.clock())
                if wait > 0:
                    seconds = max(1, math.ceil(wait))
                    response = error_response(
                        Request(scope),
                        429,
                        f"rate limit of {self.settings.per_minute:g} requests a minute "
                        f"reached; retry in {seconds} s",
                    )
                    response.headers["Retry-After"] = str(seconds)  # RFC 9110 §10.2.3
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
