"""Full-text search, the one dialect-specific part of article queries.

``q=`` means: every word must occur, as a whole word, in the title or summary; case and
accents do not matter; no stemming, no prefixes, no phrases, no operators. User text is
never passed to the database's query language as is: it is split into words (runs of
``\\w``) and each word is quoted or bound, so no input can be a syntax error (a 500) or an
injection. Both databases index the same words, so the same ``q=`` finds the same articles
(tests/test_queries.py runs on both):

- SQLite: the FTS5 table ``articles_fts`` (migration 0003), kept in sync by triggers,
  tokenizer ``unicode61 remove_diacritics 2``; the words are ANDed quoted strings.
- PostgreSQL: the generated column ``search_vector``, ``to_tsvector('simple',
  feeds_search_text(title, summary))`` with a GIN index (migration 0009: unaccent,
  non-alphanumerics to spaces; not in ``schema``, as SQLite has no such column); the words
  are ANDed by ``plainto_tsquery('simple', …)`` of the same function, so both sides fold
  alike.

Whether the matches drive a feed's scan or filter a walk over another index is decided in
``feeds.storage.queries`` (``FEW_MATCHES``), from ``count_matches``; ``matches`` writes the
condition for either role. It does not rank, highlight or snippet.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    text,
)

from feeds.errors import StorageError
from feeds.storage.prepared import prepared

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16
_SIMPLE: ColumnElement[str] = literal_column("'simple'")  # the text search configuration
_VECTOR: ColumnElement[Any] = literal_column("articles.search_vector")  # PostgreSQL only


def words(query: str) -> list[str]:
    """The searchable words of a user's query, at most ``MAX_WORDS``."""
    return _WORD.findall(query)[:MAX_WORDS]


def bound_text(dialect: str, query: str) -> str | None:
    """What ``matches`` binds for the user's ``query``: the quoted words ANDed in FTS5's
    syntax (SQLite), the words (PostgreSQL); None when it has no words."""
    terms = words(query)
    if not terms:
        return None
    if dialect == "sqlite":
        return " ".join('"' + term.replace('"', '""') + '"' for term in terms)
    return " ".join(terms)


def matches(
    dialect: str, bound: ColumnElement[str] | None, filters: bool = False
) -> ColumnElement[bool]:
    """A WHERE condition: the article contains every word of the query whose
    ``bound_text`` is bound as ``bound`` (None: a query without words, every article).
    ``filters``: the matches are many and another index drives the scan; on SQLite the
    condition is then written so that its planner cannot start from them (it otherwise
    does, reading and sorting every match: 20,000 for a word on 2 % of a million)."""
    if bound is None:
        return literal_column("1") == literal_column("1")
    if dialect == "sqlite":
        # The unary plus makes the rowid an expression: no lookup by rowid from the list.
        rowid: ColumnElement[Any] = literal_column(
            "+articles.rowid" if filters else "articles.rowid"
        )
        return rowid.in_(_fts_rowids(bound))
    if dialect == "postgresql":
        return _VECTOR.op("@@", return_type=Boolean)(_tsquery(bound))
    raise StorageError(f"search: no full-text search for the {dialect} database")


def count_matches(connection: Connection, dialect: str, bound: str, most: int) -> int:
    """How many articles match the query whose ``bound_text`` is ``bound``, up to ``most``.
    SQLite: counted, reading at most ``most`` entries of the full-text index. PostgreSQL:
    the planner's estimate, from the statistics ANALYZE keeps of the column's words (exact
    for common words, low for rare ones): counting would visit a table page per match, up
    to 2,000 of them (50-100 ms at 1M articles), where planning costs a fraction of a ms."""
    if dialect == "sqlite":
        found = _fts_rowids(bindparam("text", bound)).limit(most).subquery()
        return int(connection.execute(select(func.count()).select_from(found)).scalar_one())
    if dialect == "postgresql":
        plan = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM articles WHERE search_vector @@ "
            "plainto_tsquery('simple', feeds_search_text(%(text)s, ''))",
            {"text": bound},
        ).scalar_one()
        if isinstance(plan, str):  # JSON decoded by the driver, or not
            plan = json.loads(plan)
        return min(int(plan[0]["Plan"]["Plan Rows"]), most)
    raise StorageError(f"search: no full-text search for the {dialect} database")


def first_rowids(connection: Connection, bound: str, most: int) -> list[int]:
    """SQLite: the rowids of the first ``most`` articles FTS5 finds for ``bound`` (as
    ``matches``), in rowid order. Fewer than ``most``: every match, for ``among``."""
    statement = prepared(
        connection, "fts-rowids", lambda: _fts_rowids(bindparam("text")).limit(bindparam("most"))
    )
    return [row[0] for row in statement.rows(connection, {"text": bound, "most": most})]


def among(found: ColumnElement[str]) -> ColumnElement[bool]:
    """SQLite: the article's rowid is in the JSON array bound as ``found``: the matches
    ``first_rowids`` read, so that FTS5 does not intersect the words' lists a second time
    (half a ms for two words on 2 % and 0.8 % of a million articles)."""
    listed = func.json_each(found).table_valued("value")
    return literal_column("articles.rowid").in_(select(listed.c.value))


def _fts_rowids(bound: ColumnElement[str]) -> Select[Any]:
    """SQLite: the rowids of the articles FTS5 finds for ``bound``, in rowid order."""
    return (
        select(literal_column("rowid"))
        .select_from(text("articles_fts"))
        .where(literal_column("articles_fts").op("MATCH", return_type=Boolean)(bound))
    )


def _tsquery(bound: ColumnElement[str]) -> ColumnElement[Any]:
    """PostgreSQL: the words of ``bound`` ANDed, folded as ``search_vector`` is."""
    return func.plainto_tsquery(_SIMPLE, func.feeds_search_text(bound, literal("")))
