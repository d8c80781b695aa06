"""Security headers, content types and request limits (query length, rate limit)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feeds.config import RateLimitSettings, Settings, parse_settings
from feeds.errors import ConfigError
from feeds.storage import Storage
from feeds.web.app import create_app
from feeds.web.limits import TokenBucket
from feeds.web.params import encode_cursor

REPO = Path(__file__).parent.parent


def with_web(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update={"web": settings.web.model_copy(update=changes)})


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/", "/topics/lupus", "/sources"])
def test_pages_send_a_strict_csp_that_allows_exactly_their_inline_style_and_script(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    styles = re.findall(r"<style>(.*?)</style>", response.text, flags=re.DOTALL)
    scripts = re.findall(r"<script>(.*?)</script>", response.text, flags=re.DOTALL)
    assert styles
    assert scripts
    assert csp["style-src"].split() == [csp_hash(s) for s in styles]
    assert csp["script-src"].split() == [csp_hash(s) for s in scripts]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_the_email_digest_allows_inline_style_attributes_and_no_script(client: TestClient) -> None:
    response = client.get("/digests/lupus.html?since=2015-01-01")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'unsafe-inline'" in csp
    assert "script-src" not in csp
    assert response.headers["referrer-policy"]


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("rss", "application/rss+xml"),
        ("atom", "application/atom+xml"),
        ("json", "application/feed+json"),
    ],
)
def test_feeds_have_their_own_content_type_and_nosniff_on_200_304_and_errors(
    client: TestClient, fmt: str, media_type: str
) -> None:
    first = client.get(f"/feeds/lupus.{fmt}")
    assert first.headers["content-type"].split(";")[0] == media_type
    assert first.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in first.headers  # not a page
    again = client.get(f"/feeds/lupus.{fmt}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["x-content-type-options"] == "nosniff"
    for bad in (f"/feeds/lupus.{fmt}?limit=0", f"/feeds/nope.{fmt}"):
        error = client.get(bad)
        assert error.status_code in (400, 404)
        assert error.headers["x-content-type-options"] == "nosniff"
        assert error.headers["content-type"] == "application/json"


def test_api_and_text_answers_are_nosniff(client: TestClient) -> None:
    for path in ("/api/articles?limit=1", "/sources.json", "/healthz", "/opml", "/nope"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path


def test_cors_preflight_allows_get_from_any_origin(client: TestClient) -> None:
    response = client.options(
        "/feeds/lupus.json",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "GET" in response.headers["access-control-allow-methods"]
    refused = client.options(
        "/api/articles",
        headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400


@pytest.mark.parametrize("path", ["/feeds/lupus.rss", "/api/articles", "/", "/topics/lupus"])
def test_an_over_long_query_string_is_a_414_with_a_reason(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?q=" + "x" * 3000)
    assert response.status_code == 414
    assert "longer than 2048 bytes" in response.text
    assert client.get(f"{path}?q=" + "x" * 100).status_code in (200, 400)


def test_limit_bounds_are_a_clear_400(client: TestClient) -> None:
    for value in ("0", "201", "-1", "1e3", "9" * 100, "٣"):
        response = client.get(f"/api/articles?limit={value}")
        assert response.status_code == 400
        assert response.json()["error"].startswith("limit: must be a whole number from 1 to 200")
    assert client.get("/api/articles?limit=200").status_code == 200


def test_api_clients_over_their_rate_get_429_with_retry_after(
    loaded: tuple[Settings, Storage],
) -> None:
    settings, storage = loaded
    limited = with_web(settings, rate_limit=RateLimitSettings(per_minute=6, burst=3))
    client = TestClient(create_app(limited, storage), client=("203.0.113.7", 50000))
    statuses = [client.get("/api/articles?limit=1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/articles?limit=1")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert "rate limit" in refused.json()["error"]
    other = TestClient(create_app(limited, storage), client=("203.0.113.8", 50000))
    assert other.get("/api/articles?limit=1").status_code == 200  # per client
    assert client.get("/feeds/lupus.rss").status_code == 200  # feeds are not limited


def test_loopback_clients_are_not_rate_limited_unless_configured(
    loaded: tuple[Settings, Storage],
) -> None:
    settings, storage = loaded
    for host in ("127.0.0.1", "::1"):
        tight = with_web(settings, rate_limit=RateLimitSettings(per_minute=1, burst=1))
        local = TestClient(create_app(tight, storage), client=(host, 50000))
        assert {local.get("/api/articles?limit=1").status_code for _ in range(3)} == {200}
        strict = with_web(
            settings, rate_limit=RateLimitSettings(per_minute=1, burst=1, loopback=True)
        )
        local = TestClient(create_app(strict, storage), client=(host, 50000))
        assert [local.get("/api/articles?limit=1").status_code for _ in range(2)] == [200, 429]


def test_rate_limiting_can_be_turned_off(loaded: tuple[Settings, Storage]) -> None:
    settings, storage = loaded
    off = with_web(settings, rate_limit=RateLimitSettings(per_minute=1, burst=1, enabled=False))
    client = TestClient(create_app(off, storage), client=("203.0.113.9", 50000))
    assert {client.get("/api/articles?limit=1").status_code for _ in range(3)} == {200}


def test_token_bucket_refills_at_its_rate_and_caps_at_its_burst() -> None:
    bucket = TokenBucket(per_minute=60, burst=2)  # one token a second
    assert [bucket.take("a", 0.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take("a", 0.0) == pytest.approx(1.0)  # wait a second for the next one
    assert bucket.take("a", 0.5) == pytest.approx(0.5)
    assert bucket.take("a", 1.0) == 0.0
    assert bucket.take("a", 100.0) == 0.0  # long idle: back to the burst, not beyond
    assert bucket.take("a", 100.0) == 0.0
    assert bucket.take("a", 100.0) > 0
    assert bucket.take("b", 100.0) == 0.0  # buckets are per key


def test_rate_limit_settings_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = "web:\n  rate_limit:\n    per_minute: -5\n    bursts: 3\n"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        parse_settings(text, path)
    message = "\n".join(error.value.problems)
    assert "config.yaml:3" in message
    assert "per_minute" in message
    assert "bursts" in message


def test_query_strings_a_page_ignores_do_not_cause_new_renders(
    loaded: tuple[Settings, Storage],
) -> None:
    app = create_app(*loaded)
    client = TestClient(app)
    for path in ("/", "/topics/lupus", "/sources", "/opml"):
        first = client.get(path)
        for query in ("?utm_source=newsletter", "?x=1&x=2", "?" + "a" * 2000):
            again = client.get(path + query)
            assert again.status_code == 200
            assert again.content == first.content
    cache = app.state.feeds.cache
    assert cache.misses == 4  # one render per page, whatever the query strings
    assert len(cache) == 4


@pytest.mark.parametrize(
    "path",
    [
        "/api/articles?cursor=" + encode_cursor(datetime(2024, 1, 1, tzinfo=UTC), "a\x00b"),
        "/api/articles?cursor=" + encode_cursor(datetime(2024, 1, 1, tzinfo=UTC), "a\x01b"),
        "/studies/10.1038/a%00b",
        "/studies/10.1038/a%00b.rss",
    ],
)
def test_a_control_character_in_a_cursor_or_study_id_is_a_400_on_every_backend(
    backend_storage: Storage, path: str
) -> None:
    # PostgreSQL refuses NUL in text: these were a 503 "database not available" there.
    app = create_app(parse_settings("site: {title: T}\n", REPO / "config.yaml"), backend_storage)
    response = TestClient(app).get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(("cursor: ", "not a study", "study: "))
