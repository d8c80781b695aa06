"""The article query behind every feed, page and API call: filters, order and cursor.

Order is newest first with ties broken by id, so pages are stable; the cursor is the
(published, id) of the last item seen, so a page never repeats or skips an article even
while new ones arrive (keyset pagination).

Shape, chosen for a million articles (bench/scale.py, docs/performance.md "Scale"):

- With one topic (or ``match=all``), the scan is driven by that topic's tag rows through
  the (topic, published_at, article_id) index: the newest 50 of a rare topic cost 50 index
  entries, not a walk over every article probing for tags. For ``match=all`` the driver is
  the rarest topic (``rarest``, from a 200-entry probe of each topic's index: a parent
  topic such as autoimmune has every lupus article and more); the others are EXISTS probes
  on the rows that come out.
- Otherwise articles are read newest first through (published_at, id), and topic filters
  are EXISTS probes (several topics "any of" would repeat an article in a join).
- A text query (``q=``) drives the scan when it matches few articles (fewer than
  ``FEW_MATCHES``, by a probe bounded by that number: ``search.first_rowids`` on SQLite,
  whose rowids the scan then reads, ``search.count_matches`` on PostgreSQL): its matches
  are read, filtered and sorted, and the ORDER BY is written
  so that no index can give the order (else a planner may walk the date index instead and
  probe every article for the words). With more matches the text is a filter on the walk
  above, written so that SQLite cannot start from the matches either: reading and sorting
  the 20,000 articles that contain a word on 2 % of a million cost 37-113 ms, walking
  lupus's newest tags until 50 contain the word 15 ms, and the walk stops at the page.
  Either way the cost is bounded: by ``FEW_MATCHES``, or (when the words are common) by
  how far the walk must read for a page, which is long only when the filters are each
  common and rare together (docs/performance.md, "1,000,000 articles, session 4").
- The cursor condition is written as ``published <= p AND (published < p OR (published = p
  AND id < i))``: the redundant first term is a plain range the index can start from; the
  OR alone makes both SQLite and PostgreSQL scan from the newest article.

Every value is a named bind parameter (``parameters``: ``driver``, ``topic_0``, ``since``,
``before_at``, ``limit``, ...), never rendered into the SQL, so the SQL text of a query
depends only on its shape (``shape``): ``Storage.query_articles`` compiles each shape once
(``feeds.storage.prepared``) and binds the values of every later query of that shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)

from feeds.models import ArticleQuery
from feeds.storage import pages, search, studies
from feeds.storage.schema import UTCDateTime, article_topics, articles

# How deep ``nth_newest`` looks into a topic's index to compare topics' recent frequency.
RARITY_PROBE = 200
# A text query with fewer matches drives the scan (reading them costs ~2 µs each on SQLite
# at 1M articles: 2,000 are ~4 ms); with more, a walk that stops at the page is cheaper.
FEW_MATCHES = 2_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The driving topic's tag rows, aliased so they are not correlated into the EXISTS probes;
# built once, not per query (an alias costs a column proxy per column).
_DRIVER = article_topics.alias("driver")


def nth_newest(topic: str) -> Select[Any]:
    """When the ``RARITY_PROBE``-th newest article of ``topic`` was published (no row when
    the topic has fewer): 200 entries of the topic index, however large the database."""
    tag = article_topics
    return (
        select(tag.c.published_at)
        .where(tag.c.topic == topic)
        .order_by(tag.c.published_at.desc(), tag.c.article_id.desc())
        .offset(RARITY_PROBE - 1)
        .limit(1)
    )


def rarest(nth_newest: Mapping[str, datetime | None]) -> str:
    """The topic with the fewest recent articles: fewer than ``RARITY_PROBE`` in all, or
    else the one whose ``RARITY_PROBE``-th newest article is the oldest. Ties: first given."""
    return min(nth_newest, key=lambda t: (nth_newest[t] is not None, nth_newest[t] or _EPOCH))


def parameters(
    query: ArticleQuery,
    dialect: str,
    driver: str | None = None,
    by_text: bool | None = None,
    found: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The values of the named bind parameters ``article_select`` (and ``conditions``)
    write for ``query``: all that differs between two queries of one shape (``shape``).
    ``driver``, ``by_text``, ``found``: as for ``article_select``."""
    values: dict[str, Any] = {}
    if by_text and query.text:
        driver = _NO_DRIVER  # the matches drive; every topic is a probe
    driving = _driver(query, driver)
    topics = query.topics
    if driving is not None:
        values["driver"] = driving
        topics = tuple(topic for topic in query.topics if topic != driving)
    values.update({f"topic_{n}": topic for n, topic in enumerate(topics)})
    if query.min_score is not None:
        values["min_score"] = query.min_score
    values.update({f"exclude_{n}": topic for n, topic in enumerate(query.exclude)})
    values.update({f"source_{n}": source for n, source in enumerate(query.sources)})
    values.update({f"study_{n}": study for n, study in enumerate(query.studies)})
    if query.since is not None:
        values["since"] = query.since
    if query.until is not None:
        values["until"] = query.until
    if query.text:
        if (bound := search.bound_text(dialect, query.text)) is not None:
            if found is not None:  # the matches, already read: no second full-text search
                values["found"] = json.dumps(list(found))
            else:
                values["text"] = bound
            if by_text is not None:  # not bound: they make the shape (``shape``)
                values["text_drives" if by_text else "text_filters"] = True
        else:
            values["no_words"] = True  # a search without words: every article (not bound)
    if query.before is not None:
        values["before_at"], values["before_id"] = query.before
    values["limit"] = query.limit
    return values


def shape(query: ArticleQuery, values: Mapping[str, Any]) -> tuple[Any, ...]:
    """What ``article_select``'s SQL text depends on besides the dialect and the driver:
    equal shapes, equal SQL, whatever the values (``values``: ``parameters(query, …)``)."""
    return (query.match_all, *values)


def article_select(
    query: ArticleQuery,
    dialect: str,
    driver: str | None = None,
    by_text: bool | None = None,
    found: Sequence[int] | None = None,
) -> Select[Any]:
    """SELECT the articles (``pages.columns``) for ``query``, ordered and limited, every
    value a named bind parameter (``parameters``). ``driver``: the topic whose tags drive
    the scan for ``match=all`` (default: the first; ``rarest`` picks well). ``by_text``:
    whether the text's matches drive the scan (True) or filter it (False); None leaves
    the choice to the database's planner (``search.count_matches`` tells which is cheaper).
    ``found`` (SQLite, with ``by_text``): the rowids of every match, read by
    ``search.first_rowids``, which the scan then starts from instead of searching again."""
    bind = _Binder(parameters(query, dialect, driver, by_text, found))
    conditions: list[ColumnElement[bool]] = []
    source: FromClause = articles
    published, article_id = articles.c.published_at, articles.c.id
    min_score = bind.optional("min_score")
    if "driver" in bind.values:
        tag = _DRIVER
        source = articles.join(
            tag, and_(tag.c.article_id == articles.c.id, tag.c.topic == bind("driver"))
        )
        published, article_id = tag.c.published_at, tag.c.article_id
        if min_score is not None:
            conditions.append(tag.c.score >= min_score)
        conditions += [_tagged([topic], min_score) for topic in bind.each("topic")]
    else:
        conditions += _topic_filters(query, bind)
    conditions += _other_filters(bind, dialect, published, article_id)
    order: ColumnElement[Any] = published
    if "text_drives" in bind.values:
        # The same order, as an expression no index gives: the matches are the scan.
        order = func.coalesce(published, published)
    return (
        select(*pages.columns(dialect))
        .select_from(source)
        .where(*conditions)
        .order_by(order.desc(), article_id.desc())
        .limit(bind("limit"))
    )


def conditions(query: ArticleQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``query``'s filters and cursor on ``articles`` alone (no
    driving topic): for queries that group the articles, such as story feeds."""
    bind = _Binder(parameters(query, dialect, driver=_NO_DRIVER))
    return _topic_filters(query, bind) + _other_filters(
        bind, dialect, articles.c.published_at, articles.c.id
    )


def condition_values(query: ArticleQuery, dialect: str) -> dict[str, Any]:
    """The values of the named bind parameters ``conditions(query, dialect)`` writes (and
    a few it does not: a statement ignores values it lacks)."""
    return parameters(query, dialect, driver=_NO_DRIVER)


_NO_DRIVER = ""  # ``parameters``' driver for ``conditions``: no topic drives


def _driver(query: ArticleQuery, driver: str | None) -> str | None:
    """The topic whose tag rows drive the scan, if one does."""
    if driver == _NO_DRIVER or not (query.topics and (query.match_all or len(query.topics) == 1)):
        return None
    return driver if driver in query.topics else query.topics[0]


class _Binder:
    """The named bind parameters of one statement, each carrying its value."""

    _TYPES: Mapping[str, Any] = {
        "since": UTCDateTime(),
        "until": UTCDateTime(),
        "before_at": UTCDateTime(),
        "limit": Integer(),
    }

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def __call__(self, name: str) -> BindParameter[Any]:
        return bindparam(name, self.values[name], type_=self._TYPES.get(name))

    def optional(self, name: str) -> BindParameter[Any] | None:
        return self(name) if name in self.values else None

    def each(self, prefix: str) -> list[BindParameter[Any]]:
        """``prefix_0``, ``prefix_1``, ... while they have values."""
        found: list[BindParameter[Any]] = []
        while (name := f"{prefix}_{len(found)}") in self.values:
            found.append(self(name))
        return found


def _topic_filters(query: ArticleQuery, bind: _Binder) -> list[ColumnElement[bool]]:
    topics, min_score = bind.each("topic"), bind.optional("min_score")
    if topics:
        if query.match_all:
            return [_tagged([topic], min_score) for topic in topics]
        return [_tagged(topics, min_score)]
    if min_score is not None:
        return [_tagged([], min_score)]
    return []


def _other_filters(
    bind: _Binder,
    dialect: str,
    published: ColumnElement[datetime],
    article_id: ColumnElement[str],
) -> list[ColumnElement[bool]]:
    """Every filter but the topics, and the cursor, on the scan's (published, id) columns."""
    conditions: list[ColumnElement[bool]] = []
    if exclude := bind.each("exclude"):
        conditions.append(~_tagged(exclude, None))
    if sources := bind.each("source"):
        conditions.append(articles.c.source_id.in_(sources))
    if cited := bind.each("study"):
        conditions.append(studies.citing(cited))
    if (since := bind.optional("since")) is not None:
        conditions.append(published >= since)
    if (until := bind.optional("until")) is not None:
        conditions.append(published < until)
    if "found" in bind.values:
        conditions.append(search.among(bind("found")))
    elif "text" in bind.values or "no_words" in bind.values:
        filters = "text_filters" in bind.values
        conditions.append(search.matches(dialect, bind.optional("text"), filters))
    if "before_at" in bind.values:
        at, before_id = bind("before_at"), bind("before_id")
        conditions.append(published <= at)
        conditions.append(or_(published < at, and_(published == at, article_id < before_id)))
    return conditions


def _tagged(
    topics: Sequence[ColumnElement[str]], min_score: ColumnElement[float] | None
) -> ColumnElement[bool]:
    """The article carries one of ``topics`` (any topic when empty), confidently enough."""
    condition = article_topics.c.article_id == articles.c.id
    if len(topics) == 1:
        condition = and_(condition, article_topics.c.topic == topics[0])
    elif topics:
        condition = and_(condition, article_topics.c.topic.in_(topics))
    if min_score is not None:
        condition = and_(condition, article_topics.c.score >= min_score)
    return exists().where(condition)
