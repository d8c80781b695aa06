"""Story clusters in the database: candidate retrieval and assignment.

Candidates come from ``story_keys`` through its (key, published_at) index, bounded by the
time window and by ``CANDIDATES_PER_ARTICLE``, so finding them costs the same whatever the
number of stored articles. The decision itself is ``feeds.stories`` (pure); this module only
reads and writes. ``StoryStorage`` is mixed into ``Storage``; the functions take an open
connection and never commit. Reading feeds by story is ``feeds.storage.storyfeeds``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from feeds.storage import rebuild, studies
from feeds.storage.common import CHUNK, bump, chunks, translated
from feeds.storage.schema import UTCDateTime, articles, stories, story_keys
from feeds.stories import LEAD_CHARS, Assignment, Member, Sighting, keys

PER_KEY = 25  # stored articles read per key of a new article: the newest win when more match


# Built once: these run once per key of every new article.
_BY_KEY = select(story_keys.c.article_id, story_keys.c.story_id).where(
    story_keys.c.key == bindparam("key")
)
_ANY_TIME = _BY_KEY.order_by(story_keys.c.published_at.desc()).limit(PER_KEY)
_IN_WINDOW = (
    _BY_KEY.where(
        story_keys.c.published_at >= bindparam("lo", type_=UTCDateTime),
        story_keys.c.published_at <= bindparam("hi", type_=UTCDateTime),
    )
    .order_by(story_keys.c.published_at.desc())
    .limit(PER_KEY)
)


def candidates(
    connection: Connection, items: Sequence[Sighting], window: timedelta
) -> dict[str, list[Member]]:
    """For each item, the stored articles sharing one of its keys: within ``window`` of it
    (the ``PER_KEY`` newest per key), or at any time for its canonical URL."""
    found: dict[str, dict[str, str]] = {}
    for item in items:
        hits: dict[str, str] = {}
        lo, hi = item.published - window, item.published + window
        for key in keys(item):
            if key.startswith("url:"):
                rows_ = connection.execute(_ANY_TIME, {"key": key})
            else:
                rows_ = connection.execute(_IN_WINDOW, {"key": key, "lo": lo, "hi": hi})
            hits.update({row.article_id: row.story_id for row in rows_})
        found[item.article_id] = hits
    seen = sightings(connection, {a for hits in found.values() for a in hits})
    story_ids = sorted({story for hits in found.values() for story in hits.values()})
    firsts = {
        row.id: row.first_published
        for chunk in chunks(story_ids)
        for row in connection.execute(
            select(stories.c.id, stories.c.first_published).where(stories.c.id.in_(chunk))
        )
    }
    return {
        item: [Member(seen[a], story, firsts.get(story)) for a, story in hits.items() if a in seen]
        for item, hits in found.items()
    }


def sightings(connection: Connection, ids: Iterable[str]) -> dict[str, Sighting]:
    """What clustering compares of each stored article among ``ids``."""
    columns = (
        articles.c.id,
        articles.c.source_id,
        articles.c.url,
        articles.c.published_at,
        articles.c.title,
        articles.c.summary,
    )
    wanted = list(ids)
    result: dict[str, Sighting] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        cited = studies.for_articles(connection, chunk)
        query = select(*columns).where(articles.c.id.in_(chunk))
        for row in connection.execute(query):
            result[row.id] = Sighting(
                article_id=row.id,
                source_id=row.source_id,
                url=row.url,
                published=row.published_at,
                title=row.title,
                lead=row.summary[:LEAD_CHARS],
                studies=tuple(s.key for s in cited.get(row.id, ())),
            )
    return result


def assign(
    connection: Connection,
    decided: Sequence[tuple[Assignment, Sighting]],
    now: datetime,
) -> None:
    """Store each decision: the article's story and keys; a new story, or the joined
    story's outlets (a new outlet sets ``updated_at`` to ``now``)."""
    if not decided:
        return
    # Every story named, founded ones too: an article re-clustered after its story_id was
    # cleared (by hand) must find its old story row and keys, not collide with them.
    named = {a.story_id for a, _ in decided}
    known = {
        row.id: row
        for chunk in chunks(sorted(named))
        for row in connection.execute(select(stories).where(stories.c.id.in_(chunk)))
    }
    state: dict[str, dict[str, Any]] = {
        story_id: {
            "first_published": row.first_published,
            "updated_at": row.updated_at,
            "sources": list(row.sources),
        }
        for story_id, row in known.items()
    }
    created: set[str] = set()
    for assignment, item in decided:
        current = state.get(assignment.story_id)
        if current is None:
            state[assignment.story_id] = {
                "first_published": item.published,
                "updated_at": None,
                "sources": [item.source_id],
            }
            created.add(assignment.story_id)
            continue
        current["first_published"] = min(current["first_published"], item.published)
        if item.source_id not in current["sources"]:
            current["sources"].append(item.source_id)
            current["updated_at"] = now
    if created:
        connection.execute(
            stories.insert(), [{"id": story_id, **state[story_id]} for story_id in sorted(created)]
        )
    for story_id in sorted(set(state) - created):
        connection.execute(
            update(stories).where(stories.c.id == story_id).values(**state[story_id])
        )
    key_rows = [
        {
            "key": key,
            "article_id": item.article_id,
            "story_id": assignment.story_id,
            "published_at": item.published,
        }
        for assignment, item in decided
        for key in keys(item)
    ]
    for chunk in chunks([item.article_id for _, item in decided]):
        connection.execute(story_keys.delete().where(story_keys.c.article_id.in_(chunk)))
    connection.execute(story_keys.insert(), key_rows)
    by_story: dict[str, list[str]] = {}
    for assignment, item in decided:
        by_story.setdefault(assignment.story_id, []).append(item.article_id)
    for story_id, ids in by_story.items():
        for chunk in chunks(ids):
            connection.execute(
                update(articles).where(articles.c.id.in_(chunk)).values(story_id=story_id)
            )


def refresh_first_published(connection: Connection, article_ids: Sequence[str]) -> None:
    """Set the stories of ``article_ids`` (edited articles) to their earliest member's
    publication: an edit may move an article's date, and a story is never published after
    its members (``storyscan`` relies on it)."""
    earliest = (
        select(func.min(articles.c.published_at))
        .where(articles.c.story_id == stories.c.id)
        .scalar_subquery()
    )
    for chunk in chunks(article_ids):
        edited = select(articles.c.story_id).where(articles.c.id.in_(chunk))
        connection.execute(
            update(stories).where(stories.c.id.in_(edited)).values(first_published=earliest)
        )


def story_ids(connection: Connection, ids: Sequence[str]) -> dict[str, str | None]:
    """The story of each stored article among ``ids`` (None: stored, not clustered yet)."""
    found: dict[str, str | None] = {}
    for chunk in chunks(list(ids)):
        query = select(articles.c.id, articles.c.story_id).where(articles.c.id.in_(chunk))
        found.update({row.id: row.story_id for row in connection.execute(query)})
    return found


def unclustered(connection: Connection, limit: int) -> tuple[Sighting, ...]:
    """The oldest articles that have no story yet, oldest first."""
    query = (
        select(articles.c.id)
        .where(articles.c.story_id.is_(None))
        .order_by(articles.c.published_at, articles.c.id)
        .limit(limit)
    )
    ids = [row.id for row in connection.execute(query)]
    seen = sightings(connection, ids)
    return tuple(seen[i] for i in ids)


class StoryStorage:
    """The story methods of ``Storage`` (each one transaction, errors as StorageError)."""

    engine: Engine

    @translated
    def story_candidates(
        self, items: Sequence[Sighting], window: timedelta
    ) -> Mapping[str, Sequence[Member]]:
        """Stored articles that may be the same story as each item (see ``candidates``)."""
        with self.engine.connect() as connection:
            return candidates(connection, items, window)

    @translated
    def story_ids(self, ids: Sequence[str]) -> dict[str, str | None]:
        """The story of each stored article among ``ids``."""
        with self.engine.connect() as connection:
            return story_ids(connection, ids)

    @translated
    def unclustered(self, limit: int) -> tuple[Sighting, ...]:
        """Up to ``limit`` of the oldest articles without a story."""
        with self.engine.connect() as connection:
            return unclustered(connection, limit)

    @translated
    def story_list(self) -> frozenset[str]:
        """Every story id (each is its founding article's id)."""
        with self.engine.connect() as connection:
            return frozenset(connection.execute(select(stories.c.id)).scalars())

    @translated
    def restore_story_ids(self, founders: Iterable[str]) -> int:
        """Give a story back the id it had: each story holding one of ``founders`` (old
        story ids, each its founding article's id) under another id is renamed to it, the
        earliest such founder first, unless a story has that id already. How many."""
        with self.engine.begin() as connection:
            return rebuild.restore(connection, founders)

    @translated
    def forget_stories(self) -> int:
        """Take every article out of its story and drop the stories (before clustering all
        of them again under new rules), one transaction; how many articles had one."""
        with self.engine.begin() as connection:
            return rebuild.forget(connection)

    @translated
    def record_stories(self, decided: Sequence[tuple[Assignment, Sighting]], now: datetime) -> None:
        """Store story decisions for already-stored articles (the rebuild), one transaction."""
        with self.engine.begin() as connection:
            assign(connection, decided, now)
            bump(connection, "data_version")
