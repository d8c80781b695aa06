"""Whole-table reads and writes for `feeds export` / `feeds import`, on any dialect.

Rows cross this boundary as plain dicts of JSON-ready values (instants as ISO 8601 text),
column by column from the schema, so a column added by a later migration is carried without
a change here. Reading streams (``yield_per``), so an export of a million articles holds one
batch in memory. The file format and its checks live in ``feeds.transfer``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select

from feeds.storage.schema import (
    UTCDateTime,
    article_studies,
    article_topics,
    articles,
    mesh_descriptors,
    mesh_terms,
    meta,
    sources,
    stories,
    story_keys,
)

# Parents before children, so foreign keys hold at every insert.
TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        sources,
        articles,
        article_topics,
        article_studies,
        stories,
        story_keys,
        mesh_descriptors,
        mesh_terms,
        meta,
    )
}
READ_BATCH = 1_000


def columns(name: str) -> tuple[str, ...]:
    """The stored columns of table ``name``, in schema order (computed ones are left out:
    the database derives them again on import)."""
    return tuple(c.name for c in TABLES[name].columns if c.computed is None)


def rows(connection: Connection, name: str) -> Iterator[dict[str, Any]]:
    """Every row of table ``name`` as JSON-ready values, in primary-key (or full) order."""
    table = TABLES[name]
    order = list(table.primary_key.columns) or list(table.columns)
    instants = {c.name for c in table.columns if isinstance(c.type, UTCDateTime)}
    stored = [table.c[column] for column in columns(name)]
    result = connection.execution_options(yield_per=READ_BATCH).execute(
        select(*stored).order_by(*order)
    )
    for row in result.mappings():
        yield {
            key: value.isoformat() if key in instants and value is not None else value
            for key, value in row.items()
        }


def decode(name: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A row read from an export, with instants turned back into aware datetimes."""
    table = TABLES[name]
    decoded = dict(row)
    for column in table.columns:
        value = decoded.get(column.name)
        if isinstance(column.type, UTCDateTime) and isinstance(value, str):
            decoded[column.name] = datetime.fromisoformat(value)
    return decoded


def insert_rows(connection: Connection, name: str, batch: Iterable[Mapping[str, Any]]) -> None:
    """Insert decoded rows into table ``name`` (one executemany)."""
    values = list(batch)
    if values:
        connection.execute(insert(TABLES[name]), values)


def count(connection: Connection, name: str) -> int:
    return int(connection.execute(select(func.count()).select_from(TABLES[name])).scalar_one())


def clear_meta(connection: Connection) -> None:
    """Drop the counters a fresh migration wrote, before the exported ones replace them."""
    connection.execute(delete(meta))
