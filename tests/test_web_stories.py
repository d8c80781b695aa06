"""Feeds and the API with collapse=stories: one item per story, every outlet attributed."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

import feedparser
import pytest
from starlette.testclient import TestClient

from feeds.config import Settings
from feeds.storage import Storage
from feeds.update import update
from feeds.web.app import create_app
from feeds.web.pages import HEADLINES
from tests.conftest import MakeSettings
from tests.servers import opener, serving

REPO = Path(__file__).parent.parent
PAPER = "10.1038/s41591-022-02017-5"
OUTLETS = {
    "Sample Health Wire",
    "Sample Research Digest",
    "Sample Clinic Notes",
    "Sample Europe Health Desk",
}


def _paper_items(entries: list[feedparser.FeedParserDict]) -> list[feedparser.FeedParserDict]:
    def text(e: feedparser.FeedParserDict) -> str:
        parts = [e.get("description", ""), e.get("summary", "")]
        parts += [c.value for c in e.get("content", [])]
        parts += [link.href for link in e.get("links", [])]
        parts += [tag.term for tag in e.get("tags", [])]
        return " ".join(parts)

    return [e for e in entries if PAPER in text(e) and "2022" in e.get("published", "")]


def test_car_t_feed_served_by_feeds_serve_shows_the_lupus_paper_once_with_every_outlet(
    tmp_path: Path,
) -> None:
    with serving(tmp_path) as served:
        with opener.open(f"{served.base}/feeds/car-t.rss", timeout=10) as response:
            collapsed = feedparser.parse(response.read())
        with opener.open(f"{served.base}/feeds/car-t.rss?collapse=none", timeout=10) as response:
            everything = feedparser.parse(response.read())
    assert not collapsed.bozo
    (item,) = _paper_items(collapsed.entries)
    assert len(_paper_items(everything.entries)) == 4
    names = {"Wire", "Digest", "Clinic", "Europe"}  # the test config's source names
    credited = {c.name for c in item.get("contributors", [])} | {item.source.title}
    assert credited == names
    assert "Also reported by" in item.description
    assert len(collapsed.entries) < len(everything.entries)


def test_story_items_attribute_every_outlet_in_atom_and_json(client: TestClient) -> None:
    atom = feedparser.parse(client.get("/feeds/car-t.atom").content)
    assert not atom.bozo
    (entry,) = _paper_items(atom.entries)
    credited = {c.name for c in entry.contributors} | {entry.source.title}
    assert credited == OUTLETS
    assert all(c.href.startswith("https://samples.feeds.example/") for c in entry.contributors)
    feed = client.get("/feeds/car-t.json").json()
    (item,) = [
        i for i in feed["items"] if PAPER in i["_feeds"]["dois"] and "2022" in i["date_published"]
    ]
    others = item["_feeds"]["also_reported_by"]
    assert len(others) == 3
    assert {o["source"]["name"] for o in others} | {item["_feeds"]["source"]["name"]} == OUTLETS
    assert {a["name"] for a in item["authors"]} >= {o["source"]["name"] for o in others}


def test_a_story_item_keeps_the_id_of_its_first_article(client: TestClient) -> None:
    stories = client.get("/feeds/car-t.json").json()["items"]
    everything = client.get("/feeds/car-t.json?collapse=none").json()["items"]
    (story,) = [
        i for i in stories if PAPER in i["_feeds"]["dois"] and "2022" in i["date_published"]
    ]
    members = [
        i for i in everything if PAPER in i["_feeds"]["dois"] and "2022" in i["date_published"]
    ]
    first = min(members, key=lambda i: (i["date_published"], i["id"]))
    assert story["id"] in {m["id"] for m in members}
    assert story["id"] == first["id"] or story["date_published"] == first["date_published"]
    assert story["date_modified"] >= max(m["date_modified"] for m in members)


def test_source_priority_chooses_which_outlets_article_leads(
    loaded: tuple[Settings, Storage],
) -> None:
    settings, storage = loaded
    stories = settings.stories.model_copy(update={"source_priority": ("sample-clinic-notes",)})
    app = create_app(settings.model_copy(update={"stories": stories}), storage)
    feed = TestClient(app).get("/feeds/car-t.json").json()
    (item,) = [
        i for i in feed["items"] if PAPER in i["_feeds"]["dois"] and "2022" in i["date_published"]
    ]
    assert item["_feeds"]["source"]["id"] == "sample-clinic-notes"


def test_the_api_collapses_stories_when_asked_and_pages_by_story(client: TestClient) -> None:
    plain = client.get("/api/articles?topics=car-t&limit=200").json()["articles"]
    stories = client.get("/api/articles?topics=car-t&limit=200&collapse=stories").json()
    assert len(stories["articles"]) < len(plain)
    (paper,) = [a for a in stories["articles"] if len(a["story"]["also_reported_by"]) == 3]
    assert PAPER in paper["dois"]
    # Following "next" visits every story once.
    seen: list[str] = []
    url = "/api/articles?topics=car-t&limit=3&collapse=stories"
    while url:
        page = client.get(url).json()
        seen += [a["story"]["id"] for a in page["articles"]]
        url = page["next"]
    assert sorted(seen) == sorted(a["story"]["id"] for a in stories["articles"])


@pytest.mark.parametrize("path", ["/feeds/car-t.rss?collapse=all", "/api/articles?collapse=1"])
def test_a_bad_collapse_value_is_a_400_with_a_reason(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "collapse: must be stories or none" in response.text


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>https://{host}/</link>
<description>test</description>
<item><title>{title}</title><link>https://news.example/story?id=7&amp;utm_source={host}</link>
<guid isPermaLink="false">{host}-1</guid><pubDate>{date}</pubDate>
<description>{lead}</description></item>
</channel></rss>
"""


def test_the_same_link_from_two_sources_is_one_item_crediting_both(
    tmp_path: Path, make_settings: MakeSettings
) -> None:
    feeds = {
        "wire": ("Wire", "Measles outbreak grows in West Texas", "Tue, 04 Mar 2025 10:00:00 +0000"),
        "desk": ("Desk", "Texas measles cases rise again", "Tue, 18 Mar 2025 10:00:00 +0000"),
    }
    for host, (name, title, date) in feeds.items():
        body = RSS.format(name=name, host=host, title=title, date=date, lead=f"{name} report.")
        (tmp_path / f"{host}.rss").write_text(body, encoding="utf-8")
    settings = make_settings(
        "database: sqlite:///feeds.db\nsources:\n"
        + "".join(f"  - {{id: {h}, name: {n}, url: {h}.rss}}\n" for h, (n, _, _) in feeds.items())
    )
    storage = Storage.open(settings.database)
    storage.migrate()
    asyncio.run(update(settings, storage))
    client = TestClient(create_app(settings, storage))
    # Two weeks apart, different headlines: the shared canonical link alone makes one story.
    (item,) = client.get("/feeds/all.json").json()["items"]
    assert item["url"] == "https://news.example/story?id=7"
    assert item["_feeds"]["source"]["id"] == "wire"
    assert [o["source"]["id"] for o in item["_feeds"]["also_reported_by"]] == ["desk"]
    assert len(client.get("/feeds/all.json?collapse=none").json()["items"]) == 2
    storage.close()


def test_the_topic_page_lists_a_story_once_with_its_other_outlets(client: TestClient) -> None:
    page = client.get("/topics/car-t").text
    assert page.count("Also reported by:") >= 1
    listed = page.count("<li>")
    assert listed == len(client.get("/feeds/car-t.json").json()["items"])
    assert listed < len(client.get("/feeds/car-t.json?collapse=none").json()["items"])


def test_the_index_headlines_are_the_topic_feeds_first_stories(client: TestClient) -> None:
    page = client.get("/").text
    section = page.split('id="topic-car-t"', 1)[1].split("</section>", 1)[0]
    listed = [html.unescape(url) for url in re.findall(r'<li>\s*<a href="([^"]*)"', section)]
    stories = client.get("/feeds/car-t.json").json()["items"]
    assert listed == [item["url"] for item in stories[: len(listed)]]
    assert 0 < len(listed) <= HEADLINES
    collapsed = any("Also reported by" in item.get("content_html", "") for item in stories[:3])
    assert ("Also reported by:" in section) == collapsed
