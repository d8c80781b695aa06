"""What a feed, page or API call asks storage for, and the stories it gets back.

``ArticleQuery`` is built from a query string by ``feeds.web.params`` and turned into SQL by
``feeds.storage.queries``; ``Story`` and ``StoryMember`` are what a feed collapsed by story
shows (``feeds.storage.storyfeeds``). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feeds.models.articles import Article


@dataclass(frozen=True, slots=True)
class ArticleQuery:
    """Which articles a feed or API page shows: the same filters everywhere."""

    topics: tuple[str, ...] = ()  # articles in any of these topics (all of them: match_all)
    match_all: bool = False  # require every topic in ``topics``
    exclude: tuple[str, ...] = ()  # leave out articles in any of these topics
    text: str | None = None  # full-text query (words, all required)
    sources: tuple[str, ...] = ()  # only these source ids
    since: datetime | None = None  # published at or after (UTC)
    until: datetime | None = None  # published before (UTC, exclusive)
    min_score: float | None = None  # topic tags at least this confident
    limit: int = 50  # page size
    before: tuple[datetime, str] | None = None  # cursor: after this (published, id) position
    studies: tuple[str, ...] = ()  # only articles citing one of these StudyId keys
    stories: bool = False  # one result per story cluster (collapse=stories), not per article


@dataclass(frozen=True, slots=True)
class StoryMember:
    """An article of a story as the story lists it beside its lead: what an "also reported
    by" line and the story's DOIs need, not the article's text, tags or study ids."""

    id: str  # the article's id
    source_id: str  # the outlet that published it
    url: str | None  # canonical absolute link
    title: str  # plain text, no markup
    published: datetime  # effective date (UTC), as Article.published
    dois: tuple[str, ...]  # DOIs found in it, lower-case, as Article.dois


@dataclass(frozen=True, slots=True)
class Story:
    """A story cluster as a feed shows it: every article reporting the same story, and in
    full the ones that may stand for it (``feeds.stories.lead_article`` picks among them)."""

    id: str  # stable story id: the founding article's id
    first_published: datetime  # the story's first publication: its position in a feed
    updated: datetime | None  # when the last new outlet joined; None while it has one outlet
    articles: tuple[StoryMember, ...]  # every member, oldest first
    # The members the query's filters selected (every member if none was), oldest first,
    # in full with topics and study ids: only these may lead the story.
    leads: tuple[Article, ...]
