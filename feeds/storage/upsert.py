"""Upsert, one of the named dialect-specific parts: insert rows, skipping existing keys.

Both databases spell it ``INSERT … ON CONFLICT DO NOTHING`` (SQLite >= 3.24, PostgreSQL
>= 9.5), but SQLAlchemy builds it from each dialect's own ``insert``. It matters when two
processes write the same key at once — two workers starting on a fresh database insert the
same configured sources; a worker whose lease ran out stores articles the next one also
stores — where a plain INSERT would fail the second transaction with a duplicate key.
"""

from __future__ import annotations

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
