"""Sources may not reach private networks unless they opt in: the pure address rule, and the
guard at connect time over real loopback HTTP (a refused connection is never opened, so the
test server must see no request at all)."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from feeds.errors import ErrorKind
from feeds.fetch import Fetcher
from feeds.models import Failed, Fetched, FetchResult, SourceStatus
from feeds.netguard import (
    BlockedAddress,
    IPAddress,
    blocked_reason,
    check_addresses,
    interleave,
)
from feeds.storage import Storage
from feeds.update import update
from tests import httpserver
from tests.conftest import MakeSettings
from tests.httpserver import CANARY, FeedServer


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),  # IPv4-mapped public address
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),  # RFC 4193 unique local
        ("169.254.169.254", "link-local"),  # cloud metadata service
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "not globally routable"),  # RFC 6598 shared address space
        ("192.0.2.1", "private"),  # TEST-NET-1 documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
    ],
)
def test_an_address_is_blocked_for_what_it_is(address: str, reason: str | None) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


def test_a_name_is_refused_when_any_of_its_addresses_is_private() -> None:
    public: list[IPAddress] = [ipaddress.ip_address("8.8.8.8")]
    check_addresses("feeds.example", public)  # no exception
    mixed = [*public, ipaddress.ip_address("10.0.0.5")]
    with pytest.raises(BlockedAddress, match=r"feeds\.example \(10\.0\.0\.5\): a private"):
        check_addresses("feeds.example", mixed)


PRIVATE_URLS = [
    "http://127.0.0.1:{port}/feeds/rss20.xml",
    "http://localhost:{port}/feeds/rss20.xml",
    "http://[::ffff:127.0.0.1]:{port}/feeds/rss20.xml",
    "http://0.0.0.0:{port}/feeds/rss20.xml",
    "http://2130706433:{port}/feeds/rss20.xml",  # 127.0.0.1 as one decimal number
    "http://[::1]:{port}/feeds/rss20.xml",
    "http://169.254.169.254/latest/meta-data/",
]


@pytest.mark.parametrize("template", PRIVATE_URLS)
def test_a_source_on_a_private_address_is_blocked_before_connecting(
    template: str, server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    url = template.format(port=server.port)
    settings = make_settings(
        f"fetch: {{timeout: 3}}\nsources:\n  - {{id: s, name: S, url: '{url}'}}\n"
    )
    (report,) = asyncio.run(update(settings, storage)).sources
    assert (report.status, report.error_kind) == (SourceStatus.FAILING, ErrorKind.BLOCKED)
    assert report.error is not None
    assert "allow_private: true" in report.error
    assert server.requests == []
    (health,) = storage.source_health()
    assert health.error_kind is ErrorKind.BLOCKED


def test_a_source_that_allows_private_addresses_is_fetched(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    url = server.url("/feeds/rss20.xml")
    settings = make_settings(
        f"sources:\n  - {{id: s, name: S, url: '{url}', allow_private: true}}\n"
    )
    (report,) = asyncio.run(update(settings, storage)).sources
    assert (report.status, report.counts.new) == (SourceStatus.OK, 3)


@pytest.fixture(scope="module")
def internal_server() -> Iterator[FeedServer]:
    """A second server on 127.0.0.2: an internal service that must not be reached."""
    handle, httpd = httpserver.start("127.0.0.2")
    yield handle
    httpd.shutdown()
    httpd.server_close()


def only_127_0_0_1_is_public(address: IPAddress) -> str | None:
    """The real rule, except that the test server's 127.0.0.1 stands in for the internet."""
    return None if address == ipaddress.ip_address("127.0.0.1") else blocked_reason(address)


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_redirect_from_a_public_source_to_a_private_address_needs_allow_private(
    server: FeedServer, internal_server: FeedServer, allow_private: bool
) -> None:
    internal_server.requests.clear()
    target = internal_server.url("/canary/admin")
    url = server.url("/goto/" + quote(target, safe=""))

    async def fetch() -> FetchResult:
        async with Fetcher(user_agent="t", address_policy=only_127_0_0_1_is_public) as fetcher:
            return await fetcher.fetch(url, allow_private=allow_private)

    result = asyncio.run(fetch())
    assert server.requests_to_prefix("/goto/")  # the public hop was made
    if allow_private:
        assert isinstance(result, Fetched)
        assert result.body == CANARY
        assert len(internal_server.requests) == 1
    else:
        assert isinstance(result, Failed)
        assert result.kind is ErrorKind.BLOCKED
        assert "127.0.0.2: a loopback address" in result.message
        assert internal_server.requests == []


def test_a_name_that_does_not_resolve_is_still_a_dns_failure_when_guarded() -> None:
    async def fetch() -> FetchResult:
        async with Fetcher(user_agent="t", timeout=5.0) as fetcher:
            return await fetcher.fetch("http://no-such-host.invalid/feed.xml")

    result = asyncio.run(fetch())
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.DNS


def test_addresses_are_tried_alternating_families_from_the_resolvers_first() -> None:
    answers = [ipaddress.ip_address(a) for a in ("2001:db8::1", "2001:db8::2", "192.0.2.1")]
    assert [str(a) for a in interleave(answers)] == ["2001:db8::1", "192.0.2.1", "2001:db8::2"]
