"""The first page of a story feed, chosen by walking the selected articles newest first.

``storyfeeds.story_select`` walks the stories newest first (``ix_stories_first``) and probes
each for a member the filters select. That is cheap when most stories qualify, and costs
a walk over every newer story when few do: a rare topic's feed (4 % of stories) read about
25 times more rows than it returned, and a topic with two stories read them all.

A story is never published after its members (``stories.first_published`` is the earliest
member's ``published_at``). So walking the *selected articles* newest first (the same
index-driven scan as an article feed, ``queries.article_select``) and noting each one's
story, every story first published after the article reached cannot be missing a selected
member still to come: its members are all newer. Once ``limit`` such stories are seen, they
are the page, in the same order ``story_select`` gives (first published, then id, newest
first). The walk reads about as many articles as the page has stories, for any topic.

What it does not do: pages after the first (a cursor): a story far down can have members
at the top, so the walk would start from the newest article every time; those pages keep
``story_select``'s shape, as do feeds without a selective filter (``selective``). Nor the
fallback for unclustered articles (``grouped_select``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Connection, Select, bindparam, select

from feeds.models import ArticleQuery
from feeds.storage import pages, queries
from feeds.storage.prepared import listed, prepared
from feeds.storage.schema import articles, stories

SCAN = 200  # most articles read in one step of the walk


def _placed(names: Sequence[str]) -> Callable[[], Select[Any]]:
    """The stories of the articles bound as ``names`` (``prepared.listed``), and when each
    was first published."""

    def build() -> Select[Any]:
        ids: list[BindParameter[str]] = [bindparam(name) for name in names]
        of_articles = select(articles.c.story_id).where(articles.c.id.in_(ids))
        return select(stories.c.id, stories.c.first_published).where(
            stories.c.id.in_(of_articles.scalar_subquery())
        )

    return build


class Chosen(NamedTuple):
    """A story on the page and its position (as ``story_select``'s rows)."""

    story: str
    first: datetime


def selective(query: ArticleQuery) -> bool:
    """Whether ``query`` may leave out most stories, so that walking its articles beats
    walking the stories: a topic, text, source or study filter. Without one nearly every
    story qualifies and the stories index gives the page at once (0.26 ms against 2.5 ms
    for the walk on 50,000 articles)."""
    return bool(query.topics or query.text or query.sources or query.studies)


def first_page(connection: Connection, query: ArticleQuery, dialect: str) -> list[Chosen]:
    """The stories of ``query``'s first page (``query.before`` must be None), newest first."""
    seen: dict[str, datetime] = {}
    # Most stories have one article: a first step a little longer than the page usually
    # ends the walk; each further step reads twice as many, up to SCAN.
    step = replace(query, stories=False, before=None, limit=min(SCAN, query.limit + 10))
    while True:
        found = _walk(connection, step, dialect)
        if found:
            # Compiled once per padded number of ids, run on the DB-API cursor (``prepared``).
            names, values = listed("id", [row[0] for row in found])
            placed = prepared(connection, ("placed", len(names)), _placed(names))
            instant = pages.instant(dialect)
            seen.update({story: instant(first) for story, first in placed.rows(connection, values)})
        ranked = sorted(
            (Chosen(s, first) for s, first in seen.items()),
            key=lambda chosen: (chosen.first, chosen.story),
            reverse=True,
        )
        if len(found) < step.limit:  # every selected article read: every story is known
            return ranked[: query.limit]
        reached = found[-1][1]
        # Stories first published after ``reached`` have no selected member left unread.
        complete = [chosen for chosen in ranked if chosen.first > reached]
        if len(complete) >= query.limit:
            return complete[: query.limit]
        step = replace(step, before=(reached, found[-1][0]), limit=min(SCAN, step.limit * 2))


def _walk(connection: Connection, step: ArticleQuery, dialect: str) -> list[Any]:
    """The (id, published_at) of the articles ``step`` selects, newest first: the article
    feed's statement for that query shape, compiled once (``prepared``)."""
    values = queries.parameters(step, dialect, None)
    statement = prepared(
        connection,
        ("walk", queries.shape(step, values)),
        lambda: queries.article_select(step, dialect).with_only_columns(
            articles.c.id, articles.c.published_at
        ),
    )
    instant = pages.instant(dialect)  # the driver's values, not the column type's
    return [(row[0], instant(row[1])) for row in statement.rows(connection, values)]
