"""Reading feeds by story: the stories a query selects, newest first, with their members.

A collapsed feed (``collapse=stories``) shows one item per story. ``read_stories`` picks the
stories (``story_select``, walked by ``storyscan`` for selective first pages, or
``grouped_select`` while some articles have no story yet) and reads their members and the
members that may lead them (``pages``). It only reads; assigning articles to stories is
``feeds.storage.stories``. ``StoryFeedStorage`` is mixed into ``Storage``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, bindparam, func, or_, select, true

from feeds.models import ArticleQuery, Story, StoryMember
from feeds.storage import pages, queries, storyscan
from feeds.storage.common import chunks, translated
from feeds.storage.prepared import listed, prepared
from feeds.storage.schema import articles, stories


def story_key() -> Any:
    """An article's story, or the article itself while it has none."""
    return func.coalesce(articles.c.story_id, articles.c.id)


# Whether any article is still unclustered (then stories are read by ``grouped_select``).
_PENDING = select(articles.c.id).where(articles.c.story_id.is_(None)).limit(1)


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
    for chunk in chunks(ids):
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


class StoryFeedStorage:
    """The story-reading method of ``Storage`` (one transaction, errors as StorageError)."""

    engine: Engine

    @translated
    def query_stories(self, query: ArticleQuery) -> tuple[Story, ...]:
        """The stories ``query`` selects, newest first, with every member article."""
        with self.engine.connect() as connection:
            return read_stories(connection, query, self.engine.dialect.name)
