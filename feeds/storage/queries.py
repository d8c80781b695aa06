"""The article query behind every feed, page and API call: filters, order and cursor.

Order is newest first with ties broken by id, so pages are stable; the cursor is the
(published, id) of the last item seen, so a page never repeats or skips an article even
while new ones arrive (keyset pagination).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from feeds.models import ArticleQuery
from feeds.storage import search, studies
from feeds.storage.schema import article_topics, articles


def article_select(query: ArticleQuery, dialect: str) -> Select[Any]:
    """SELECT articles.* for ``query``, ordered and limited."""
    return (
        select(articles)
        .where(*conditions(query, dialect))
        .order_by(articles.c.published_at.desc(), articles.c.id.desc())
        .limit(query.limit)
    )


def conditions(query: ArticleQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``query``'s filters and cursor, on ``articles``."""
    conditions: list[ColumnElement[bool]] = []
    if query.topics:
        if query.match_all:
            conditions += [_tagged((topic,), query.min_score) for topic in query.topics]
        else:
            conditions.append(_tagged(query.topics, query.min_score))
    elif query.min_score is not None:
        conditions.append(_tagged((), query.min_score))
    if query.exclude:
        conditions.append(~_tagged(query.exclude, None))
    if query.sources:
        conditions.append(articles.c.source_id.in_(query.sources))
    if query.studies:
        conditions.append(studies.citing(query.studies))
    if query.since is not None:
        conditions.append(articles.c.published_at >= query.since)
    if query.until is not None:
        conditions.append(articles.c.published_at < query.until)
    if query.text:
        conditions.append(search.matches(dialect, query.text))
    if query.before is not None:
        published, article_id = query.before
        conditions.append(
            or_(
                articles.c.published_at < published,
                and_(articles.c.published_at == published, articles.c.id < article_id),
            )
        )
    return conditions


def _tagged(topics: tuple[str, ...], min_score: float | None) -> ColumnElement[bool]:
    """The article carries one of ``topics`` (any topic when empty), confidently enough."""
    condition = article_topics.c.article_id == articles.c.id
    if topics:
        condition = and_(condition, article_topics.c.topic.in_(topics))
    if min_score is not None:
        condition = and_(condition, article_topics.c.score >= min_score)
    return exists().where(condition)
