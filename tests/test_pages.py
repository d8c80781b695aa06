"""The fast read path (feeds.storage.pages) gives exactly the values the plain one gave.

Runs on SQLite and, with FEEDS_TEST_DATABASE_URL, on PostgreSQL: JSON comes back as text
there through a CAST, and datetimes in the session's zone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine.interfaces import CacheStats

from feeds.models import Article, ArticleQuery, Enclosure, Match, Source, StudyId, TopicTag
from feeds.storage import Storage, pages, queries, rows, studies, topics
from feeds.storage.schema import article_studies, articles

NOW = datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=UTC)
LUPUS = TopicTag("lupus", 2.0, (Match("lupus", "lupus", "term", "title", 0, 5),))
CAR_T = TopicTag(
    "car-t",
    2.0,  # the same score as lupus: equal scores are listed by slug
    (
        Match("car-t", "CAR-T", "acronym", "title", 7, 12),
        Match("car-t", 'chimeric "antigen", [receptor]', "term", "summary", 0, 31),
    ),
)
AUTOIMMUNE = TopicTag("autoimmune", 5.5, (Match("autoimmune", "lupus", "parent", "parent", 0, 0),))
DOI = StudyId("doi", "10.1038/s41591-022-02017-5")
PMID = StudyId("pmid", "36109639")


def article(entry: str, hours: int, **fields: object) -> Article:
    base = Article(
        id=f"id-{entry}",
        source_id="a",
        entry_id=entry,
        url=f"https://a.example/{entry}",
        title=f"Title {entry}",
        summary="",
        content_html="",
        published=NOW - timedelta(hours=hours),
        updated=None,
        first_seen=NOW,
        content_hash=entry,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


ARTICLES = (
    article(
        "rich",
        1,
        authors=("Ana Müller", 'B, "quoted" [bracket]'),
        categories=("Health", "Lupus"),
        enclosures=(
            Enclosure("https://a.example/x.mp3", "audio/mpeg", 1234),
            Enclosure("https://a.example/y"),
        ),
        dois=(DOI.value,),
        updated=NOW - timedelta(minutes=30),
        topics=(LUPUS, AUTOIMMUNE, CAR_T),  # read back by score, then slug
        studies=(PMID, DOI),
    ),
    article("plain", 2),  # every list empty, no topics, no studies
    article("tagged", 3, authors=("Staff",), topics=(LUPUS,)),
    article("cited", 4, studies=(DOI,)),
)


@pytest.fixture
def filled(backend_storage: Storage) -> Storage:
    backend_storage.sync_sources([Source("a", "A", "https://a.example/", timedelta(hours=1))], NOW)
    (health,) = backend_storage.source_health(["a"])
    backend_storage.record_update(health, ARTICLES, NOW)
    with backend_storage.engine.begin() as connection:  # a key no longer canonical
        connection.execute(
            insert(article_studies), {"article_id": "id-plain", "study": "doi:nope", "position": 0}
        )
    return backend_storage


def plain_read(storage: Storage) -> tuple[Article, ...]:
    """The articles read the straightforward way: mappings, typed columns, two queries."""
    with storage.engine.connect() as connection:
        found = connection.execute(
            select(articles).order_by(articles.c.published_at.desc())
        ).mappings()
        found_rows = list(found)
        ids = [row["id"] for row in found_rows]
        tags = topics.for_articles(connection, ids)
        cited = studies.for_articles(connection, ids)
    return tuple(
        rows.article(row, tags.get(row["id"], ()), cited.get(row["id"], ())) for row in found_rows
    )


def test_stored_articles_read_back_equal_to_what_was_stored(filled: Storage) -> None:
    rich, *others = ARTICLES
    # Tags read back highest score first, equal scores by slug; study ids in stored order.
    expected = (replace(rich, topics=(AUTOIMMUNE, CAR_T, LUPUS)), *others)
    assert filled.query_articles(ArticleQuery()) == expected


def test_the_fast_read_path_equals_the_plain_one(filled: Storage) -> None:
    assert filled.query_articles(ArticleQuery()) == plain_read(filled)
    assert filled.recent_articles() == plain_read(filled)


def test_read_datetimes_are_aware_utc(filled: Storage) -> None:
    (rich, *_rest) = filled.query_articles(ArticleQuery())
    for value in (rich.published, rich.updated, rich.first_seen):
        assert value is not None
        assert value.utcoffset() == timedelta(0)
    assert rich.updated == NOW - timedelta(minutes=30)


def test_a_study_key_no_longer_canonical_is_skipped(filled: Storage) -> None:
    (plain,) = [a for a in filled.query_articles(ArticleQuery()) if a.id == "id-plain"]
    assert plain.studies == ()


def test_tags_and_studies_of_more_articles_than_one_chunk(filled: Storage) -> None:
    ids = [f"missing-{n}" for n in range(1200)] + ["id-rich", "id-tagged"]
    with filled.engine.connect() as connection:
        tags, cited = pages.tags_and_studies(connection, ids)
    assert tags == {"id-rich": (AUTOIMMUNE, CAR_T, LUPUS), "id-tagged": (LUPUS,)}
    assert cited == {"id-rich": (PMID, DOI)}


def test_articles_after_pages_through_with_tags(filled: Storage) -> None:
    first = filled.articles_after("", 2)
    rest = filled.articles_after(first[-1].id, 10)
    by_id = {a.id: a for a in plain_read(filled)}
    assert [*first, *rest] == [by_id[key] for key in sorted(by_id)]


def test_feed_queries_reuse_the_compiled_statements_for_any_topic(filled: Storage) -> None:
    # Values are bound, not rendered into the SQL: SQLAlchemy's compiled cache serves every
    # topic and cursor after the first of each shape (no per-query compile on the general
    # path), and the prepared path keeps one statement per shape.
    dialect = filled.engine.dialect.name
    hits = []
    first, *others = (
        ArticleQuery(topics=("lupus",)),
        ArticleQuery(topics=("car-t",)),
        ArticleQuery(before=(NOW, "id-x")),
        ArticleQuery(before=(NOW - timedelta(hours=2), "id-y")),
    )
    with filled.engine.connect() as connection:
        for query in (first, *others):
            result = connection.execute(queries.article_select(query, dialect))
            result.all()
            hits.append(result.context.cache_hit)
    assert hits[1] == hits[3] == CacheStats.CACHE_HIT
    shapes = {queries.shape(q, queries.parameters(q, dialect)) for q in (first, *others)}
    assert len(shapes) == 2


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-11-24 11:00:00.123456", datetime(2026, 11, 24, 11, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-24 11:00:00", datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),  # CURRENT_TIMESTAMP
        ("2026-11-24T12:00:00+01:00", datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
    ],
)
def test_sqlite_datetime_text_is_read_as_aware_utc(stored: str, expected: datetime) -> None:
    value = pages._from_sqlite(stored)
    assert value == expected
    assert value.tzinfo is UTC
