"""Feed queries through statements compiled once per shape (feeds.storage.prepared).

``Storage.query_articles`` runs a statement compiled for the first query of its shape,
with the values of each later one, on the DB-API cursor. These tests hold it to the
general path (the same statement built for this query and run by SQLAlchemy) over
randomized queries, many of one shape with other values, on SQLite and (with
FEEDS_TEST_DATABASE_URL) PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import DBAPIError

from feeds.models import Article, ArticleQuery, Match, TopicTag
from feeds.storage import Storage, pages, queries
from feeds.storage.prepared import LIST_SIZES, Prepared, listed, prepared
from feeds.storage.schema import article_studies, articles
from tests.conftest import update_samples


@pytest.fixture
def samples(backend_storage: Storage) -> Storage:
    update_samples(backend_storage)
    return backend_storage


def general(storage: Storage, query: ArticleQuery) -> tuple[Article, ...]:
    """``query`` built for itself and run through SQLAlchemy's execute (its compiled
    cache, its bind processing)."""
    dialect = storage.engine.dialect.name
    with storage.engine.connect() as connection:
        driver = None
        if query.match_all and len(query.topics) > 1:
            probes = {t: connection.execute(queries.nth_newest(t)).scalar() for t in query.topics}
            driver = queries.rarest(probes)
        return pages.read(connection, queries.article_select(query, dialect, driver))


def random_query(
    rng: random.Random,
    slugs: list[str],
    sources: list[str],
    studies: list[str],
    times: list[datetime],
) -> ArticleQuery:
    query = ArticleQuery(limit=rng.choice((1, 5, 50)))
    if rng.random() < 0.6:
        query = replace(query, topics=tuple(rng.sample(slugs, rng.choice((1, 1, 2, 3)))))
        query = replace(query, match_all=rng.random() < 0.3)
    if rng.random() < 0.2:
        query = replace(query, exclude=tuple(rng.sample(slugs, rng.choice((1, 2)))))
    if rng.random() < 0.2:
        query = replace(query, sources=tuple(rng.sample(sources, rng.choice((1, 2, 3)))))
    if rng.random() < 0.15 and studies:
        query = replace(query, studies=tuple(rng.sample(studies, min(2, len(studies)))))
    if rng.random() < 0.3:
        query = replace(query, since=rng.choice(times))
    if rng.random() < 0.2:
        query = replace(query, until=rng.choice(times) + timedelta(days=30))
    if rng.random() < 0.2:
        query = replace(query, min_score=rng.choice((0.5, 2.0, 4.0)))
    if rng.random() < 0.2:
        query = replace(query, text=rng.choice(("lupus", "trial results", "cancer", "!!")))
    return query


def test_prepared_feed_queries_find_what_the_general_path_finds(samples: Storage) -> None:
    everything = samples.query_articles(ArticleQuery(limit=1000))
    slugs = sorted(samples.topic_counts())
    sources = sorted({a.source_id for a in everything})
    with samples.engine.connect() as connection:
        studies = sorted(set(connection.execute(select(article_studies.c.study)).scalars()))
    times = sorted(a.published for a in everything)
    rng = random.Random(20261125)
    found = 0
    for _ in range(150):
        query = random_query(rng, slugs, sources, studies, times)
        expected = general(samples, query)
        assert samples.query_articles(query) == expected, query
        found += len(expected)
        if expected:  # the next page, by cursor: the same shape with a cursor's values
            last = expected[-1]
            page = replace(query, before=(last.published, last.id))
            assert samples.query_articles(page) == general(samples, page), page
    assert found > 500  # the queries found articles, not only empty pages


def test_one_shape_serves_other_values(samples: Storage) -> None:
    # The second query of a shape runs the first one's compiled SQL: with its own values.
    for topic in sorted(samples.topic_counts()):
        query = ArticleQuery(topics=(topic,), limit=3)
        assert samples.query_articles(query) == general(samples, query)
        assert all(topic in {t.topic for t in a.topics} for a in samples.query_articles(query))


def test_a_driver_error_is_raised_as_sqlalchemy_would_raise_it(samples: Storage) -> None:
    # As SQLAlchemy's DBAPIError subclass, which storage methods translate into a
    # StorageError naming the method (and retry while SQLite says "database is locked").
    statement = select(article_studies).where(article_studies.c.study == "x")
    with samples.engine.connect() as connection:
        broken = Prepared(statement, connection.dialect)
        broken.sql = broken.sql.replace("article_studies", "no_such_table")
        with pytest.raises(DBAPIError) as raised:
            broken.rows(connection, {})
    assert "no_such_table" in str(raised.value)


def test_fast_constructors_build_the_same_frozen_values() -> None:
    match = pages._new_match("lupus", "lupus", "term", "title", 0, 5)
    assert match == Match("lupus", "lupus", "term", "title", 0, 5)
    assert hash(match) == hash(Match("lupus", "lupus", "term", "title", 0, 5))
    tag = pages._new_tag("lupus", 2.0, (match,))
    assert (tag, repr(tag)) == (
        TopicTag("lupus", 2.0, (match,)),
        repr(TopicTag("lupus", 2.0, (match,))),
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.score = 3.0  # type: ignore[misc]
    now = datetime.now(UTC)
    values = ("i", "s", "e", None, "t", "", "", now, None, now, (), (), (), (), "h", (tag,), ())
    assert pages._new_article(*values) == Article(*values)


def ids_in(names: tuple[str, ...]) -> Callable[[], Select[Any]]:
    return lambda: select(articles.c.id).where(articles.c.id.in_([bindparam(n) for n in names]))


def test_an_in_list_of_any_length_selects_what_its_values_select(samples: Storage) -> None:
    # ``listed`` pads the values to one of a few lengths (the last repeated), so that a
    # handful of compiled statements serve any number of them.
    with samples.engine.connect() as connection:
        ids = sorted(connection.execute(select(articles.c.id)).scalars())
        assert len(ids) > LIST_SIZES[1]
        for count in (1, 2, LIST_SIZES[0], LIST_SIZES[0] + 1, LIST_SIZES[1] + 1, len(ids)):
            wanted = ids[-count:]
            names, values = listed("id", wanted)
            statement = prepared(connection, ("test listed", len(names)), ids_in(names))
            assert sorted(row[0] for row in statement.rows(connection, values)) == wanted
            assert len(names) in LIST_SIZES


def test_read_values_are_of_their_own_frozen_classes(samples: Storage) -> None:
    # The fast constructors build each value as a twin class and then give it its class:
    # what comes out is the class itself, frozen, and behaves as one built by __init__.
    (article, *_rest) = [a for a in samples.query_articles(ArticleQuery(limit=200)) if a.topics]
    tag = article.topics[0]
    assert (type(article), type(tag), type(tag.matches[0])) == (Article, TopicTag, Match)
    for value, field in ((article, "title"), (tag, "score"), (tag.matches[0], "start")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
    assert replace(article, title=article.title) == article
    assert hash(replace(tag, score=tag.score)) == hash(tag)
