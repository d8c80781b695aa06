"""A text query drives the scan or filters it: the same articles either way, on both databases.

``query_articles`` counts a text query's matches (up to ``queries.FEW_MATCHES``) and lets a
few matches drive the scan, many filter a walk over the topic or date index. These tests
hold every shape to the same rows, page after page, and pin which plan SQLite runs.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from feeds.models import Article, ArticleQuery, Match, Source, TopicTag
from feeds.normalize import article_id
from feeds.storage import Storage, queries, search
from tests.conftest import sqlite_plan

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
TOPICS = ("autoimmune", "lupus", "car-t", "oncology")
WORDS = ("remission", "relapse", "trial", "cells")


@pytest.fixture
def storage(backend_storage: Storage) -> Storage:
    """Every test here runs on SQLite and on PostgreSQL: part of the storage contract."""
    return backend_storage


def fill(storage: Storage, count: int = 240) -> Storage:
    """``count`` articles from two sources, an hour apart (some at the same time), each
    with 0-3 topics and some of ``WORDS`` drawn at random (a fixed seed): a lupus article
    is always autoimmune too, as the tagger makes it."""
    rng = random.Random(7)
    sources = [
        Source(id=s, name=s, url=f"https://{s}.example/", interval=timedelta(hours=1)) for s in "ab"
    ]
    storage.sync_sources(sources, T0)
    made: dict[str, list[Article]] = {"a": [], "b": []}
    for n in range(count):
        source = rng.choice("ab")
        topics = set(rng.sample(TOPICS, rng.randint(0, 3)))
        if "lupus" in topics:
            topics.add("autoimmune")
        words = [w for w in WORDS if rng.random() < 0.3]
        entry = str(n)
        made[source].append(
            Article(
                id=article_id(source, entry),
                source_id=source,
                entry_id=entry,
                url=f"https://{source}.example/{entry}",
                title=f"Article {n} " + " ".join(words),
                summary="Plain words.",
                content_html="",
                published=T0 - timedelta(hours=n // 2),  # pairs share a time: ties by id
                updated=None,
                first_seen=T0,
                content_hash=entry,
                topics=tuple(
                    TopicTag(t, 3.0, (Match(t, t, "term", "title", 0, 1),)) for t in sorted(topics)
                ),
            )
        )
    for health in storage.source_health():
        storage.record_update(health, made[health.source_id], T0)
    return storage


def ids(storage: Storage, query: ArticleQuery, by_text: bool | None) -> list[str]:
    """The article ids ``article_select`` finds for ``query`` in the given text role."""
    dialect = storage.engine.dialect.name
    with storage.engine.connect() as connection:
        statement = queries.article_select(query, dialect, by_text=by_text)
        return [row[0] for row in connection.execute(statement)]


QUERIES = [
    ArticleQuery(topics=topics, match_all=match_all, text=text, since=since, limit=limit)
    for topics, match_all, text, since, limit in product(
        [(), ("lupus",), ("autoimmune", "lupus"), ("lupus", "car-t"), ("car-t", "oncology")],
        [True, False],
        ["remission", "remission relapse", "cells trial relapse"],
        [None, T0 - timedelta(hours=40)],
        [7, 50],
    )
]


def test_the_text_finds_the_same_articles_whether_it_drives_or_filters(
    storage: Storage,
) -> None:
    fill(storage)
    for query in QUERIES:
        planned = ids(storage, query, None)  # the shape of before: the planner chooses
        assert ids(storage, query, True) == planned, query
        assert ids(storage, query, False) == planned, query
        assert [a.id for a in storage.query_articles(query)] == planned, query
    # Not vacuous: the queries find articles, and some fill a page.
    assert any(len(ids(storage, q, True)) == q.limit for q in QUERIES)


def test_pages_after_a_cursor_are_the_same_whichever_way_the_text_plays(
    storage: Storage,
) -> None:
    fill(storage)
    for topics in [(), ("autoimmune", "lupus")]:
        first = ArticleQuery(topics=topics, match_all=True, text="remission", limit=5)
        seen: dict[bool, list[str]] = {}
        for by_text in (True, False):
            query, pages = first, []
            while found := storage_page(storage, query, by_text):
                pages += [a.id for a in found]
                last = found[-1]
                query = ArticleQuery(
                    topics=topics,
                    match_all=True,
                    text="remission",
                    before=(last.published, last.id),
                    limit=5,
                )
            seen[by_text] = pages
        whole = ArticleQuery(topics=topics, match_all=True, text="remission", limit=1000)
        assert len(seen[True]) > 5  # more than one page
        assert seen[True] == seen[False] == ids(storage, whole, None)


def storage_page(storage: Storage, query: ArticleQuery, by_text: bool) -> list[Article]:
    """One page of ``query`` read with the text in the given role, as ``Article``s."""
    wanted = ids(storage, query, by_text)
    found = {a.id: a for a in storage.query_articles(query)}
    assert list(found) == wanted
    return [found[i] for i in wanted]


def test_the_probe_counts_matches_up_to_its_bound_on_sqlite(sqlite_storage: Storage) -> None:
    storage = fill(sqlite_storage)
    everything = len(ids(storage, ArticleQuery(text="remission", limit=1000), None))
    bound = search.bound_text("sqlite", "remission")
    assert bound is not None
    with storage.engine.connect() as connection:
        assert search.count_matches(connection, "sqlite", bound, 10) == 10 < everything
        assert search.count_matches(connection, "sqlite", bound, 1000) == everything
        assert len(search.first_rowids(connection, bound, 10)) == 10
        rowids = search.first_rowids(connection, bound, 1000)
        assert len(rowids) == everything
        assert rowids == sorted(rowids)


def test_the_probe_estimates_from_statistics_on_postgresql(storage: Storage) -> None:
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's estimate; SQLite's count is tested above")
    fill(storage, count=600)
    with storage.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE articles")
        everything = len(ids(storage, ArticleQuery(text="remission", limit=1000), None))
        common = search.count_matches(connection, "postgresql", "remission", 10_000)
        absent = search.count_matches(connection, "postgresql", "zymotic", 10_000)
        assert absent < everything / 4 < common  # roughly right, from the statistics
        assert search.count_matches(connection, "postgresql", "remission", 10) == 10


def plan(storage: Storage, query: ArticleQuery, by_text: bool) -> str:
    return sqlite_plan(storage, queries.article_select(query, "sqlite", by_text=by_text))


def test_few_matches_drive_the_scan_and_many_filter_the_topic_walk(
    sqlite_storage: Storage,
) -> None:
    storage = fill(sqlite_storage)
    query = ArticleQuery(topics=("autoimmune", "lupus"), match_all=True, text="remission", since=T0)
    # Driving: the matches' rowids looked up one by one, then sorted.
    driving = plan(storage, query, by_text=True)
    assert "USING INTEGER PRIMARY KEY (rowid=?)" in driving
    assert "TEMP B-TREE FOR ORDER BY" in driving
    # Filtering: the topic's newest tags walked in order, no sort, no lookup by rowid
    # (SQLite would otherwise start from the matches, however many).
    filtering = plan(storage, query, by_text=False)
    assert "ix_article_topics_topic_published (topic=? AND published_at>?)" in filtering
    assert "TEMP B-TREE" not in filtering
    assert "rowid=?" not in filtering
    # The matches already read (query_articles on SQLite): looked up by rowid from the
    # list, without a second full-text search.
    listed = queries.article_select(query, "sqlite", by_text=True, found=[1, 2, 3])
    among = sqlite_plan(storage, listed)
    assert "USING INTEGER PRIMARY KEY (rowid=?)" in among
    assert "VIRTUAL TABLE INDEX 1:" in among  # json_each, aliased
    assert "articles_fts" not in among
    # Without topics many matches filter the date index's walk.
    dated = plan(storage, ArticleQuery(text="remission"), by_text=False)
    assert "ix_articles_published" in dated
    assert "TEMP B-TREE" not in dated
