"""The fetch stage against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from feeds.errors import ErrorKind
from feeds.fetch import Fetcher, HostGate, read_file
from feeds.models import Failed, Fetched, FetchResult, NotModified, Validators
from tests.httpserver import DATA, LAST_MODIFIED, FeedServer


def fetch(url: str, validators: Validators = Validators(), **options: float) -> FetchResult:  # noqa: B008
    async def run() -> FetchResult:
        settings = {"user_agent": "feeds-tests/1.0 (+http://localhost)", "timeout": 5.0}
        async with Fetcher(**(settings | options)) as fetcher:  # type: ignore[arg-type]
            # The loopback test server is a private address: opt in, as a config would.
            return await fetcher.fetch(url, validators, allow_private=True)

    return asyncio.run(run())


def test_fetch_returns_body_validators_and_final_url(server: FeedServer) -> None:
    result = fetch(server.url("/feeds/rss20.xml"))
    assert isinstance(result, Fetched)
    assert result.body == (DATA / "rss20.xml").read_bytes()
    assert result.validators.etag is not None
    assert result.validators.last_modified == LAST_MODIFIED
    assert result.content_type == "application/xml"


def test_fetch_sends_user_agent_naming_the_project(server: FeedServer) -> None:
    fetch(server.url("/feeds/rss20.xml"))
    (request,) = server.requests_to("/feeds/rss20.xml")
    assert request.headers["user-agent"].startswith("feeds-tests/1.0 (+http://")
    assert "application/rss+xml" in request.headers["accept"]


def test_fetch_sends_validators_and_turns_304_into_not_modified(server: FeedServer) -> None:
    first = fetch(server.url("/feeds/rss20.xml"))
    assert isinstance(first, Fetched)
    second = fetch(server.url("/feeds/rss20.xml"), first.validators)
    assert isinstance(second, NotModified)
    assert second.validators == first.validators
    request = server.requests_to("/feeds/rss20.xml")[-1]
    assert request.headers["if-none-match"] == first.validators.etag
    assert request.headers["if-modified-since"] == LAST_MODIFIED


def test_fetch_decompresses_gzip(server: FeedServer) -> None:
    result = fetch(server.url("/gzip/atom10.xml"))
    assert isinstance(result, Fetched)
    assert result.body == (DATA / "atom10.xml").read_bytes()


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_fetch_follows_redirects_and_reports_the_final_url(server: FeedServer, code: int) -> None:
    result = fetch(server.url(f"/redirect/{code}/rss20.xml"))
    assert isinstance(result, Fetched)
    assert result.url == server.url("/feeds/rss20.xml")


def test_fetch_reports_redirect_loop(server: FeedServer) -> None:
    result = fetch(server.url("/loop"))
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.REDIRECT_LOOP


@pytest.mark.parametrize("code", [404, 410, 500, 503])
def test_fetch_reports_http_status_with_its_code(server: FeedServer, code: int) -> None:
    result = fetch(server.url(f"/status/{code}"))
    assert isinstance(result, Failed)
    assert (result.kind, result.status_code) == (ErrorKind.HTTP_STATUS, code)
    assert result.message.startswith(f"fetch: HTTP {code}")


def test_fetch_refuses_a_declared_oversized_body(server: FeedServer) -> None:
    result = fetch(server.url("/feeds/rss20.xml"), max_bytes=1024)
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.TOO_LARGE


def test_fetch_cuts_off_a_streamed_body_past_the_limit(server: FeedServer) -> None:
    result = fetch(server.url("/big/3000000"), max_bytes=1_000_000)
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.TOO_LARGE


def test_fetch_counts_the_limit_after_decompression(server: FeedServer) -> None:
    result = fetch(server.url("/bomb/20000000"), max_bytes=1_000_000)
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.TOO_LARGE


def test_fetch_gives_up_after_the_whole_request_deadline(server: FeedServer) -> None:
    # Each read arrives well within the read timeout; only the deadline stops the drip.
    result = fetch(server.url("/slow/rss20.xml"), timeout=5.0, deadline=0.5)
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.TIMEOUT


def test_fetch_reports_an_empty_body(server: FeedServer) -> None:
    result = fetch(server.url("/empty"))
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.EMPTY


def test_fetch_reports_an_unresolvable_host_as_dns() -> None:
    result = fetch("http://no-such-host.invalid/feed.xml")
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.DNS


def test_fetch_reports_a_refused_connection_as_connect(server: FeedServer) -> None:
    import socket

    with socket.socket() as sock:  # bind, never listen: the port refuses connections
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.CONNECT


def test_local_file_is_read_and_then_not_modified(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes((DATA / "rss20.xml").read_bytes())
    first = read_file(path.as_uri(), Validators(), 1_000_000)
    assert isinstance(first, Fetched)
    assert isinstance(read_file(path.as_uri(), first.validators, 1_000_000), NotModified)
    path.write_bytes((DATA / "atom10.xml").read_bytes())
    assert isinstance(read_file(path.as_uri(), first.validators, 1_000_000), Fetched)


def test_missing_local_file_is_a_file_error(tmp_path: Path) -> None:
    result = read_file((tmp_path / "missing.xml").as_uri(), Validators(), 1_000_000)
    assert isinstance(result, Failed)
    assert result.kind is ErrorKind.FILE


def test_fetch_asks_for_and_decodes_brotli(server: FeedServer) -> None:
    result = fetch(server.url("/br/atom10.xml"))
    assert isinstance(result, Fetched)
    assert result.body == (DATA / "atom10.xml").read_bytes()
    (request,) = server.requests_to("/br/atom10.xml")
    assert "br" in request.headers["accept-encoding"]


def test_requests_to_one_host_are_spread_out(server: FeedServer) -> None:
    # The gate's own release times, not the server's arrival times: on a loaded machine a
    # request can spend longer between the gate and the server than the next one does
    # (the first opens the connection), which narrows a gap the gate kept.
    released: list[float] = []

    async def run() -> None:
        gate = HostGate(per_host=2, spacing=0.2)
        async with Fetcher(user_agent="feeds-tests", timeout=5.0) as fetcher:

            async def one(name: str) -> None:
                url = server.url(f"/feeds/{name}")
                async with gate.open(url):
                    released.append(time.monotonic())
                    await fetcher.fetch(url, allow_private=True)

            await asyncio.gather(*(one(n) for n in ("rss20.xml", "atom10.xml", "rss10.rdf")))

    asyncio.run(run())
    assert len(server.requests) == 3
    gaps = [b - a for a, b in itertools.pairwise(released)]
    assert len(gaps) == 2
    # A lower bound (a slow machine only widens it), less the event loop's clock resolution.
    assert all(gap >= 0.19 for gap in gaps), gaps
