"""The config sections that say how the service runs: ``site:``, ``fetch:``, ``web:`` (with
``web.rate_limit:``) and ``stories:``.

What it does: declare each section's keys, defaults and ranges, and the checks that stay
within one section (an http(s) base URL, a fetch lease that outlasts the longest fetch).

What it does not do: checks that span sections or entries (``feeds.config.checks``), or
sources and topics (``feeds.config.sources``, ``feeds.config.topics``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, field_validator, model_validator

from feeds.config.values import Duration, Frozen, Slug
from feeds.stories import StoryPolicy


class SiteSettings(Frozen):
    """``site:`` — how the service names and locates itself."""

    title: str = Field("Health News Feeds", min_length=1)
    base_url: str = "http://localhost:8000"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("not an http(s) URL")
        # It goes into the default User-Agent header, which is sent as ASCII.
        if not _header_safe(value):
            raise ValueError(
                "not ASCII, or has spaces or control characters: write the host name in its "
                "xn-- form and percent-encode the path"
            )
        return value.rstrip("/")


class FetchSettings(Frozen):
    """``fetch:`` — how sources are fetched."""

    user_agent: str | None = None  # default: "feeds/VERSION (+base_url)"
    timeout: float = Field(20.0, gt=0, le=600)  # seconds, per connect and per read
    deadline: float = Field(120.0, gt=0, le=3600)  # seconds for a whole request
    max_bytes: int = Field(10_000_000, ge=1024)  # body limit, after decompression
    max_items: int = Field(1000, ge=1, le=100_000)  # entries kept per fetch, the newest
    concurrency: int = Field(8, ge=1, le=256)  # fetches in flight at once
    per_host: int = Field(2, ge=1, le=64)  # fetches in flight to one host at once
    host_spacing: float = Field(0.5, ge=0, le=60)  # seconds between request starts to one host
    max_redirects: int = Field(5, ge=0, le=20)
    interval: Duration = timedelta(minutes=30)  # default time between checks of a source
    min_interval: Duration = timedelta(minutes=5)  # floor of every delay, whatever headers say
    max_interval: Duration = timedelta(hours=24)  # cap of every delay, backoff included
    backoff_base: Duration = timedelta(minutes=10)  # delay after a first failure, then doubled
    failing_after: int = Field(10, ge=1, le=1000)  # failures before checking only at the cap
    lease: Duration = timedelta(minutes=10)  # a claimed source is this worker's for this long

    @field_validator("user_agent")
    @classmethod
    def _header_value(cls, value: str | None) -> str | None:
        if value is not None and not _header_safe(value, spaces=True):
            raise ValueError("must be printable ASCII (it is sent as an HTTP header)")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_fetch(self) -> FetchSettings:
        # A lease that can run out before its fetch ends would let a second worker fetch the
        # same source (storage.claims). A claimed source may first wait for this process's
        # other fetches to its host (per_host at a time, host_spacing apart), then run for
        # up to deadline: the lease must cover that worst case.
        rounds = -(-self.concurrency // self.per_host)  # ceil
        longest = rounds * self.deadline + self.concurrency * self.host_spacing
        lease = self.lease.total_seconds()
        if lease <= longest:
            raise ValueError(
                f"lease ({lease:g} s) must outlast the longest a claimed fetch can take "
                f"({longest:g} s: ceil(concurrency / per_host) × deadline + concurrency × "
                "host_spacing)"
            )
        return self


def _header_safe(value: str, *, spaces: bool = False) -> bool:
    """Whether ``value`` can go into an HTTP header as it is: printable ASCII."""
    return value.isascii() and value.isprintable() and (spaces or " " not in value)


class RateLimitSettings(Frozen):
    """``web.rate_limit:`` — a token bucket per client address on ``/api/`` (429 when empty)."""

    enabled: bool = True
    per_minute: float = Field(120.0, gt=0, le=1_000_000)  # sustained requests per client
    burst: int = Field(30, ge=1, le=100_000)  # requests a client may make at once
    loopback: bool = False  # also limit clients on 127.0.0.0/8 and ::1 (local tools, tests)


LOOPBACK_V4 = IPv4Network("127.0.0.0/8")
LOOPBACK_V6 = IPv6Network("::1/128")


class WebSettings(Frozen):
    """``web:`` — how feeds and pages are served."""

    max_age: Duration = timedelta(minutes=5)  # Cache-Control max-age of feeds and pages
    cors_origins: tuple[str, ...] = ("*",)  # origins allowed to read feeds and the API
    cache_mb: int = Field(64, ge=1, le=4096)  # memory for rendered bodies (plain + gzip)
    page_size: int = Field(50, ge=1, le=200)  # items per feed when no limit= is given
    max_query_length: int = Field(2048, ge=256, le=65536)  # bytes of query string, else 414
    rate_limit: RateLimitSettings = RateLimitSettings()
    collapse: Literal["stories", "none"] = "stories"  # feeds: one item per story, or all
    render_threads: int = Field(2, ge=1, le=32)  # renders at once (CPU-bound: more contend)
    # seconds a thread of the serving process may hold the interpreter while another waits
    # (sys.setswitchinterval; CPython's default is 0.005): see docs/design.md
    switch_interval: float = Field(0.0005, ge=0.0001, le=0.1)
    # how out of date (s) a body may be when served while its new render runs (0: never)
    serve_stale: float = Field(2.0, ge=0.0, le=60.0)
    # client networks /metrics answers (others get 403): loopback, i.e. a Prometheus on the
    # same host or a scrape through an SSH tunnel; ["0.0.0.0/0", "::/0"] opens it to all
    metrics_networks: tuple[IPvAnyNetwork, ...] = (LOOPBACK_V4, LOOPBACK_V6)


class StorySettings(Frozen):
    """``stories:`` — when two articles are one story, and which one a feed shows."""

    window: Duration = timedelta(days=7)  # farthest apart two articles of one story can be
    threshold: float = Field(62.0, ge=1, le=100)  # rapidfuzz text score that makes one story
    source_priority: tuple[Slug, ...] = ()  # source ids, most authoritative first

    def policy(self, subject: Iterable[str] = ()) -> StoryPolicy:
        """The clustering policy these settings describe; ``subject`` is the topics'
        vocabulary (``CompiledRules.vocabulary``), which is no evidence of one story."""
        return StoryPolicy(window=self.window, threshold=self.threshold, subject=frozenset(subject))
