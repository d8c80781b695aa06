"""Reading feeds by story (collapse=stories): the stories, every member, the leads in full.

``Storage.query_stories`` reads members the query's filters did not select as
``StoryMember`` only, and the selected ones in full through the fast read path. These tests
hold it to a plain reference written from every stored article, over randomized queries, on
SQLite and (with FEEDS_TEST_DATABASE_URL) on PostgreSQL; and pin SQLite's plans of the story
select.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from feeds.models import Article, ArticleQuery, StoryMember
from feeds.recluster import cluster_stored
from feeds.storage import Storage, rows, storyfeeds, storyscan, studies, topics
from feeds.storage.schema import articles
from feeds.storage.schema import stories as stories_table
from feeds.stories import DEFAULT_POLICY
from tests.conftest import sqlite_plan, update_samples

REPO = Path(__file__).parent.parent


@pytest.fixture
def samples(backend_storage: Storage) -> Storage:
    """The shipped offline samples, updated and clustered (stories of one to four outlets)."""
    update_samples(backend_storage)
    return backend_storage


def every_article(storage: Storage) -> dict[str, tuple[Article, str]]:
    """Each stored article, read the plain way (mappings, typed columns), with its story."""
    with storage.engine.connect() as connection:
        found = list(connection.execute(select(articles)).mappings())
        ids = [row["id"] for row in found]
        tags = topics.for_articles(connection, ids)
        cited = studies.for_articles(connection, ids)
    return {
        row["id"]: (
            rows.article(row, tags.get(row["id"], ()), cited.get(row["id"], ())),
            row["story_id"],
        )
        for row in found
    }


def member(article: Article) -> StoryMember:
    return StoryMember(
        article.id, article.source_id, article.url, article.title, article.published, article.dois
    )


def random_query(rng: random.Random, slugs: list[str], sources: list[str]) -> ArticleQuery:
    query = ArticleQuery(stories=True, limit=rng.choice((1, 3, 10, 200)))
    if rng.random() < 0.6:
        query = replace(query, topics=tuple(rng.sample(slugs, rng.choice((1, 1, 2)))))
        query = replace(query, match_all=rng.random() < 0.3)
    if rng.random() < 0.2:
        query = replace(query, exclude=(rng.choice(slugs),))
    if rng.random() < 0.2:
        query = replace(query, sources=tuple(rng.sample(sources, 2)))
    if rng.random() < 0.2:
        query = replace(query, text=rng.choice(("lupus", "trial", "cancer vaccine", "study")))
    return query


def test_stories_hold_every_member_and_in_full_the_members_the_query_selected(
    samples: Storage,
) -> None:
    stored = every_article(samples)
    with samples.engine.connect() as connection:
        updated = {r.id: r.updated_at for r in connection.execute(select(stories_table))}
    slugs = sorted(samples.topic_counts())
    sources = sorted({a.source_id for a, _ in stored.values()})
    rng = random.Random(20261125)
    light_members = 0
    for _ in range(40):
        query = random_query(rng, slugs, sources)
        selected = {
            a.id for a in samples.query_articles(replace(query, stories=False, limit=100_000))
        }
        # The stories of the selected articles, newest first by first publication.
        firsts: dict[str, datetime] = {}
        for article_id in selected:
            story_id = stored[article_id][1]
            firsts[story_id] = min(a.published for a, s in stored.values() if s == story_id)
        expected = sorted(firsts, key=lambda s: (firsts[s], s), reverse=True)
        pages: list[str] = []
        before: tuple[datetime, str] | None = None
        while found := samples.query_stories(replace(query, before=before)):
            for story in found:
                members = sorted(
                    (a for a, s in stored.values() if s == story.id),
                    key=lambda a: (a.published, a.id),
                )
                assert story.articles == tuple(member(a) for a in members), query
                assert story.leads == tuple(a for a in members if a.id in selected), query
                assert story.first_published == members[0].published
                assert story.updated == updated[story.id]
                light_members += len(members) - len(story.leads)
            pages += [s.id for s in found]
            if len(found) < query.limit:
                break
            before = (found[-1].first_published, found[-1].id)
        assert pages == expected, query
    assert light_members > 0  # some stories had members the filters left out


def test_a_story_with_members_outside_the_filter_is_led_only_by_a_selected_one(
    samples: Storage,
) -> None:
    # In the samples, one outlet of a four-outlet story is tagged oncology, the others not.
    found = samples.query_stories(ArticleQuery(topics=("oncology",), stories=True, limit=200))
    mixed = [s for s in found if len(s.leads) < len(s.articles)]
    assert mixed
    for story in mixed:
        assert all("oncology" in {t.topic for t in a.topics} for a in story.leads)
        assert {a.id for a in story.leads} < {m.id for m in story.articles}


def test_unclustered_articles_are_stories_of_their_own_with_themselves_as_lead(
    samples: Storage,
) -> None:
    with samples.engine.begin() as connection:  # as if stored before migration 0011
        connection.exec_driver_sql("UPDATE articles SET story_id = NULL")
        connection.exec_driver_sql("DELETE FROM story_keys")
        connection.exec_driver_sql("DELETE FROM stories")
    found = samples.query_stories(ArticleQuery(stories=True, limit=500))
    assert len(found) == samples.count_articles()
    for story in found:
        (lead,) = story.leads
        assert story.articles == (member(lead),)
        assert (story.id, story.updated) == (lead.id, None)


# --- SQLite's plans of the story select ------------------------------------------------


def story_plan(storage: Storage, query: ArticleQuery) -> str:
    """SQLite's plan of the story select for ``query``."""
    return sqlite_plan(storage, storyfeeds.story_select(query, "sqlite"))


@pytest.fixture
def sqlite_samples(sqlite_storage: Storage) -> Storage:
    update_samples(sqlite_storage)
    with sqlite_storage.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")  # as a live database has (feeds maintain)
    return sqlite_storage


@pytest.mark.parametrize(
    "query",
    [
        ArticleQuery(stories=True),  # the "all" feed
        ArticleQuery(topics=("lupus",), stories=True),  # a topic feed
    ],
    ids=["all", "topic"],
)
def test_a_collapsed_feed_walks_the_stories_index_newest_first(
    sqlite_samples: Storage, query: ArticleQuery
) -> None:
    # Stories come out of ix_stories_first in order, each probed for a selected member
    # through ix_articles_story: a page costs about as many rows as it shows, no sort.
    for page in (query, replace(query, before=(datetime.now(UTC), "a" * 32))):
        plan = story_plan(sqlite_samples, page)
        assert "ix_stories_first" in plan
        assert "ix_articles_story (story_id=?)" in plan
        assert "TEMP B-TREE" not in plan


def test_a_searched_collapsed_feed_reads_articles_only_through_indexes(
    sqlite_samples: Storage,
) -> None:
    # Which side drives depends on the sizes: on these few stories the stories index, each
    # story's members probed against the search; in 50,000 articles (bench/scale.py) the
    # search's articles, each story looked up by its key. Never a walk over every article.
    plan = story_plan(
        sqlite_samples,
        ArticleQuery(topics=("lupus", "car-t"), match_all=True, text="remission", stories=True),
    )
    assert "articles_fts" in plan
    assert "SCAN articles " not in plan + " "
    assert "ix_stories_first" in plan or "SEARCH stories USING INDEX" in plan


def test_a_first_page_walked_from_the_articles_is_the_story_selects_page(
    samples: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Steps of two articles: the walk goes through many steps even on the few samples.
    monkeypatch.setattr(storyscan, "SCAN", 2)
    slugs = sorted(samples.topic_counts())
    sources = sorted({s.source_id for s in samples.source_health()})
    dialect = samples.engine.dialect.name
    rng = random.Random(8)
    for _ in range(60):
        query = random_query(rng, slugs, sources)
        with samples.engine.connect() as connection:
            walked = storyscan.first_page(connection, query, dialect)
            selected = connection.execute(storyfeeds.story_select(query, dialect)).all()
        assert [(c.story, c.first) for c in walked] == [(r.story, r.first) for r in selected]


def test_a_rebuild_gives_each_story_it_leaves_whole_its_id_back(samples: Storage) -> None:
    every = ArticleQuery(limit=200, stories=True)
    before = {frozenset(m.id for m in s.articles): s.id for s in samples.query_stories(every)}
    assert cluster_stored(samples, DEFAULT_POLICY, rebuild=True) == samples.count_articles()
    after = {frozenset(m.id for m in s.articles): s.id for s in samples.query_stories(every)}
    whole = before.keys() & after.keys()
    assert len(whole) > len(before) // 2
    assert {members: after[members] for members in whole} == {m: before[m] for m in whole}
