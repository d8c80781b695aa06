"""Retention SQL: find, count and delete old articles in small batches; SQLite vacuuming.

Functions take an open SQLAlchemy connection; ``feeds.storage.Storage`` owns transactions
(one per batch, so a prune never holds the write lock for long and readers never wait).
What "old" means and how many batches to run is decided in ``feeds.retention``.

An article is old when it was both *published* and *first seen* before the cutoff. The
second condition matters for a source added today with a years-deep archive: deleting those
entries at once would only make the next fetch store them again as new.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, text

from feeds.storage.schema import article_studies, article_topics, articles, stories, story_keys

# PRAGMA incremental_vacuum(N) frees at most N pages per call: 2,000 pages of 4 KiB is 8 MB,
# a few milliseconds of work, so a long vacuum is many short write locks, not one long one.
VACUUM_STEP_PAGES = 2_000


def _old(cutoff: datetime) -> ColumnElement[bool]:
    return and_(articles.c.published_at < cutoff, articles.c.first_seen_at < cutoff)


def count_old(connection: Connection, cutoff: datetime) -> tuple[int, int]:
    """(articles, topic tags) that a prune at ``cutoff`` would delete."""
    old_ids = select(articles.c.id).where(_old(cutoff))
    found = connection.execute(select(func.count()).select_from(articles).where(_old(cutoff)))
    tags = connection.execute(
        select(func.count())
        .select_from(article_topics)
        .where(article_topics.c.article_id.in_(old_ids))
    )
    return int(found.scalar_one()), int(tags.scalar_one())


def delete_old_batch(connection: Connection, cutoff: datetime, limit: int) -> tuple[int, int]:
    """Delete up to ``limit`` of the oldest old articles and their tags; (articles, tags)."""
    ids = list(
        connection.execute(
            select(articles.c.id)
            .where(_old(cutoff))
            .order_by(articles.c.published_at, articles.c.id)
            .limit(limit)
        ).scalars()
    )
    if not ids:
        return 0, 0
    # Tags are deleted explicitly, not left to ON DELETE CASCADE: SQLite applies the cascade
    # only with foreign_keys=ON on that very connection, and explicit is countable.
    tags = connection.execute(delete(article_topics).where(article_topics.c.article_id.in_(ids)))
    connection.execute(delete(article_studies).where(article_studies.c.article_id.in_(ids)))
    connection.execute(delete(story_keys).where(story_keys.c.article_id.in_(ids)))
    touched = set(
        connection.execute(
            select(articles.c.story_id).where(
                articles.c.id.in_(ids), articles.c.story_id.is_not(None)
            )
        ).scalars()
    )
    gone = connection.execute(delete(articles).where(articles.c.id.in_(ids)))
    # A story whose every member is gone goes too; one that keeps members keeps its id.
    member = select(articles.c.id).where(articles.c.story_id == stories.c.id).exists()
    connection.execute(delete(stories).where(stories.c.id.in_(list(touched)), ~member))
    return int(gone.rowcount), int(tags.rowcount)


def sqlite_auto_vacuum(connection: Connection) -> int:
    """SQLite's auto_vacuum mode: 0 none, 1 full, 2 incremental."""
    return int(connection.execute(text("PRAGMA auto_vacuum")).scalar_one())


def sqlite_free_pages(connection: Connection) -> int:
    """Pages on SQLite's freelist: space that deleted rows left and a vacuum can return."""
    return int(connection.execute(text("PRAGMA freelist_count")).scalar_one())


def sqlite_vacuum_step(driver_connection: sqlite3.Connection) -> None:
    """Return up to ``VACUUM_STEP_PAGES`` free pages to the file system, in one short
    transaction of its own.

    Python's ``execute`` steps a statement that returns no rows only once, and this PRAGMA
    frees one page per step; ``executescript`` steps it to completion. It commits any open
    transaction first, which is why it gets a connection that has none.
    """
    driver_connection.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})")
