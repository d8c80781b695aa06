"""Story clusters in the database: candidate retrieval, assignment, and reading feeds by story.

Candidates come from ``story_keys`` through its (key, published_at) index, bounded by the
time window and by ``CANDIDATES_PER_ARTICLE``, so finding them costs the same whatever the
number of stored articles. The decision itself is ``feeds.stories`` (pure); this module only
reads and writes. ``StoryStorage`` is mixed into ``Storage``; the functions take an open
connection and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, bindparam, func, or_, select, true, update

from feeds.models import ArticleQuery, Story, StoryMember
from feeds.storage import pages, queries, rebuild, storyscan, studies
from feeds.storage.common import bump, translated
from feeds.storage.prepared import listed, prepared
from feeds.storage.schema import UTCDateTime, articles, stories, story_keys
from feeds.stories import LEAD_CHARS, Assignment, Member, Sighting, keys

PER_KEY = 25  # stored articles read per key of a new article: the newest win when more match
_CHUNK = 500


def story_key() -> Any:
    """An article's story, or the article itself while it has none."""
    return func.coalesce(articles.c.story_id, articles.c.id)


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
        for chunk in _chunks(story_ids)
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
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
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
        for chunk in _chunks(sorted(named))
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
    for chunk in _chunks([item.article_id for _, item in decided]):
        connection.execute(story_keys.delete().where(story_keys.c.article_id.in_(chunk)))
    connection.execute(story_keys.insert(), key_rows)
    by_story: dict[str, list[str]] = {}
    for assignment, item in decided:
        by_story.setdefault(assignment.story_id, []).append(item.article_id)
    for story_id, ids in by_story.items():
        for chunk in _chunks(ids):
            connection.execute(
                update(articles).where(articles.c.id.in_(chunk)).values(story_id=story_id)
            )


# Whether any article is still unclustered (then stories are read by ``grouped_select``).
_PENDING = select(articles.c.id).where(articles.c.story_id.is_(None)).limit(1)


def refresh_first_published(connection: Connection, article_ids: Sequence[str]) -> None:
    """Set the stories of ``article_ids`` (edited articles) to their earliest member's
    publication: an edit may move an article's date, and a story is never published after
    its members (``storyscan`` relies on it)."""
    earliest = (
        select(func.min(articles.c.published_at))
        .where(articles.c.story_id == stories.c.id)
        .scalar_subquery()
    )
    for chunk in _chunks(article_ids):
        edited = select(articles.c.story_id).where(articles.c.id.in_(chunk))
        connection.execute(
            update(stories).where(stories.c.id.in_(edited)).values(first_published=earliest)
        )


def story_select(query: ArticleQuery, dialect: str) -> Any:
    """(story, first) of the stories ``query`` selects, newest first, when every article
    has a story: the distinct stories of the selected articles, ordered by the story's
    first publication (``stories.first_published``, indexed). SQLite's planner drives it
    from whichever side is selective: the full-text or source filter's articles, or the
    stories index probed through ``ix_articles_story``; either way it reads about as many
    rows as it returns plus what the filters match, not every stored article."""
    conditions = queries.conditions(replace(query, before=None), dialect)
    if query.before is not None:
        published, story_id = query.before
        conditions.append(
            or_(
                stories.c.first_published < published,
                and_(stories.c.first_published == published, stories.c.id < story_id),
            )
        )
    return (
        # Only the ordered index's columns: with another (stories.updated_at) in the DISTINCT,
        # PostgreSQL sorts every selected story instead of walking ix_stories_first.
        select(stories.c.id.label("story"), stories.c.first_published.label("first"))
        .select_from(articles.join(stories, articles.c.story_id == stories.c.id))
        .where(*conditions)
        .distinct()
        .order_by(stories.c.first_published.desc(), stories.c.id.desc())
        .limit(query.limit)
    )


def grouped_select(query: ArticleQuery, dialect: str) -> Any:
    """``story_select`` while some articles have no story yet (before ``feeds cluster`` has
    run on an upgraded database): a GROUP BY over every selected article, with each
    unclustered article a story of its own, positioned by its first selected article. It
    reads every selected article, so it is only the fallback."""
    group = story_key()
    first = func.min(articles.c.published_at)
    having = []
    if query.before is not None:
        published, story_id = query.before
        having.append(or_(first < published, and_(first == published, group < story_id)))
    return (
        select(group.label("story"), first.label("first"))
        .where(*queries.conditions(replace(query, before=None), dialect))
        .group_by(group)
        .having(*having)
        .order_by(first.desc(), group.desc())
        .limit(query.limit)
    )


def read_stories(connection: Connection, query: ArticleQuery, dialect: str) -> tuple[Story, ...]:
    """The stories ``query`` selects, each with every member and, in full, the members that
    may lead it. Four round trips: whether any article is unclustered, the stories, their
    members (with the story's ``updated_at`` and whether the filters select each member),
    the selected members' topics and study ids (``pages``). Members the filters did not
    select are read as ``StoryMember`` only: they cannot lead, and a story lists only their
    outlet, link, title and DOIs. The statements but the story select of later pages and of
    the fallback are compiled once per shape and run on the DB-API cursor (``prepared``)."""
    pending = bool(prepared(connection, "pending", lambda: _PENDING).rows(connection, {}))
    chosen: Sequence[Any]
    if pending:
        chosen = connection.execute(grouped_select(query, dialect)).all()
    elif query.before is None and storyscan.selective(query):
        chosen = storyscan.first_page(connection, query, dialect)
    else:
        chosen = connection.execute(story_select(query, dialect)).all()
    if not chosen:
        return ()
    ids = [row.story for row in chosen]
    filtering = replace(query, before=None)
    values = queries.condition_values(filtering, dialect)
    shape = ("members", pending, queries.shape(filtering, values))
    found: list[Any] = []
    for chunk in _chunks(ids):
        names, listed_ids = listed("story", chunk)
        members_select = prepared(
            connection, (*shape, len(names)), _members(filtering, dialect, pending, names)
        )
        found += members_select.rows(connection, {**values, **listed_ids})
    members = dict(zip((row[0] for row in found), pages.members_of(dialect, found), strict=True))
    by_story: dict[str, list[Any]] = {story: [] for story in ids}
    for row in found:
        by_story[row[-2]].append(row)
    # A story with no selected member (rows changed between the statements) is led by any.
    leading: list[Any] = []
    for rows_ in by_story.values():
        leading += [row for row in rows_ if row[-1]] or rows_
    full = {a.id: a for a in pages.articles_of(connection, leading)}
    instant = pages.instant(dialect)  # the driver's values, not the column type's
    updated = {row[-2]: None if row[-3] is None else instant(row[-3]) for row in found}
    result = []
    for row in chosen:
        order = sorted((members[r[0]] for r in by_story[row.story]), key=_position)
        result.append(
            Story(
                id=row.story,
                first_published=row.first,
                updated=updated.get(row.story),
                articles=tuple(order),
                leads=tuple(full[m.id] for m in order if m.id in full),
            )
        )
    return tuple(result)


def _members(
    query: ArticleQuery, dialect: str, pending: bool, names: Sequence[str]
) -> Callable[[], Select[Any]]:
    """Every member of the stories bound as ``names`` (``prepared.listed``): its article's
    columns (``pages.columns``), the story's ``updated_at``, its story and whether
    ``query``'s filters select it (bound as ``queries.condition_values``)."""

    def build() -> Select[Any]:
        # Members by the story_id index; only the fallback needs coalesce (no index use).
        group = story_key() if pending else articles.c.story_id
        filters = queries.conditions(query, dialect)
        selected = and_(*filters) if filters else true()
        return (
            select(
                *pages.columns(dialect),
                stories.c.updated_at,  # the story's, on every member
                group.label("story_key"),
                selected.label("selected"),
            )
            # Outer: the fallback's stories may have no row yet (unclustered articles).
            .select_from(articles.outerjoin(stories, stories.c.id == group))
            .where(group.in_([bindparam(name) for name in names]))
        )

    return build


def _position(member: StoryMember) -> tuple[datetime, str]:
    return member.published, member.id


def story_ids(connection: Connection, ids: Sequence[str]) -> dict[str, str | None]:
    """The story of each stored article among ``ids`` (None: stored, not clustered yet)."""
    found: dict[str, str | None] = {}
    for chunk in _chunks(list(ids)):
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


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


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

    @translated
    def query_stories(self, query: ArticleQuery) -> tuple[Story, ...]:
        """The stories ``query`` selects, newest first, with every member article."""
        with self.engine.connect() as connection:
            return read_stories(connection, query, self.engine.dialect.name)
