"""Clustering every stored article again: the SQL of ``feeds cluster --rebuild``.

``forget`` takes every article out of its story; after ``feeds.recluster`` has clustered
them all again, ``restore`` gives stories back the ids readers know them by (a story's id is
its founding article's id, and the item id of the story in every feed).

What it does not do: decide stories (``feeds.stories``) or walk the articles
(``feeds.recluster``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, update

from feeds.storage.common import CHUNK, bump
from feeds.storage.schema import articles, stories, story_keys


def forget(connection: Connection) -> int:
    """Every article out of its story, every story and key dropped; how many had one."""
    had = connection.execute(
        update(articles).where(articles.c.story_id.is_not(None)).values(story_id=None)
    ).rowcount
    connection.execute(story_keys.delete())
    connection.execute(stories.delete())
    bump(connection, "data_version")
    return int(had)


def restore(connection: Connection, founders: Iterable[str]) -> int:
    """Rename each story holding one of ``founders`` under another id to that founder's id,
    earliest founder first, unless taken; how many were renamed."""
    renamed = 0
    ordered = sorted(founders)
    for start in range(0, len(ordered), CHUNK):
        rows = connection.execute(
            select(articles.c.id, articles.c.story_id)
            .where(
                articles.c.id.in_(ordered[start : start + CHUNK]),
                articles.c.story_id != articles.c.id,
            )
            .order_by(articles.c.published_at, articles.c.id)
        ).all()
        renamed += sum(_rename(connection, story_id, founder) for founder, story_id in rows)
    if renamed:
        bump(connection, "data_version")
    return renamed


def _rename(connection: Connection, old: str, new: str) -> bool:
    """Move story ``old`` to id ``new`` with its members and keys; False if ``old`` is gone
    (renamed already) or ``new`` is taken."""
    row = connection.execute(select(stories).where(stories.c.id == old)).mappings().first()
    taken = connection.execute(select(stories.c.id).where(stories.c.id == new)).first()
    if row is None or taken is not None:
        return False
    connection.execute(stories.insert().values({**row, "id": new}))
    connection.execute(update(articles).where(articles.c.story_id == old).values(story_id=new))
    connection.execute(update(story_keys).where(story_keys.c.story_id == old).values(story_id=new))
    connection.execute(stories.delete().where(stories.c.id == old))
    return True
