"""``/studies/{id}`` pages and feeds, and the ``study=`` filter, over the bundled samples.

Which sample articles cite a paper is read from storage (what normalize found), never
written down here; the feeds must list exactly those.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from jsonschema import Draft4Validator
from starlette.testclient import TestClient

from feeds.config import Settings
from feeds.models import Article
from feeds.storage import Storage
from tests.atom import ATOM, atom_entries
from tests.test_render import json_feed_schema  # noqa: F401  (the shared schema fixture)

REPO = Path(__file__).parent.parent
PAPER = "10.1038/s41591-022-02017-5"  # Mackensen et al., Nat Med 2022: cited by the samples


def citing(storage: Storage, key: str) -> list[Article]:
    return [a for a in storage.recent_articles(limit=1000) if key in {s.key for s in a.studies}]


def test_the_paper_feed_lists_every_sample_article_citing_it_and_is_valid_atom(
    client: TestClient, loaded: tuple[Settings, Storage]
) -> None:
    expected = citing(loaded[1], f"doi:{PAPER}")
    assert len({a.source_id for a in expected}) >= 3  # several outlets, across sources
    response = client.get(f"/studies/{PAPER}.atom")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert {e.link for e in parsed.entries} == {a.url for a in expected}
    assert len(parsed.entries) == len(expected)
    assert parsed.feed.title.startswith(f"DOI {PAPER}")
    for entry in parsed.entries:
        related = [link.href for link in entry.links if link.rel == "related"]
        assert f"https://doi.org/{PAPER}" in related
        assert entry.published
        assert entry.updated
        assert entry.id
        assert entry.author
        assert entry.source.title


def test_the_paper_atom_feed_has_what_rfc_4287_requires(client: TestClient) -> None:
    document = client.get(f"/studies/{PAPER}.atom").content
    assert atom_entries(document)
    root = ET.fromstring(document)
    self_link = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == f"http://localhost:8000/studies/{PAPER}.atom"
    for entry in root.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}author") is not None  # each outlet's own byline


def test_the_paper_json_feed_validates_and_carries_the_studies(
    client: TestClient,
    json_feed_schema: Draft4Validator,  # noqa: F811
) -> None:
    feed = client.get(f"/studies/{PAPER}.json").json()
    assert [e.message for e in json_feed_schema.iter_errors(feed)] == []
    assert feed["items"]
    for item in feed["items"]:
        assert {
            "id": f"doi:{PAPER}",
            "scheme": "doi",
            "url": f"https://doi.org/{PAPER}",
            "preprint": False,
        } in item["_feeds"]["studies"]


def test_the_paper_rss_feed_lists_the_study_as_a_doi_org_category(client: TestClient) -> None:
    parsed = feedparser.parse(client.get(f"/studies/{PAPER}.rss").content)
    assert not parsed.bozo
    assert parsed.version == "rss20"
    for entry in parsed.entries:
        assert (PAPER, "https://doi.org/") in {(t.term, t.scheme) for t in entry.tags}


@pytest.mark.parametrize(
    "spelling",
    [
        f"doi:{PAPER}",
        f"DOI:{PAPER.upper()}",
        PAPER.replace("/", "%2F"),
        "https://www.nature.com/articles/s41591-022-02017-5",
    ],
)
def test_every_spelling_of_the_id_gives_the_same_items(client: TestClient, spelling: str) -> None:
    canonical = client.get(f"/studies/{PAPER}.json").json()
    other = client.get(f"/studies/{spelling}.json").json()
    assert [i["id"] for i in other["items"]] == [i["id"] for i in canonical["items"]]


def test_the_study_page_links_each_article_and_offers_the_feeds(
    client: TestClient, loaded: tuple[Settings, Storage]
) -> None:
    response = client.get(f"/studies/{PAPER}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for article in citing(loaded[1], f"doi:{PAPER}"):
        assert f'href="{article.url}"' in page
    for fmt, media in (("rss", "rss+xml"), ("atom", "atom+xml"), ("json", "feed+json")):
        assert f'type="application/{media}"' in page
        assert f"/studies/doi:{PAPER}.{fmt}" in page
    assert f'href="https://doi.org/{PAPER}"' in page


def test_topic_pages_link_the_studies_an_article_cites(client: TestClient) -> None:
    page = client.get("/topics/lupus").text
    assert f'href="http://localhost:8000/studies/doi:{PAPER}"' in page


def test_a_study_nobody_cites_yet_is_an_empty_feed_to_subscribe_to(client: TestClient) -> None:
    response = client.get("/studies/NCT09999999.rss")
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    assert parsed.entries == []
    assert "NCT09999999" in parsed.feed.title


@pytest.mark.parametrize(
    "path",
    ["/studies/garbage", "/studies/garbage.rss", "/studies/", "/studies/36109639.atom"],
)
def test_a_path_that_names_no_study_is_a_400_with_a_reason(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    message = response.json()["error"]
    assert "not a study identifier" in message
    assert "\n" not in message


def test_a_study_with_an_unknown_format_is_a_404(client: TestClient) -> None:
    response = client.get("/studies/NCT01234567.xml")
    assert response.status_code == 404
    assert "format" in response.json()["error"]


def test_study_feeds_answer_304_to_a_repeat_reader(client: TestClient) -> None:
    first = client.get(f"/studies/{PAPER}.rss")
    etag = first.headers["etag"]
    again = client.get(f"/studies/{PAPER}.rss", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_study_feeds_take_the_other_filters_but_not_a_second_study(client: TestClient) -> None:
    limited = client.get(f"/studies/{PAPER}.json?limit=2").json()
    assert len(limited["items"]) == 2
    response = client.get(f"/studies/{PAPER}.json?study=NCT01234567")
    assert response.status_code == 400
    assert "unknown parameter" in response.json()["error"]


def test_the_study_filter_works_on_topic_feeds_and_the_api(
    client: TestClient, loaded: tuple[Settings, Storage]
) -> None:
    expected = {a.url for a in citing(loaded[1], f"doi:{PAPER}")}
    every = f"/feeds/all.atom?study=doi:{PAPER}&collapse=none"
    feed = feedparser.parse(client.get(every).content)
    assert {e.link for e in feed.entries} == expected
    # Collapsed (the default), the 2022 reports of the paper are one story (one item); the
    # 2024 follow-up citing it is outside the story window, a story of its own.
    collapsed = feedparser.parse(client.get(f"/feeds/all.atom?study=doi:{PAPER}").content)
    assert {e.link for e in collapsed.entries} < expected
    assert len(collapsed.entries) == 2
    lupus = feedparser.parse(client.get(f"/feeds/lupus.rss?study={PAPER}").content)
    assert lupus.entries
    assert {e.link for e in lupus.entries} <= expected
    api = client.get(f"/api/articles?study=https://doi.org/{PAPER}").json()
    assert {a["url"] for a in api["articles"]} == expected
    for article in api["articles"]:
        assert f"doi:{PAPER}" in [s["id"] for s in article["studies"]]


def test_a_bad_study_filter_is_a_400(client: TestClient) -> None:
    for path in ("/feeds/all.rss?study=lupus", "/api/articles?study=PMID:0"):
        response = client.get(path)
        assert response.status_code == 400
        assert response.json()["error"].startswith("study:")
