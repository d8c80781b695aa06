"""Article-topic queries: write an article's tags, read them back, page through for retag.

Functions take an open SQLAlchemy connection; ``feeds.storage.Storage`` owns transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from feeds.models import Match, TopicTag
from feeds.storage.schema import article_topics, articles


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
        {
            "article_id": article_id,
            "topic": tag.topic,
            "score": tag.score,
            "matches": [[m.term, m.rule, m.field, m.start, m.end] for m in tag.matches],
            "published_at": published[article_id],
        }
        for article_id, article_tags in tags.items()
        for tag in article_tags
    ]
    if rows:
        connection.execute(insert(article_topics), rows)


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
