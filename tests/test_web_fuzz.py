"""Every route's path and query parameters, fuzzed with hypothesis: never a 500.

Requests go to the ASGI app in-process, as raw as uvicorn would hand them over: the raw
path is percent-decoded the way uvicorn's httptools protocol does it, the query string is
passed as bytes (invalid escapes, NUL bytes, repeated keys and all). Every answer must be a
2xx (the input was valid), a 304, a 307 (Starlette's trailing-slash redirect) or a 4xx whose body
gives a one-line reason.

On both databases (PostgreSQL when configured, as in CI). Profiles: ``ci`` (selected when
``CI=true``, as ``.ci/run`` sets it) runs 1,000 examples per route, derandomized so a
failure reproduces; ``dev`` runs 50 with a random seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.config import load_settings
from feeds.storage import Storage
from feeds.update import update
from feeds.web.app import create_app
from feeds.web.fastpath import FastPath
from feeds.web.params import API_PARAMS, encode_cursor
from tests import databases

REPO = Path(__file__).parent.parent
settings.register_profile(
    "ci",
    max_examples=1000,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FUZZ = settings.get_profile("ci" if os.environ.get("CI") == "true" else "dev")


# On both databases: PostgreSQL refuses what SQLite stores (a NUL in text, say), so a
# value that reaches a query unchecked is a 500 there only.
@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastPath]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'feeds.db'}"
        else:
            url = stack.enter_context(databases.postgres_schema())
        config = load_settings(REPO / "config.yaml")
        storage = Storage.open(url)
        stack.callback(storage.close)
        storage.migrate()
        samples = [s.id for s in config.sources if s.url.startswith("file:")]
        asyncio.run(update(config, storage, only=samples))
        yield create_app(config, storage, admin_token="fuzz-token")


def call(
    app: FastPath,
    raw_path: str,
    query: bytes,
    method: str = "GET",
    headers: tuple[tuple[bytes, bytes], ...] = ((b"accept-encoding", b"gzip"),),
) -> tuple[int, bytes]:
    """One request through the whole app (fast path included), as uvicorn would make it."""
    path = unquote(raw_path) if "%" in raw_path else raw_path  # uvicorn: httptools_impl
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path.encode("ascii"),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"localhost:8000"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def check(status: int, body: bytes) -> None:
    """A valid answer, or a client error that says why in one line."""
    assert status < 500, body[:300]
    if status < 400:
        assert status < 300 or status in (304, 307)
        return
    try:
        reason = json.loads(body)["error"]
    except ValueError:
        text = body.decode()
        assert text.startswith(f"{status}: "), text[:200]
        reason = text.removeprefix(f"{status}: ").rstrip("\n")
    assert reason.strip()
    assert "\n" not in reason
    assert "Traceback" not in reason


# --- what hypothesis draws ------------------------------------------------------------------

ODD = [
    "%",
    "%z",
    "%zz",
    "%00",
    "%ff%fe",
    "%c0%af",
    "%e2%80",
    "%2e%2e%2f",
    "..%2f..%2fetc%2fpasswd",
    "%25",
    "+",
    "&&",
    "==",
    ";",
    "%0d%0a",
    "\x00",
]
KEYS = [*sorted(API_PARAMS), "digest", "x", "", "LIMIT", "limit[]", "topics%00"]

instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
offsets = st.builds(
    lambda d, minutes: d.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.integers(-23 * 60, 23 * 60),
)
cursors = st.builds(
    lambda d, i: encode_cursor(d, i),
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    st.text(max_size=20),
)
values = st.one_of(
    st.text(max_size=50),
    st.text(min_size=500, max_size=3000),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["lupus", "car-t,lupus", "all", "any", "daily", "weekly", "2024-03-01", "9999-12-31"]
    ),
    instants,
    offsets,
    cursors,
    st.sampled_from(ODD),
)


@st.composite
def queries(draw: st.DrawFn) -> bytes:
    """A query string: known and unknown keys, repeated, with odd and huge values."""
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)))
        value = draw(values)
        if draw(st.booleans()):  # properly encoded
            parts.append(f"{quote_plus(key)}={quote_plus(value)}")
        else:  # as it came: raw escapes, NUL bytes, bare keys
            parts.append(f"{key}={value}" if draw(st.booleans()) else key)
    text = "&".join(parts)
    return text.encode("utf-8", errors="surrogatepass")


segments = st.one_of(
    st.sampled_from(["lupus", "all", "car-t", "oncology", "nope", "..", ".", "%2e%2e", ""]),
    st.text(max_size=30).map(lambda t: quote(t, safe="")),
    st.text(min_size=300, max_size=3000).map(lambda t: quote(t, safe="")),
    st.sampled_from(ODD).map(lambda t: quote(t, safe="%")),
    st.just("..%2f..%2f..%2fetc%2fpasswd"),
)
formats = st.one_of(st.sampled_from(["rss", "atom", "json", "html", "xml", ""]), segments)

ROUTES: dict[str, st.SearchStrategy[str]] = {
    "feed": st.builds(lambda s, f: f"/feeds/{s}.{f}", segments, formats),
    "index": st.just("/"),
    "topic": st.builds(lambda s: f"/topics/{s}", segments),
    "sources": st.just("/sources"),
    "opml": st.just("/opml"),
    "digest": st.builds(lambda s: f"/digests/{s}.html", segments),
    "api": st.just("/api/articles"),
    "sources_json": st.just("/sources.json"),
    "failing": st.builds(lambda f: f"/sources/failing.{f}", formats),
    "healthz": st.just("/healthz"),
    "readyz": st.just("/readyz"),
    "metrics": st.just("/metrics"),
    "traversal": st.builds(lambda s: f"/{s}/{s}", segments),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_fuzzed_parameters_never_get_a_500(app: FastPath, route: str) -> None:
    @FUZZ
    @given(path=ROUTES[route], query=queries())
    def fuzz(path: str, query: bytes) -> None:
        check(*call(app, path, query))

    fuzz()


def test_fuzzed_admin_requests_never_get_a_500(app: FastPath) -> None:
    authorization = st.one_of(
        st.just(b""),
        st.text(max_size=60).map(lambda t: t.encode("utf-8")),
        st.text(max_size=60).map(lambda t: b"Bearer " + t.encode("utf-8")),
        st.just(b"Bearer fuzz-token"),  # the right token: unknown sources are a 404
    )

    @FUZZ
    @given(
        source=segments,
        action=st.sampled_from(["refresh", "disable", "enable", "x"]),
        auth=st.lists(authorization, max_size=2),
    )
    def fuzz(source: str, action: str, auth: list[bytes]) -> None:
        headers = tuple((b"authorization", value) for value in auth)
        path = f"/admin/sources/{source}/{action}"
        status, body = call(app, path, b"", method="POST", headers=headers)
        check(status, body)
        assert status in (401, 404, 405, 307)  # refused, or no such source or action

    fuzz()


@pytest.mark.parametrize(
    "query",
    [
        "since=0001-01-01T00:00:00%2B01:00",  # the offset takes it below year 1
        "until=9999-12-31",  # a date-only until= is the next midnight: past year 9999
        "until=9999-12-31T23:59:59-01:00",
        "cursor=" + encode_cursor(datetime(1, 1, 1, tzinfo=UTC), "x"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_answered(app: FastPath, query: str) -> None:
    for path in ("/feeds/all.rss", "/api/articles", "/digests/all.html"):
        check(*call(app, path, query.encode()))


header_values = st.one_of(
    st.text(max_size=80).map(lambda t: t.encode("latin-1", errors="replace")),
    st.sampled_from(
        [
            b"*",
            b"W/",
            b'"',
            b"gzip;q=nan",
            b"gzip;q=1e999",
            b"gzip;q=-1, *",
            b";;;,,,",
            b"Mon, 32 Foo 99999 25:61:61 GMT",
            b"Tue, 01 Jan 0001 00:00:00 +2359",
            b"Fri, 31 Dec 9999 23:59:59 -2359",
            b"0",
        ]
    ),
)


def test_fuzzed_conditional_and_encoding_headers_never_get_a_500(app: FastPath) -> None:
    """On a hot feed (the fast path) and on a fresh one (Starlette) alike."""

    @FUZZ
    @given(
        names=st.lists(
            st.sampled_from([b"accept-encoding", b"if-none-match", b"if-modified-since"]),
            max_size=4,
        ),
        values=st.lists(header_values, min_size=4, max_size=4),
        hot=st.booleans(),
        method=st.sampled_from(["GET", "HEAD"]),
    )
    def fuzz(names: list[bytes], values: list[bytes], hot: bool, method: str) -> None:
        headers = tuple(zip(names, values, strict=False))
        path = "/feeds/lupus.rss" if hot else "/feeds/car-t.atom"
        status, body = call(app, path, b"" if hot else b"limit=7", method, headers)
        check(status, body)
        assert status in (200, 304)

    call(app, "/feeds/lupus.rss", b"")  # now in the cache: the fast path answers
    fuzz()
