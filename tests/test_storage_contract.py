"""The storage contract, part two: what every database must do alike beyond queries.

Runs on SQLite and on PostgreSQL (``backend_storage``; see tests/databases.py). The query
filters and paging are in tests/test_queries.py and the basic writes in
tests/test_storage.py, which run on both databases the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from starlette.testclient import TestClient

from feeds.config import load_settings
from feeds.models import Article, ArticleQuery, Match, Source, SourceStatus, TopicTag
from feeds.normalize import article_id
from feeds.schedule import is_due
from feeds.storage import Storage
from feeds.storage.database import MIGRATIONS
from feeds.storage.rows import article_row
from feeds.storage.schema import articles
from feeds.tagging.mesh import MeshFormatError
from feeds.tagging.vocabulary import mesh_rows
from feeds.update import update
from feeds.web.app import create_app
from tests.httpserver import DATA
from tests.legacy import insert_source_0006

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
MESH = DATA / "mesh" / "d-sample.bin"
REPO = Path(__file__).parent.parent


@pytest.fixture
def storage(backend_storage: Storage) -> Storage:
    return backend_storage


def source(source_id: str) -> Source:
    return Source(source_id, source_id.upper(), f"https://{source_id}.example/", timedelta(hours=1))


def story(entry: str, title: str, summary: str = "", hours: int = 1) -> Article:
    return Article(
        id=article_id("a", entry),
        source_id="a",
        entry_id=entry,
        url=None,
        title=title,
        summary=summary,
        content_html="",
        published=NOW - timedelta(hours=hours),
        updated=None,
        first_seen=NOW,
        content_hash=title + summary,
        topics=(TopicTag("lupus", 3.0, (Match("lupus", "lupus", "term", "title", 0, 5),)),),
    )


def stored(storage: Storage, *articles: Article) -> Storage:
    storage.sync_sources([source("a"), source("b")], NOW)
    (health,) = storage.source_health(["a"])
    storage.record_update(health, articles, NOW)
    return storage


def found(storage: Storage, q: str) -> list[str]:
    return [a.title for a in storage.query_articles(ArticleQuery(text=q))]


# --- migrations -----------------------------------------------------------------------


def test_every_migration_runs_and_an_older_database_keeps_its_rows(backend_url: str) -> None:
    store = Storage.open(backend_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        with store.engine.begin() as connection:
            insert_source_0006(connection, "a", NOW)
            kept = story("1", "Kept through the upgrade")
            connection.execute(articles.insert(), [article_row(kept, NOW)])
        assert store.migrate() == Storage.head_revision()
        assert found(store, "upgrade") == ["Kept through the upgrade"]
        assert [h.source_id for h in store.claim_sources("w", NOW, LEASE)] == ["a"]
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert store.revision() == "0006"
    finally:
        store.close()


# --- full-text search: the same q= semantics on both ----------------------------------


def test_search_ignores_case_and_accents_both_ways(storage: Storage) -> None:
    stored(storage, story("1", "Sjögren's syndrome and dry eyes"), story("2", "Naive T cells"))
    assert found(storage, "sjogren") == ["Sjögren's syndrome and dry eyes"]
    assert found(storage, "SJÖGREN syndrome") == ["Sjögren's syndrome and dry eyes"]
    assert found(storage, "naïve") == ["Naive T cells"]


def test_search_matches_whole_words_only_no_prefix_no_stemming(storage: Storage) -> None:
    stored(storage, story("1", "Lupus flares"), story("2", "Lupusfoo is not a word"))
    assert found(storage, "lupus") == ["Lupus flares"]
    assert found(storage, "lupu") == []
    assert found(storage, "flare") == []


def test_search_splits_punctuation_alike_on_both_databases(storage: Storage) -> None:
    stored(
        storage,
        story("1", "COVID-19 boosters", hours=1),
        story("2", "Dose of 3.5 mg", hours=2),
        story("3", "Guidance", "published at who.int today", hours=3),
    )
    assert found(storage, "covid 19") == ["COVID-19 boosters"]
    assert found(storage, "covid-19") == ["COVID-19 boosters"]
    assert found(storage, "3.5") == ["Dose of 3.5 mg"]
    assert found(storage, "5") == ["Dose of 3.5 mg"]
    assert found(storage, "who") == ["Guidance"]


def test_search_needs_every_word_in_title_or_summary(storage: Storage) -> None:
    stored(
        storage,
        story("1", "Lupus", "remission after CAR-T", hours=1),
        story("2", "Lupus", "flares in winter", hours=2),
    )
    assert [a.summary for a in storage.query_articles(ArticleQuery(text="lupus remission"))] == [
        "remission after CAR-T"
    ]


def test_search_follows_edited_articles(storage: Storage) -> None:
    stored(storage, story("1", "Old title"))
    (health,) = storage.source_health(["a"])
    storage.record_update(health, [story("1", "New headline")], NOW)
    assert found(storage, "old") == []
    assert found(storage, "headline") == ["New headline"]


def test_postgresql_search_uses_its_gin_index(storage: Storage) -> None:
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("the GIN index exists on PostgreSQL only")
    stored(storage, story("1", "Lupus"))
    from feeds.storage.queries import article_select

    statement = article_select(ArticleQuery(text="lupus"), "postgresql")
    compiled = statement.compile(storage.engine, compile_kwargs={"literal_binds": True})
    with storage.engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_articles_search" in plan


# --- counts and versions --------------------------------------------------------------


def test_counts_by_source_topic_and_fetch_counters(storage: Storage) -> None:
    stored(storage, story("1", "One", hours=1), story("2", "Two", hours=48))
    assert storage.counts_by_source() == {"a": 2}
    assert storage.counts_by_source(NOW - timedelta(days=1)) == {"a": 1}
    assert storage.topic_counts() == {"lupus": 2}
    (health,) = storage.source_health(["b"])
    storage.record_update(replace(health, status=SourceStatus.OK), [], NOW, fetched_bytes=123)
    counters = storage.counters()
    assert (counters["fetches:ok"], counters["fetched_bytes"]) == (1, 123)


# --- retag's writes ---------------------------------------------------------------------


def tagged(slug: str, score: float, term: str) -> TopicTag:
    return TopicTag(slug, score, (Match(slug, term, "term", "title", 0, len(term)),))


def test_rewrite_topics_writes_only_the_rows_that_differ(storage: Storage) -> None:
    stored(storage, story("1", "One", hours=5))
    (read,) = storage.recent_articles()
    data, sources_version = storage.versions()
    new = (tagged("car-t", 3.0, "car t"), tagged("lupus", 2.5, "lupus"))
    assert storage.rewrite_topics([(read, new)]) == 2  # one row gained, one moved
    (again,) = storage.recent_articles()
    assert again.topics == new
    assert storage.versions() == (data + 1, sources_version)
    # The new row carries the article's publication time: the topic feed finds it.
    (in_feed,) = storage.query_articles(ArticleQuery(topics=("car-t",)))
    assert in_feed.published == NOW - timedelta(hours=5)

    assert storage.rewrite_topics([(again, new)]) == 0  # nothing differs: nothing written
    assert storage.versions() == (data + 1, sources_version)
    assert storage.rewrite_topics([(again, ())]) == 2
    assert storage.topic_counts() == {}


def test_rewrite_topics_from_a_stale_read_still_stores_the_new_tags(storage: Storage) -> None:
    stored(storage, story("1", "One"))
    (stale,) = storage.recent_articles()  # read with lupus only
    storage.rewrite_topics([(stale, (tagged("car-t", 3.0, "car t"),))])
    # Since this read another writer stored car-t (the insert finds the row there) and
    # deleted lupus (the changed row is not there to update).
    newer = (tagged("car-t", 4.0, "car t cell"), tagged("lupus", 2.0, "lupus"))
    storage.rewrite_topics([(stale, newer)])
    (article,) = storage.recent_articles()
    assert article.topics == newer


# --- MeSH vocabulary ------------------------------------------------------------------


def test_mesh_import_replaces_and_searches_alike(storage: Storage) -> None:
    first = storage.import_mesh(mesh_rows(MESH), str(MESH), NOW)
    again = storage.import_mesh(mesh_rows(MESH), str(MESH), NOW)
    assert first == again
    assert storage.mesh_count() == first[0]
    hits = storage.search_mesh("lupus", limit=5)
    assert hits
    assert all("lupus" in h.term.lower() for h in hits)
    assert storage.mesh_known([hits[0].ui, "D999999"]) == {hits[0].ui}
    assert storage.mesh_headings([hits[0].ui]) == {hits[0].ui: hits[0].heading}


def test_a_failed_mesh_import_leaves_the_previous_vocabulary_intact(
    storage: Storage, tmp_path: Path
) -> None:
    before = storage.import_mesh(mesh_rows(MESH), str(MESH), NOW)
    # Enough records that some batches are written before the repeated UI at the end.
    records = [
        f"*NEWRECORD\nRECTYPE = D\nMH = Heading {n}\nENTRY = Entry {n}\nUI = D{n:06d}\n"
        for n in range(1, 3001)
    ]
    broken = tmp_path / "d2099.bin"
    broken.write_text("".join(records) + records[0], "utf-8")

    with pytest.raises(MeshFormatError, match="descriptor UI D000001 was already given"):
        storage.import_mesh(mesh_rows(broken), str(broken), NOW)

    assert storage.mesh_count() == before[0]
    assert storage.search_mesh("lupus", limit=5)
    assert not storage.search_mesh("heading 1", limit=5)


# --- claiming -------------------------------------------------------------------------


def test_a_claim_leases_due_sources_once(storage: Storage) -> None:
    storage.sync_sources([source(s) for s in "abc"], NOW)
    first = storage.claim_sources("w1", NOW, LEASE, limit=2)
    second = storage.claim_sources("w2", NOW, LEASE, limit=2)
    third = storage.claim_sources("w3", NOW, LEASE, limit=2)
    assert [h.source_id for h in first] == ["a", "b"]
    assert [h.source_id for h in second] == ["c"]
    assert third == ()


def test_a_source_an_operator_paused_is_never_claimed(storage: Storage) -> None:
    storage.sync_sources([source(s) for s in "ab"], NOW)
    assert storage.set_paused("a", True)
    assert [h.source_id for h in storage.claim_sources("w1", NOW, LEASE)] == ["b"]
    assert storage.set_paused("a", False)
    assert [h.source_id for h in storage.claim_sources("w2", NOW, LEASE)] == ["a"]


def test_recording_the_outcome_ends_the_lease_and_sets_the_next_check(storage: Storage) -> None:
    storage.sync_sources([source("a")], NOW)
    (claimed,) = storage.claim_sources("w1", NOW, LEASE)
    storage.record_update(replace(claimed, next_check_at=NOW + timedelta(hours=1)), [], NOW)
    assert storage.claim_sources("w2", NOW + LEASE, LEASE) == ()  # recorded: not due
    (again,) = storage.claim_sources("w2", NOW + timedelta(hours=1), LEASE)
    assert again.source_id == "a"


def test_an_expired_lease_lets_another_worker_take_the_source(storage: Storage) -> None:
    storage.sync_sources([source("a")], NOW)
    storage.claim_sources("crashed", NOW, LEASE)
    assert storage.claim_sources("w2", NOW + LEASE - timedelta(seconds=1), LEASE) == ()
    (taken,) = storage.claim_sources("w2", NOW + LEASE, LEASE)
    assert taken.source_id == "a"


def test_released_sources_can_be_claimed_at_once(storage: Storage) -> None:
    storage.sync_sources([source("a")], NOW)
    storage.claim_sources("w1", NOW, LEASE)
    storage.release_sources("someone-else", ["a"])  # not theirs: no effect
    assert storage.claim_sources("w2", NOW, LEASE) == ()
    storage.release_sources("w1", ["a"])
    assert [h.source_id for h in storage.claim_sources("w2", NOW, LEASE)] == ["a"]


def test_claiming_selects_exactly_what_the_schedule_calls_due(storage: Storage) -> None:
    names = ["new", "due", "later", "disabled", "gone", "failing"]
    storage.sync_sources([source(n) for n in names], NOW)
    health = {h.source_id: h for h in storage.source_health()}
    changes = {
        "due": {"status": SourceStatus.OK, "next_check_at": NOW - timedelta(minutes=1)},
        "later": {"status": SourceStatus.OK, "next_check_at": NOW + timedelta(minutes=1)},
        "gone": {"status": SourceStatus.GONE, "next_check_at": NOW - timedelta(hours=1)},
        "failing": {"status": SourceStatus.FAILING, "next_check_at": NOW},
    }
    for name, values in changes.items():
        storage.record_update(replace(health[name], **values), [], NOW)  # type: ignore[arg-type]
    storage.sync_sources([source(n) for n in names if n != "disabled"], NOW)
    expected = {h.source_id for h in storage.source_health() if is_due(h, NOW)}
    claimed = {h.source_id for h in storage.claim_sources("w", NOW, LEASE, limit=10)}
    assert claimed == expected == {"new", "due", "failing"}


def test_a_source_configured_again_by_a_second_process_is_inserted_once(
    storage: Storage,
) -> None:
    storage.sync_sources([source("a")], NOW)
    storage.sync_sources([source("a"), source("b")], NOW)
    storage.sync_sources([source("a"), source("b")], NOW)
    assert [h.source_id for h in storage.source_health()] == ["a", "b"]


# --- the web app on each database -----------------------------------------------------


def test_every_route_and_the_api_cursor_work_alike_on_each_database(
    backend_storage: Storage,
) -> None:
    settings = load_settings(REPO / "config.yaml")
    samples = [s.id for s in settings.sources if s.url.startswith("file:")]
    asyncio.run(update(settings, backend_storage, only=samples))
    # From loopback, as an operator's tools: /metrics answers only the configured networks.
    client = TestClient(create_app(settings, backend_storage), client=("127.0.0.1", 50000))
    for path in (
        "/", "/topics/lupus", "/sources", "/sources.json", "/opml", "/metrics", "/readyz",
        "/feeds/all.rss", "/feeds/lupus.atom", "/feeds/car-t.json", "/sources/failing.rss",
        "/feeds/all.json?topics=lupus,car-t&match=all&q=lupus&since=2020-01-01",
    ):  # fmt: skip
        assert client.get(path).status_code == 200, path
    ids: list[str] = []
    page = "/api/articles?limit=3"
    while page:
        body = client.get(page).json()
        ids += [a["id"] for a in body["articles"]]
        page = (body.get("next") or "").removeprefix(settings.site.base_url)
    assert len(ids) == len(set(ids)) == backend_storage.count_articles()
