"""Article-topic queries: write an article's tags, rewrite them for retag, read them back.

Functions take an open SQLAlchemy connection; ``feeds.storage.Storage`` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from feeds.models import Article, Match, TopicTag
from feeds.storage.schema import article_topics, articles
from feeds.storage.upsert import insert_or_update


def replace(connection: Connection, tags: Mapping[str, Sequence[TopicTag]]) -> None:
    """Make each article's stored topics exactly ``tags[article_id]`` (the articles must
    be stored: each tag row copies its article's ``published_at``, for topic feeds)."""
    ids = list(tags)
    published: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(delete(article_topics).where(article_topics.c.article_id.in_(chunk)))
        query = select(articles.c.id, articles.c.published_at).where(articles.c.id.in_(chunk))
        published.update({row.id: row.published_at for row in connection.execute(query)})
    rows = [
        _row(article_id, tag, published[article_id])
        for article_id, article_tags in tags.items()
        for tag in article_tags
    ]
    if rows:
        connection.execute(insert(article_topics), rows)


# One (article, topic) row; executed once per row of a batch (psycopg pipelines them).
_DELETE_ONE = delete(article_topics).where(
    article_topics.c.article_id == bindparam("b_article_id"),
    article_topics.c.topic == bindparam("b_topic"),
)


def rewrite(connection: Connection, changes: Sequence[tuple[Article, Sequence[TopicTag]]]) -> int:
    """Change each article's stored topics from ``article.topics`` (as read) to the new tags,
    writing only the rows that differ; how many rows were written.

    A topic the article lost is deleted; one it gained, or whose score or evidence moved, is
    upserted (``insert_or_update``), so a row another writer stored or deleted since the
    read neither fails the batch nor stays missing. Rows that stay as they were are not
    touched: no new row version, no index entries and, on PostgreSQL, no foreign-key check,
    which locks (and so writes) the article's row for every tag row inserted.
    ``replace`` instead deletes and inserts every row.
    """
    gone: list[dict[str, str]] = []
    written: list[dict[str, object]] = []
    for article, new in changes:
        old = {tag.topic: tag for tag in article.topics}
        for tag in new:
            if old.pop(tag.topic, None) != tag:
                written.append(_row(article.id, tag, article.published))
        gone += [{"b_article_id": article.id, "b_topic": topic} for topic in old]
    if gone:
        connection.execute(_DELETE_ONE, gone)
    if written:
        key = ("article_id", "topic")
        connection.execute(insert_or_update(connection, article_topics, key), written)
    return len(gone) + len(written)


def _row(article_id: str, tag: TopicTag, published: datetime) -> dict[str, object]:
    return {
        "article_id": article_id,
        "topic": tag.topic,
        "score": tag.score,
        "matches": _evidence(tag),
        "published_at": published,
    }


def _evidence(tag: TopicTag) -> list[list[object]]:
    """The ``matches`` column: the tag's matches without the topic each repeats."""
    return [[m.term, m.rule, m.field, m.start, m.end] for m in tag.matches]


# Built once: the statement is the same for every page, only the ids change.
_TAGS_OF = (
    select(
        article_topics.c.article_id,
        article_topics.c.topic,
        article_topics.c.score,
        article_topics.c.matches,
    )
    .where(article_topics.c.article_id.in_(bindparam("ids", expanding=True)))
    # Equal scores are ordered by slug, so every database lists them alike.
    .order_by(article_topics.c.article_id, article_topics.c.score.desc(), article_topics.c.topic)
)


def for_articles(connection: Connection, ids: Iterable[str]) -> dict[str, tuple[TopicTag, ...]]:
    """The stored topics of each article in ``ids`` (articles without topics are absent)."""
    wanted = list(ids)
    found: dict[str, list[TopicTag]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for article_id, topic, score, matches in connection.execute(_TAGS_OF, {"ids": chunk}):
            evidence = tuple(
                Match(topic, term, rule, field, start_, end)
                for term, rule, field, start_, end in matches
            )
            found.setdefault(article_id, []).append(TopicTag(topic, score, evidence))
    return {key: tuple(value) for key, value in found.items()}


def counts(connection: Connection) -> dict[str, int]:
    """How many articles each topic has."""
    query = select(article_topics.c.topic, func.count()).group_by(article_topics.c.topic)
    return {topic: int(count) for topic, count in connection.execute(query)}
