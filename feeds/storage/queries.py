"""The article query behind every feed, page and API call: filters, order and cursor.

Order is newest first with ties broken by id, so pages are stable; the cursor is the
(published, id) of the last item seen, so a page never repeats or skips an article even
while new ones arrive (keyset pagination).

Shape, chosen for a million articles (bench/scale.py, docs/performance.md "Scale"):

- With one topic (or ``match=all``), the scan is driven by that topic's tag rows through
  the (topic, published_at, article_id) index: the newest 50 of a rare topic cost 50 index
  entries, not a walk over every article probing for tags. For ``match=all`` the driver is
  the rarest topic (``rarest``, from a 200-entry probe of each topic's index: a parent
  topic such as autoimmune has every lupus article and more); the others are EXISTS probes
  on the rows that come out.
- Otherwise articles are read newest first through (published_at, id), and topic filters
  are EXISTS probes (several topics "any of" would repeat an article in a join).
- The cursor condition is written as ``published <= p AND (published < p OR (published = p
  AND id < i))``: the redundant first term is a plain range the index can start from; the
  OR alone makes both SQLite and PostgreSQL scan from the newest article.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, exists, or_, select

from feeds.models import ArticleQuery
from feeds.storage import pages, search, studies
from feeds.storage.schema import article_topics, articles

# How deep ``nth_newest`` looks into a topic's index to compare topics' recent frequency.
RARITY_PROBE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The driving topic's tag rows, aliased so they are not correlated into the EXISTS probes;
# built once, not per query (an alias costs a column proxy per column).
_DRIVER = article_topics.alias("driver")


def nth_newest(topic: str) -> Select[Any]:
    """When the ``RARITY_PROBE``-th newest article of ``topic`` was published (no row when
    the topic has fewer): 200 entries of the topic index, however large the database."""
    tag = article_topics
    return (
        select(tag.c.published_at)
        .where(tag.c.topic == topic)
        .order_by(tag.c.published_at.desc(), tag.c.article_id.desc())
        .offset(RARITY_PROBE - 1)
        .limit(1)
    )


def rarest(nth_newest: Mapping[str, datetime | None]) -> str:
    """The topic with the fewest recent articles: fewer than ``RARITY_PROBE`` in all, or
    else the one whose ``RARITY_PROBE``-th newest article is the oldest. Ties: first given."""
    return min(nth_newest, key=lambda t: (nth_newest[t] is not None, nth_newest[t] or _EPOCH))


def article_select(query: ArticleQuery, dialect: str, driver: str | None = None) -> Select[Any]:
    """SELECT the articles (``pages.columns``) for ``query``, ordered and limited.
    ``driver``: the topic whose tags drive the scan for ``match=all`` (default: the first;
    ``rarest`` picks well)."""
    conditions: list[ColumnElement[bool]] = []
    source: FromClause = articles
    published, article_id = articles.c.published_at, articles.c.id
    if query.topics and (query.match_all or len(query.topics) == 1):
        driver = driver if driver in query.topics else query.topics[0]
    else:
        driver = None
    if driver is not None:
        tag = _DRIVER
        source = articles.join(tag, and_(tag.c.article_id == articles.c.id, tag.c.topic == driver))
        published, article_id = tag.c.published_at, tag.c.article_id
        if query.min_score is not None:
            conditions.append(tag.c.score >= query.min_score)
        others = [topic for topic in query.topics if topic != driver]
        conditions += [_tagged((topic,), query.min_score) for topic in others]
    else:
        conditions += _topic_filters(query)
    conditions += _other_filters(query, dialect, published, article_id)
    return (
        select(*pages.columns(dialect))
        .select_from(source)
        .where(*conditions)
        .order_by(published.desc(), article_id.desc())
        .limit(query.limit)
    )


def conditions(query: ArticleQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``query``'s filters and cursor on ``articles`` alone (no
    driving topic): for queries that group the articles, such as story feeds."""
    return _topic_filters(query) + _other_filters(
        query, dialect, articles.c.published_at, articles.c.id
    )


def _topic_filters(query: ArticleQuery) -> list[ColumnElement[bool]]:
    if query.topics:
        if query.match_all:
            return [_tagged((topic,), query.min_score) for topic in query.topics]
        return [_tagged(query.topics, query.min_score)]
    if query.min_score is not None:
        return [_tagged((), query.min_score)]
    return []


def _other_filters(
    query: ArticleQuery,
    dialect: str,
    published: ColumnElement[datetime],
    article_id: ColumnElement[str],
) -> list[ColumnElement[bool]]:
    """Every filter but the topics, and the cursor, on the scan's (published, id) columns."""
    conditions: list[ColumnElement[bool]] = []
    if query.exclude:
        conditions.append(~_tagged(query.exclude, None))
    if query.sources:
        conditions.append(articles.c.source_id.in_(query.sources))
    if query.studies:
        conditions.append(studies.citing(query.studies))
    if query.since is not None:
        conditions.append(published >= query.since)
    if query.until is not None:
        conditions.append(published < query.until)
    if query.text:
        conditions.append(search.matches(dialect, query.text))
    if query.before is not None:
        at, before_id = query.before
        conditions.append(published <= at)
        conditions.append(or_(published < at, and_(published == at, article_id < before_id)))
    return conditions


def _tagged(topics: tuple[str, ...], min_score: float | None) -> ColumnElement[bool]:
    """The article carries one of ``topics`` (any topic when empty), confidently enough."""
    condition = article_topics.c.article_id == articles.c.id
    if len(topics) == 1:
        condition = and_(condition, article_topics.c.topic == topics[0])
    elif topics:
        condition = and_(condition, article_topics.c.topic.in_(topics))
    if min_score is not None:
        condition = and_(condition, article_topics.c.score >= min_score)
    return exists().where(condition)
