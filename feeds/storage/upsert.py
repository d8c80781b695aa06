"""Upsert, one of the named dialect-specific parts: insert rows, skipping or updating
existing keys.

Both databases spell it ``INSERT … ON CONFLICT DO NOTHING`` (SQLite >= 3.24, PostgreSQL
>= 9.5), but SQLAlchemy builds it from each dialect's own ``insert``. It matters when two
processes write the same key at once — two workers starting on a fresh database insert the
same configured sources; a worker whose lease ran out stores articles the next one also
stores — where a plain INSERT would fail the second transaction with a duplicate key.
``insert_or_update`` (``… ON CONFLICT (key) DO UPDATE``) serves a writer that knows what it
read but not whether another process rewrote those rows since (retag, against the updater).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from feeds.errors import StorageError


def insert_new(connection: Connection, table: Table) -> Insert:
    """``INSERT INTO table … ON CONFLICT DO NOTHING`` for the connection's database."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise StorageError(f"upsert: unsupported database {name}")


def insert_or_update(connection: Connection, table: Table, key: Sequence[str]) -> Insert:
    """``INSERT INTO table … ON CONFLICT (key) DO UPDATE`` setting every other column to the
    new row's, for the connection's database."""
    name = connection.dialect.name
    if name == "postgresql":
        statement = postgresql.insert(table)
        excluded = statement.excluded
        set_ = {c.name: excluded[c.name] for c in table.c if c.name not in key}
        return statement.on_conflict_do_update(index_elements=list(key), set_=set_)
    if name == "sqlite":
        lite = sqlite.insert(table)
        set_ = {c.name: lite.excluded[c.name] for c in table.c if c.name not in key}
        return lite.on_conflict_do_update(index_elements=list(key), set_=set_)
    raise StorageError(f"upsert: unsupported database {name}")
