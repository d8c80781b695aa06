"""The web app: feeds, filters, errors, HTTP caching, pages, OPML, API, operations."""

from __future__ import annotations

import asyncio
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from starlette.testclient import TestClient

from feeds.config import Settings, load_settings
from feeds.storage import Storage
from feeds.update import update
from feeds.web.app import create_app
from feeds.web.cache import DataVersion
from tests.conftest import MakeSettings
from tests.httpserver import DATA, FeedServer

REPO = Path(__file__).parent.parent


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_every_topic_feed_is_served_in_every_format(client: TestClient, fmt: str) -> None:
    for slug in ("all", "lupus", "car-t", "oncology"):
        response = client.get(f"/feeds/{slug}.{fmt}")
        assert response.status_code == 200, (slug, response.text)


def test_lupus_feeds_parse_and_every_item_carries_the_lupus_category(client: TestClient) -> None:
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(client.get(f"/feeds/lupus.{fmt}").content)
        assert not parsed.bozo
        assert parsed.entries
        for entry in parsed.entries:
            assert "lupus" in {tag.term for tag in entry.tags}
    feed = client.get("/feeds/lupus.json").json()
    assert all("lupus" in item["tags"] for item in feed["items"])


def test_self_link_is_the_exact_url_served(client: TestClient) -> None:
    path = "/feeds/all.atom?topics=lupus,car-t&match=all&q=remission"
    parsed = feedparser.parse(client.get(path).content)
    assert (
        parsed.feed.title == "Lupus + CAR-T cell therapy, matching 'remission' — Health News Feeds"
    )
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"http://localhost:8000{path}"
    assert parsed.entries


def test_filters_apply_to_every_format_alike(client: TestClient) -> None:
    query = "?topics=car-t&exclude=lupus&limit=5"
    ids = {
        fmt: [
            e.link for e in feedparser.parse(client.get(f"/feeds/all.{fmt}{query}").content).entries
        ]
        for fmt in ("rss", "atom")
    }
    ids["json"] = [item["url"] for item in client.get(f"/feeds/all.json{query}").json()["items"]]
    assert ids["rss"] == ids["atom"] == ids["json"]
    assert 0 < len(ids["rss"]) <= 5


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("limit=abc", "limit"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("since=yesterday", "since"),
        ("topics=nope", "unknown topic"),
        ("source=nope", "unknown source"),
        ("match=some", "match"),
        ("bogus=1", "unknown parameter"),
        ("limit=5&limit=6", "more than once"),
        ("since=2024-03-02&until=2024-03-01", "before until"),
        ("q=" + "x" * 300, "q:"),
        ("min_score=high", "min_score"),
        ("min_score=1_0", "min_score"),  # float() would read 10
        ("min_score=nan", "min_score"),
        ("min_score=1e2", "min_score"),
    ],
)
def test_bad_parameters_are_a_400_with_a_one_line_reason(
    client: TestClient, query: str, reason: str
) -> None:
    response = client.get(f"/feeds/lupus.rss?{query}")
    assert response.status_code == 400
    message = response.json()["error"]
    assert reason in message
    assert "\n" not in message


def test_unknown_topic_or_format_is_a_404(client: TestClient) -> None:
    assert client.get("/feeds/nope.rss").status_code == 404
    assert client.get("/feeds/lupus.xml").status_code == 404
    assert client.get("/topics/nope").status_code == 404


def test_etag_and_last_modified_answer_304(client: TestClient) -> None:
    first = client.get("/feeds/lupus.rss")
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.headers["vary"].startswith("Accept-Encoding")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/lupus.rss", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/feeds/lupus.rss", headers={"If-Modified-Since": modified}).status_code == 304
    )
    again = client.get("/feeds/lupus.rss", headers={"If-None-Match": '"other"'})
    assert again.status_code == 200
    assert again.content == first.content


def test_gzip_is_negotiated_from_the_cache(client: TestClient) -> None:
    zipped = client.get("/feeds/lupus.atom", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/feeds/lupus.atom", headers={"Accept-Encoding": "identity"})
    refused = client.get("/feeds/lupus.atom", headers={"Accept-Encoding": "gzip;q=0"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in refused.headers
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert zipped.content == plain.content  # the test client decodes gzip for us
    assert int(zipped.headers["content-length"]) < len(plain.content) / 2


def test_repeat_requests_hit_the_render_cache(loaded: tuple[Settings, Storage]) -> None:
    app = create_app(*loaded)
    client = TestClient(app)
    client.get("/feeds/oncology.rss")
    client.get("/feeds/oncology.rss")
    cache = app.state.feeds.cache
    assert (cache.hits, cache.misses) == (1, 1)


def test_head_works(client: TestClient) -> None:
    response = client.head("/feeds/lupus.rss")
    assert response.status_code == 200
    assert response.headers["etag"]


def test_cors_lets_partner_sites_read_feeds(client: TestClient) -> None:
    response = client.get("/feeds/lupus.json", headers={"Origin": "https://partner.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]


def test_index_lists_topics_with_counts_headlines_and_subscribe_links(client: TestClient) -> None:
    page = client.get("/").text
    assert '<link rel="alternate" type="application/rss+xml"' in page
    assert "/feeds/lupus.rss" in page
    assert "/feeds/lupus.json" in page
    assert "/opml" in page
    assert "Lupus" in page
    assert "articles</small>" in page


def test_topic_page_lists_articles_with_autodiscovery(client: TestClient) -> None:
    page = client.get("/topics/car-t").text
    assert 'href="http://localhost:8000/feeds/car-t.atom"' in page
    assert "<time" in page


def test_opml_lists_every_topic_feed(client: TestClient, loaded: tuple[Settings, Storage]) -> None:
    root = ET.fromstring(client.get("/opml").content)
    assert root.get("version") == "2.0"
    urls = {o.get("xmlUrl") for o in root.iter("outline")}
    assert {f"http://localhost:8000/feeds/{t.slug}.rss" for t in loaded[0].topics} <= urls


def test_api_pages_with_a_stable_cursor(client: TestClient) -> None:
    first = client.get("/api/articles?limit=5").json()
    assert len(first["articles"]) == 5
    assert first["articles"][0]["topics"] is not None
    nxt = first["next"]
    assert nxt.startswith("http://localhost:8000/api/articles?")
    second = client.get(nxt.removeprefix("http://localhost:8000")).json()
    ids = [a["id"] for a in first["articles"]] + [a["id"] for a in second["articles"]]
    assert len(ids) == len(set(ids))
    assert client.get("/api/articles?cursor=garbage").status_code == 400


def test_sources_page_and_json(client: TestClient) -> None:
    rows = client.get("/sources.json").json()
    assert {r["id"] for r in rows} >= {"sample-health-wire"}
    assert {"status", "last_success", "error", "next_check", "articles_7d", "last_bytes"} <= set(
        rows[0]
    )
    assert "Sample Health Wire" in client.get("/sources").text


def test_operations_endpoints(client: TestClient, loaded: tuple[Settings, Storage]) -> None:
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/readyz").status_code == 200
    local = TestClient(create_app(*loaded), client=("127.0.0.1", 50000))  # a Prometheus
    local.get("/feeds/lupus.rss")
    metrics = local.get("/metrics").text
    assert 'feeds_http_requests_total{route="/feeds/{slug}.{format}",status="200"}' in metrics
    assert "feeds_render_cache_total" in metrics
    # The renders behind the cache: how many, and how long each took to its body.
    renders = re.search(r"^feeds_render_seconds_count (\S+)$", metrics, re.MULTILINE)
    assert renders is not None
    assert float(renders[1]) >= 1
    assert "feeds_articles " in metrics
    assert 'feeds_fetches_total{outcome="ok"} 4.0' in metrics  # the four sample sources
    assert "feeds_fetched_bytes_total" in metrics
    assert 'feeds_sources{status="ok"} 4.0' in metrics
    assert 'feeds_last_fetch_seconds_bucket{le="+Inf"}' in metrics
    not_ready = TestClient(create_app(*loaded, ready=False))
    assert not_ready.get("/readyz").status_code == 503


@pytest.mark.parametrize(
    ("networks", "address", "status"),
    [
        (None, "127.0.0.1", 200),  # the default: loopback only
        (None, "::1", 200),
        (None, "::ffff:127.0.0.1", 200),  # an IPv4 client of a dual-stack socket
        (None, "203.0.113.9", 403),  # anyone else, e.g. a reader through the reverse proxy
        (None, "testclient", 403),  # not an address at all
        (["10.1.0.0/16"], "10.1.2.3", 200),  # the monitoring network
        (["10.1.0.0/16"], "127.0.0.1", 403),  # loopback is not implied once networks are set
        (["0.0.0.0/0", "::/0"], "2001:db8::7", 200),  # open to all
    ],
)
def test_metrics_are_served_only_to_the_configured_networks(
    loaded: tuple[Settings, Storage], networks: list[str] | None, address: str, status: int
) -> None:
    settings, storage = loaded
    if networks is not None:
        web = settings.web.model_validate(
            {**settings.web.model_dump(), "metrics_networks": networks}
        )
        settings = settings.model_copy(update={"web": web})
    response = TestClient(create_app(settings, storage), client=(address, 50000)).get("/metrics")
    assert response.status_code == status
    if status == 403:
        assert response.text.startswith("metrics: served only to clients in web.metrics_networks")
        assert "feeds_" not in response.text
    else:
        assert "feeds_articles " in response.text


def test_a_new_article_appears_once_the_data_version_moves(tmp_path: Path) -> None:
    settings = load_settings(REPO / "config.yaml")
    storage = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    storage.migrate()
    asyncio.run(update(settings, storage, only=["sample-health-wire"]))
    app = create_app(settings, storage)
    app.state.feeds.version = DataVersion(storage.versions, ttl=0.05)
    client = TestClient(app)
    before = client.get("/feeds/all.json?limit=200").json()["items"]
    asyncio.run(update(settings, storage, only=["sample-research-digest"]))
    time.sleep(0.1)  # let the version reader's interval pass
    after = client.get("/feeds/all.json?limit=200").json()["items"]
    assert len(after) > len(before)
    storage.close()


@pytest.mark.parametrize("period", ["daily", "weekly"])
def test_digest_feeds_have_one_item_per_period_listing_its_articles(
    client: TestClient, period: str
) -> None:
    plain = client.get("/feeds/lupus.json?limit=200&collapse=none").json()["items"]
    digest = client.get(f"/feeds/lupus.json?digest={period}&limit=200&collapse=none").json()
    assert digest["title"].endswith(f"({period} digest)")
    listed = sum(item["content_html"].count("<li>") for item in digest["items"])
    assert listed == len(plain)
    assert len(digest["items"]) < len(plain)
    rss = feedparser.parse(client.get(f"/feeds/lupus.rss?digest={period}").content)
    assert not rss.bozo
    # The same period has the same id in every format and however many periods are asked.
    first = client.get(f"/feeds/lupus.atom?digest={period}&limit=1&collapse=none").content
    assert feedparser.parse(first).entries[0].id == digest["items"][0]["id"]


def test_digest_page_is_email_ready_html_grouped_by_day(client: TestClient) -> None:
    page = client.get("/digests/lupus.html?since=2015-01-01")
    assert page.status_code == 200
    assert "<style" not in page.text  # mail clients drop it: inline styles only
    assert "<script" not in page.text
    assert page.text.count("<h2") >= 3
    assert 'style="' in page.text
    assert client.get("/digests/nope.html").status_code == 404
    assert client.get("/digests/lupus.html?since=soon").status_code == 400


def test_bad_digest_period_is_a_400(client: TestClient) -> None:
    assert client.get("/feeds/lupus.rss?digest=hourly").status_code == 400


def test_failing_sources_feed_has_one_item_per_failure_episode(
    server: FeedServer, storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        "sources:\n"
        f"  - {{id: broken, name: Broken Feed, url: '{server.url('/custom/flaky.xml')}',"
        " allow_private: true}\n"
        f"  - {{id: gone, name: Gone Feed, url: '{server.url('/status/410')}',"
        " allow_private: true}\n"
        f"  - {{id: fine, name: Fine Feed, url: '{server.url('/feeds/rss20.xml')}',"
        " allow_private: true}\n"
    )
    server.put("flaky.xml", b"")
    asyncio.run(update(settings, storage))
    app = create_app(settings, storage)
    app.state.feeds.version = DataVersion(storage.versions, ttl=0)  # see every write at once
    client = TestClient(app)

    def entries() -> dict[str, str]:
        parsed = feedparser.parse(client.get("/sources/failing.atom").content)
        assert not parsed.bozo
        return {e.title: e.id for e in parsed.entries}

    first = entries()
    assert set(first) == {"Broken Feed is failing (empty)", "Gone Feed is gone (http_status)"}
    asyncio.run(update(settings, storage, only=["broken"]))  # fails again: same episode
    assert entries() == first
    server.put("flaky.xml", (DATA / "rss20.xml").read_bytes())
    asyncio.run(update(settings, storage, only=["broken"]))  # recovers
    assert "Broken Feed is failing (empty)" not in entries()
    server.put("flaky.xml", b"")
    asyncio.run(update(settings, storage, only=["broken"]))  # a new episode: a new id
    assert entries()["Broken Feed is failing (empty)"] != first["Broken Feed is failing (empty)"]
    assert client.get("/sources/failing.rss").status_code == 200
    assert client.get("/sources/failing.rss?x=1").status_code == 400


def test_only_one_request_rereads_an_expired_data_version() -> None:
    reads: list[int] = []

    def read() -> tuple[int, int]:
        reads.append(1)
        return (len(reads), 0)

    version = DataVersion(read, ttl=0)
    assert version.cached() == (None, True)  # nothing read yet: whoever asks must read
    assert version.current() == (1, 0)
    assert version.cached() == ((1, 0), True)  # expired: this caller re-reads
    assert version.cached() == ((1, 0), False)  # others keep the last value meanwhile
    assert version.current() == (2, 0)
    assert version.cached() == ((2, 0), True)


@pytest.mark.parametrize(
    ("path", "status"), [("/sources/failing.rss?x=1", 400), ("/sources/failing.xml", 404)]
)
def test_the_failing_sources_feed_answers_errors_in_json_as_every_feed_does(
    client: TestClient, path: str, status: int
) -> None:
    # It is a feed, not a page: its errors were "400: ..." in plain text.
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["status"] == status
