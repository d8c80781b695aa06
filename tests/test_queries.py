"""Article queries: every filter, stable order, cursor pages, full-text search, versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds.models import Article, ArticleQuery, Match, Source, TopicTag
from feeds.normalize import article_id
from feeds.storage import Storage, queries
from tests.conftest import sqlite_plan

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def storage(backend_storage: Storage) -> Storage:
    """Every test here runs on SQLite and on PostgreSQL: part of the storage contract."""
    return backend_storage


def tagged(*slugs: str, score: float = 3.0) -> tuple[TopicTag, ...]:
    return tuple(TopicTag(s, score, (Match(s, s, "term", "title", 0, 1),)) for s in slugs)


def make(
    entry: str, title: str, hours: int, *topics: str, source: str = "a", score: float = 3.0
) -> Article:
    return Article(
        id=article_id(source, entry),
        source_id=source,
        entry_id=entry,
        url=f"https://{source}.example/{entry}",
        title=title,
        summary=f"Summary of {title}.",
        content_html="",
        published=T0 - timedelta(hours=hours),
        updated=None,
        first_seen=T0,
        content_hash=entry,
        topics=tagged(*topics, score=score),
    )


@pytest.fixture
def filled(storage: Storage) -> Storage:
    return fill(storage)


@pytest.fixture
def filled_sqlite(sqlite_storage: Storage) -> Storage:
    """The same articles on SQLite alone: for tests of SQLite's query plans."""
    return fill(sqlite_storage)


def fill(storage: Storage) -> Storage:
    sources = [
        Source(id=s, name=s, url=f"https://{s}.example/", interval=timedelta(hours=1)) for s in "ab"
    ]
    storage.sync_sources(sources, T0)
    health = {h.source_id: h for h in storage.source_health()}
    storage.record_update(
        health["a"],
        [
            make("1", "CAR-T cells put lupus into remission", 1, "lupus", "car-t"),
            make("2", "Lupus nephritis drug approved", 2, "lupus"),
            make("3", "Myeloma CAR-T approval", 3, "car-t", "oncology"),
            make("4", "Heat waves and health", 4),
            make("5", "Weak lupus mention", 5, "lupus", score=2.0),
        ],
        T0,
    )
    storage.record_update(
        health["b"], [make("6", "Lupus remission holds at two years", 6, "lupus", source="b")], T0
    )
    return storage


def titles(storage: Storage, **filters: object) -> list[str]:
    return [a.title for a in storage.query_articles(ArticleQuery(**filters))]  # type: ignore[arg-type]


def test_newest_first(filled: Storage) -> None:
    assert titles(filled)[:2] == [
        "CAR-T cells put lupus into remission",
        "Lupus nephritis drug approved",
    ]


def test_topics_any_all_and_exclude(filled: Storage) -> None:
    assert len(titles(filled, topics=("lupus", "car-t"))) == 5
    assert titles(filled, topics=("lupus", "car-t"), match_all=True) == [
        "CAR-T cells put lupus into remission"
    ]
    assert titles(filled, topics=("car-t",), exclude=("lupus",)) == ["Myeloma CAR-T approval"]


def test_min_score_filters_on_confidence(filled: Storage) -> None:
    assert "Weak lupus mention" not in titles(filled, topics=("lupus",), min_score=2.5)
    assert "Weak lupus mention" in titles(filled, topics=("lupus",))


def test_source_since_until_and_limit(filled: Storage) -> None:
    assert titles(filled, sources=("b",)) == ["Lupus remission holds at two years"]
    assert titles(filled, since=T0 - timedelta(hours=2)) == [
        "CAR-T cells put lupus into remission",
        "Lupus nephritis drug approved",
    ]
    assert len(titles(filled, until=T0 - timedelta(hours=4))) == 2
    assert len(titles(filled, limit=2)) == 2


def test_full_text_search_needs_every_word(filled: Storage) -> None:
    assert titles(filled, text="lupus remission") == [
        "CAR-T cells put lupus into remission",
        "Lupus remission holds at two years",
    ]
    assert titles(filled, text="REMISSION") != []


@pytest.mark.parametrize(
    "hostile", ['"', "AND OR NOT", "lupus*", "NEAR(a b)", "'; DROP TABLE articles; --", "ü"]
)
def test_full_text_search_never_fails_on_odd_input(filled: Storage, hostile: str) -> None:
    filled.query_articles(ArticleQuery(text=hostile))
    assert filled.count_articles() == 6


def test_cursor_pages_are_stable_while_new_articles_arrive(filled: Storage) -> None:
    first = filled.query_articles(ArticleQuery(limit=2))
    (health,) = filled.source_health(["a"])
    filled.record_update(health, [make("7", "Brand new story", 0, "lupus")], T0)
    last = first[-1]
    second = filled.query_articles(ArticleQuery(limit=2, before=(last.published, last.id)))
    assert [a.title for a in second] == ["Myeloma CAR-T approval", "Heat waves and health"]


def test_same_time_ties_are_broken_by_id(storage: Storage) -> None:
    storage.sync_sources(
        [Source(id="a", name="a", url="https://a.example/", interval=timedelta(hours=1))], T0
    )
    (health,) = storage.source_health()
    storage.record_update(health, [make(str(i), f"Story {i}", 1) for i in range(5)], T0)
    ids = [a.id for a in storage.query_articles(ArticleQuery())]
    assert ids == sorted(ids, reverse=True)
    page = storage.query_articles(ArticleQuery(limit=2))
    rest = storage.query_articles(ArticleQuery(before=(page[-1].published, page[-1].id)))
    assert [a.id for a in page + rest] == ids


def test_writes_bump_the_versions(filled: Storage) -> None:
    data, health_version = filled.versions()
    (health,) = filled.source_health(["a"])
    filled.record_update(health, [], T0)  # a check that brought nothing new
    assert filled.versions() == (data, health_version + 1)
    filled.record_update(health, [make("8", "Another", 0)], T0)
    assert filled.versions()[0] == data + 1


def test_topic_feed_pages_follow_the_same_order_as_unfiltered_ones(storage: Storage) -> None:
    storage.sync_sources(
        [Source(id="a", name="a", url="https://a.example/", interval=timedelta(hours=1))], T0
    )
    (health,) = storage.source_health()
    # Ties in time, as a feed that stamps a whole batch with one date makes them.
    batch = [make(str(i), f"Story {i}", i // 3, "lupus") for i in range(9)]
    storage.record_update(health, batch, T0)
    every = [a.id for a in storage.query_articles(ArticleQuery())]
    pages: list[str] = []
    before = None
    while page := storage.query_articles(ArticleQuery(topics=("lupus",), limit=2, before=before)):
        pages += [a.id for a in page]
        before = (page[-1].published, page[-1].id)
    assert pages == every


def test_an_edit_that_moves_an_article_in_time_moves_it_in_its_topic_feed(
    filled: Storage,
) -> None:
    (health,) = filled.source_health(["a"])
    older = make("2", "Lupus nephritis drug approved", 48, "lupus")
    filled.record_update(health, [replace(older, content_hash="edited")], T0)
    assert titles(filled, topics=("lupus",))[-1] == "Lupus nephritis drug approved"
    assert titles(filled, topics=("lupus",), since=T0 - timedelta(hours=24)) == [
        "CAR-T cells put lupus into remission",
        "Weak lupus mention",
        "Lupus remission holds at two years",
    ]


def query_plan(storage: Storage, query: ArticleQuery) -> str:
    """SQLite's plan for ``query``."""
    return sqlite_plan(storage, queries.article_select(query, "sqlite"))


def test_a_topic_feed_reads_the_topic_index_newest_first(filled_sqlite: Storage) -> None:
    filled = filled_sqlite
    # The shape that keeps a rare topic's feed fast in a million articles (migration 0012):
    # the newest tags of the topic from one index, no sort, no walk over every article.
    plan = query_plan(filled, ArticleQuery(topics=("lupus",)))
    assert "ix_article_topics_topic_published (topic=?)" in plan
    assert "TEMP B-TREE" not in plan  # no sort step: rows come out in order


def test_a_deep_cursor_starts_from_the_cursor_in_the_index(filled_sqlite: Storage) -> None:
    filled = filled_sqlite
    (last,) = filled.query_articles(ArticleQuery(limit=1))
    plan = query_plan(filled, ArticleQuery(before=(last.published, last.id)))
    assert "ix_articles_published (published_at<?)" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize(
    ("probes", "expected"),
    [
        ({"autoimmune": T0 - timedelta(days=2), "lupus": T0 - timedelta(days=30)}, "lupus"),
        ({"autoimmune": T0 - timedelta(days=2), "lupus": None}, "lupus"),  # < 200 in all
        ({"a": None, "b": None}, "a"),  # both small: the first given
        ({"a": T0, "b": T0}, "a"),
    ],
)
def test_the_rarest_topic_is_the_one_whose_recent_articles_reach_furthest_back(
    probes: dict[str, datetime | None], expected: str
) -> None:
    assert queries.rarest(probes) == expected


def test_match_all_finds_the_same_articles_whichever_topic_drives(filled: Storage) -> None:
    query = ArticleQuery(topics=("lupus", "car-t"), match_all=True)
    with filled.engine.connect() as connection:
        found = {
            driver: [
                row.title
                for row in connection.execute(queries.article_select(query, "sqlite", driver))
            ]
            for driver in ("lupus", "car-t")
        }
    assert found["lupus"] == found["car-t"] == ["CAR-T cells put lupus into remission"]
    assert titles(filled, topics=("lupus", "car-t"), match_all=True) == found["lupus"]


def test_a_match_all_feed_is_driven_by_its_rarest_topic(storage: Storage) -> None:
    storage.sync_sources(
        [Source(id="a", name="a", url="https://a.example/", interval=timedelta(hours=1))], T0
    )
    (health,) = storage.source_health()
    common = [make(f"c{i}", f"Autoimmune {i}", i, "autoimmune") for i in range(250)]
    both = [make(f"b{i}", f"Lupus {i}", i, "autoimmune", "lupus") for i in range(3)]
    storage.record_update(health, common + both, T0)
    with storage.engine.connect() as connection:
        probes = {
            t: connection.execute(queries.nth_newest(t)).scalar() for t in ("autoimmune", "lupus")
        }
    assert probes["lupus"] is None  # 3 tags: fewer than the probe's depth
    assert queries.rarest(probes) == "lupus"
    found = titles(storage, topics=("autoimmune", "lupus"), match_all=True)
    assert found == ["Lupus 0", "Lupus 1", "Lupus 2"]
