"""The read path behind every feed, page and API call: rows into frozen ``Article`` values.

A page of 50 articles costs the database well under a millisecond (docs/performance.md,
"Scale"); turning the rows into typed values with their topics and study ids used to cost
four times that. This module keeps that part small:

- the articles are selected with ``columns(dialect)`` (only what ``Article`` holds), JSON
  lists read as text; a page's are joined into one array and decoded in one ``json.loads``
  call (likewise the tags' evidence), instead of one call per column per row;
- the datetimes skip the ``UTCDateTime`` decorator's per-value Python wrapper: on SQLite
  the stored text is parsed straight into an aware datetime, on PostgreSQL psycopg's value
  gets one ``_utc`` call;
- rows are unpacked as tuples, not read through mappings, and fetched all at once;
- a page's topic tags and study ids come back in one round trip (``UNION ALL`` of the two
  tables), not two, compiled once (``prepared``) and run on the DB-API cursor;
- ``Article`` and ``StoryMember`` are built by ``feeds.frozen.constructor``'s generated
  constructors (a sixth of the cost of ``__init__``: ``feeds.frozen.making``), ``TopicTag``
  and ``Match`` the same way written out inside a generated loop (``_tag_adder``), without
  a call per value.

It also reads a story's members (``members_of``): the same columns, and ``StoryMember``
values of only what a story lists beside its lead.

It does not choose which articles: ``feeds.storage.queries`` builds that statement, on
``columns(dialect)``. It returns exactly what ``rows.article`` plus ``topics.for_articles``
and ``studies.for_articles`` return (tests/test_pages.py holds it to that).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Connection,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    Text,
    any_,
    bindparam,
    cast,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from feeds.frozen import constructor, making
from feeds.identifiers import from_key
from feeds.models import Article, Enclosure, Match, StoryMember, StudyId, TopicTag
from feeds.storage.prepared import prepared
from feeds.storage.schema import article_studies, article_topics, articles

_CHUNK = 500  # ids per IN (...) list; the union lists them twice: well under SQLite's bound


def _instant(column: Any) -> Any:
    return type_coerce(column, DateTime(timezone=True)).label(column.name)


def _instant_text(column: Any) -> Any:
    # SQLite: the stored text itself (naive UTC, as UTCDateTime writes it), parsed by
    # ``_from_sqlite``; SQLAlchemy would parse it naive and UTCDateTime then ``replace`` the
    # zone, two datetimes per value and five times the cost.
    return type_coerce(column, String).label(column.name)


def _text(column: Any) -> Any:
    # CAST, not only a SQLAlchemy type: psycopg would otherwise decode the json itself.
    return cast(column, Text).label(column.name)


def _columns(instant: Callable[[Any], Any]) -> tuple[Any, ...]:
    # The order ``_build`` reads them in.
    return (
        articles.c.id,
        articles.c.source_id,
        articles.c.entry_id,
        articles.c.url,
        articles.c.title,
        articles.c.summary,
        articles.c.content_html,
        instant(articles.c.published_at),
        instant(articles.c.updated_at),
        instant(articles.c.first_seen_at),
        _text(articles.c.authors),
        _text(articles.c.categories),
        _text(articles.c.enclosures),
        _text(articles.c.dois),
        articles.c.content_hash,
    )


_SQLITE_COLUMNS = _columns(_instant_text)
_COLUMNS = _columns(_instant)


def columns(dialect: str) -> tuple[Any, ...]:
    """What to select for ``read`` on ``dialect``: the columns an ``Article`` is built from."""
    return _SQLITE_COLUMNS if dialect == "sqlite" else _COLUMNS


_LISTS = slice(10, 14)  # the four JSON lists in ``columns``
_DOIS = 13


def _annotations(wanted: Callable[[Any], ColumnElement[bool]]) -> CompoundSelect[Any]:
    """Tags (kind 0, name = slug) and study ids (kind 1, name = ``StudyId.key``) of the
    articles ``wanted`` selects, one result."""
    return union_all(
        select(
            article_topics.c.article_id,
            literal(0, Integer).label("kind"),
            type_coerce(article_topics.c.topic, Text).label("name"),
            article_topics.c.score,
            cast(article_topics.c.matches, Text).label("matches"),
            literal(0, Integer).label("position"),
        ).where(wanted(article_topics.c.article_id)),
        select(
            article_studies.c.article_id,
            literal(1, Integer),
            article_studies.c.study,
            null().cast(Float),
            null().cast(Text),
            article_studies.c.position,
        ).where(wanted(article_studies.c.article_id)),
    ).order_by(
        # Tags: highest score first, equal scores by slug, so every database lists them
        # alike; study ids in order of first appearance. Global orders: each article's is a
        # subsequence. (Tags all have position 0 and studies no score: each kind sorts by
        # its own keys.)
        literal_column("kind"),
        literal_column("score").desc(),
        literal_column("position"),
        literal_column("name"),
    )


_ID_ARRAY: BindParameter[Any] = bindparam("ids", type_=ARRAY(Text))
# SQLite: IN (?, ?, ...), one mark per id. PostgreSQL: = ANY(%(ids)s), one array parameter:
# the same short SQL text for any number of ids, which psycopg caches (it re-parses a query
# text over 4 KB, as IN with 100 named marks is, on every execution).
_ANNOTATIONS_PG = _annotations(lambda column: column == any_(_ID_ARRAY))
_ID_NAMES = tuple(f"id_{n}" for n in range(_CHUNK))  # SQLite: each id its own mark (``_listing``)


def _tag_adder() -> Callable[[Sequence[Sequence[Any]], list[Any], dict[str, Any]], None]:
    """``add(rows, evidence, tags)``: for each tag row of ``_annotations`` and its decoded
    evidence, a ``TopicTag`` with its ``Match``es appended to ``tags[article_id]`` (a
    tuple). Generated, with each value's construction written out in the loop: a call per
    ``Match`` and ``TopicTag`` (some 150-300 a page) cost a fifth of building them."""
    scope: dict[str, Any] = {}
    match = making(
        Match, "match", ["name", "term", "rule", "field", "start", "end"], scope, " " * 12
    )
    tag = making(TopicTag, "tag", ["name", "score", "tuple(matches)"], scope, " " * 8)
    exec(
        "def add(rows, evidence, tags):\n"
        "    for (article, _k, name, score, _m, _p), found in zip(rows, evidence, strict=True):\n"
        "        matches = []\n"
        "        for term, rule, field, start, end in found:\n"
        f"{match}"
        "            matches.append(match)\n"
        f"{tag}"
        "        held = tags.get(article)\n"
        "        tags[article] = (tag,) if held is None else (*held, tag)\n",
        scope,
    )
    add: Callable[[Sequence[Sequence[Any]], list[Any], dict[str, Any]], None] = scope["add"]
    return add


_new_article = constructor(Article)
_new_tag = constructor(TopicTag)
_new_match = constructor(Match)
_new_member = constructor(StoryMember)
_add_tags = _tag_adder()


def read(connection: Connection, statement: Select[Any]) -> tuple[Article, ...]:
    """The articles ``statement`` (a select of ``columns(dialect)``) finds, with their
    topics and study ids, in the statement's order."""
    return articles_of(connection, connection.execute(statement).all())


def articles_of(connection: Connection, found: Sequence[Sequence[Any]]) -> tuple[Article, ...]:
    """An ``Article`` of each row (rows that begin with ``columns(dialect)``; values after
    those are not read), with its topics and study ids (one more round trip), in order."""
    tags, cited = tags_and_studies(connection, [row[0] for row in found])
    # Each row's four JSON lists joined into one array, decoded with the page's in one call.
    lists = _decoded([",".join(row[_LISTS]) for row in found])
    if connection.dialect.name != "sqlite":
        return _build(found, lists, _utc, tags, cited)
    try:
        return _build(found, lists, _from_utc_text, tags, cited)
    except ValueError:  # a value stored with its own offset (not by UTCDateTime): one by one
        return _build(found, lists, _from_sqlite, tags, cited)


def members_of(dialect: str, found: Sequence[Sequence[Any]]) -> tuple[StoryMember, ...]:
    """A ``StoryMember`` of each row (rows that begin with ``columns(dialect)``), in order:
    no round trip."""
    instant = _from_sqlite if dialect == "sqlite" else _utc
    new = _new_member
    return tuple(
        [
            new(row[0], row[1], row[3], row[4], instant(row[7]), tuple(dois))
            for row, dois in zip(found, _decoded([row[_DOIS] for row in found]), strict=True)
        ]
    )


def tags_and_studies(
    connection: Connection, ids: Sequence[str]
) -> tuple[dict[str, tuple[TopicTag, ...]], dict[str, tuple[StudyId, ...]]]:
    """Each article's stored topic tags and study ids (articles without any are absent)."""
    tags: dict[str, tuple[TopicTag, ...]] = {}
    cited: dict[str, tuple[StudyId, ...]] = {}
    sqlite = connection.dialect.name == "sqlite"
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        if sqlite:  # one statement per number of ids, each id its own mark
            names = _ID_NAMES[: len(chunk)]
            statement = prepared(connection, ("annotations", len(chunk)), _listing(names))
            result = statement.rows(connection, dict(zip(names, chunk, strict=True)))
        else:
            statement = prepared(connection, "annotations", lambda: _ANNOTATIONS_PG)
            result = statement.rows(connection, {"ids": chunk})
        # The tags come first (the statement orders by kind), each with its evidence.
        evidence = _decoded([row[4] for row in result if row[1] == 0])
        tagged = len(evidence)
        _add_tags(result[:tagged], evidence, tags)
        for article_id, _kind, name, *_rest in result[tagged:]:
            if (study := from_key(name)) is not None:  # a key no longer canonical: skip
                held_ids = cited.get(article_id, ())
                cited[article_id] = (*held_ids, study)
    return tags, cited


def _listing(names: Sequence[str]) -> Callable[[], CompoundSelect[Any]]:
    """``_annotations`` of the ids bound as ``names`` (for ``prepared``)."""

    def build() -> CompoundSelect[Any]:
        ids: list[BindParameter[str]] = [bindparam(name) for name in names]
        return _annotations(lambda column: column.in_(ids))

    return build


def _build(
    found: Sequence[Sequence[Any]],
    lists: list[Any],
    instant: Callable[[Any], datetime],
    tags: dict[str, tuple[TopicTag, ...]],
    cited: dict[str, tuple[StudyId, ...]],
) -> tuple[Article, ...]:
    """The ``Article`` of each row, ``lists`` the rows' JSON lists decoded (four a row, in
    order), ``instant`` how to read its datetimes: one comprehension."""
    new, tags_of, cited_of = _new_article, tags.get, cited.get
    each = iter(lists)  # four lists a row
    return tuple(
        [
            new(  # Article's fields, in order
                row[0],  # id
                row[1],  # source_id
                row[2],  # entry_id
                row[3],  # url
                row[4],  # title
                row[5],  # summary
                row[6],  # content_html
                instant(row[7]),  # published
                None if row[8] is None else instant(row[8]),  # updated
                instant(row[9]),  # first_seen
                tuple(authors),
                tuple(categories),
                tuple([Enclosure(u, kind, length) for u, kind, length in enclosures])
                if enclosures
                else (),
                tuple(dois),
                row[14],  # content_hash
                tags_of(row[0], ()),
                cited_of(row[0], ()),
            )
            for row, authors, categories, enclosures, dois in zip(
                found, each, each, each, each, strict=True
            )
        ]
    )


def _decoded(values: list[str]) -> list[Any]:
    """Each JSON text in ``values``, decoded: one ``json.loads`` of them joined into one
    array, as the decoder's per-call cost, paid per value, was most of its time."""
    return json.loads("[" + ",".join(values) + "]") if values else []


def instant(dialect: str) -> Callable[[Any], datetime]:
    """How to read a datetime column's value as the DB-API driver of ``dialect`` returns it
    (what ``UTCDateTime`` would give, without SQLAlchemy's result processing)."""
    return _from_sqlite if dialect == "sqlite" else _utc


def _from_sqlite(value: str) -> datetime:
    # "2026-11-24 11:00:00.123456" is naive UTC; with the offset written out, fromisoformat
    # returns it aware, with the ``UTC`` singleton as its zone, in one step. A value that
    # carries its own offset (not written by UTCDateTime) is read as SQLAlchemy would.
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:
        return _utc(datetime.fromisoformat(value))


_UTC_SUFFIX = "+00:00"


def _from_utc_text(value: str) -> datetime:
    # As _from_sqlite for a value UTCDateTime wrote (no offset of its own); raises
    # ValueError for any other, for ``articles_of`` to read the page with _from_sqlite.
    return datetime.fromisoformat(value + _UTC_SUFFIX)


def _utc(value: datetime) -> datetime:
    # As UTCDateTime.process_result_value: SQLite gives naive UTC, PostgreSQL the session's zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
