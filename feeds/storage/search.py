"""Full-text search, the one dialect-specific part of article queries.

``q=`` means: every word must occur in the title or summary (case- and accent-insensitive).
User text is never passed to the database's query language as is: it is split into words
and each word is quoted, so no input can be a syntax error (a 500) or an injection.

- SQLite: the FTS5 table ``articles_fts`` (migration 0003), kept in sync by triggers.
- Other databases: a portable fallback, one case-insensitive LIKE per word (correct, slower;
  PostgreSQL's tsvector index arrives with the scale-out work).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, or_, select, text

from feeds.storage.schema import articles

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16


def words(query: str) -> list[str]:
    """The searchable words of a user's query, at most ``MAX_WORDS``."""
    return _WORD.findall(query)[:MAX_WORDS]


def matches(dialect: str, query: str) -> ColumnElement[bool]:
    """A WHERE condition: the article contains every word of ``query``."""
    terms = words(query)
    if not terms:
        return literal_column("1") == literal_column("1")
    if dialect == "sqlite":
        fts = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rowids: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text("articles_fts"))
            .where(text("articles_fts MATCH :fts").bindparams(fts=fts))
        )
        return literal_column("articles.rowid").in_(rowids)
    likes = []
    for term in terms:
        pattern = "%" + term.replace("_", "\\_") + "%"  # \w includes LIKE's "_" wildcard
        likes.append(
            or_(
                articles.c.title.ilike(pattern, escape="\\"),
                articles.c.summary.ilike(pattern, escape="\\"),
            )
        )
    return and_(*likes)
