"""``Storage`` methods for whole-database maintenance: retention and export / import.

Kept apart from the everyday reads and writes in ``database``; the SQL is in ``retention``
and ``transfer``, the decisions in ``feeds.retention`` and ``feeds.transfer``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import SQLAlchemyError

from feeds.errors import StorageError
from feeds.storage import retention, transfer
from feeds.storage.common import CHUNK, bump, first_line, translated
from feeds.storage.schema import meta


class Maintenance:
    """Retention and export / import; mixed into ``Storage``."""

    engine: Engine

    # --- retention (feeds.retention decides; see feeds/storage/retention.py) --------------

    @translated
    def count_old_articles(self, cutoff: datetime) -> tuple[int, int]:
        """(articles, topic tags) published and first seen before ``cutoff``."""
        with self.engine.connect() as connection:
            return retention.count_old(connection, cutoff)

    @translated
    def delete_old_articles(self, cutoff: datetime, limit: int) -> tuple[int, int]:
        """Delete up to ``limit`` old articles with their tags in one short transaction;
        (articles, tags) deleted. Bumps the data version, so cached feeds are re-rendered."""
        with self.engine.begin() as connection:
            counts = retention.delete_old_batch(connection, cutoff, limit)
            if counts[0]:
                bump(connection, "data_version")
        return counts

    @translated
    def vacuum_mode(self) -> str:
        """How freed space returns to the file system: ``incremental`` (SQLite created by
        feeds), ``none`` (an older SQLite file: freed pages are only reused), ``server``
        (PostgreSQL's autovacuum does it)."""
        if self.engine.dialect.name != "sqlite":
            return "server"
        with self.engine.connect() as connection:
            mode = retention.sqlite_auto_vacuum(connection)
        return {0: "none", 1: "full", 2: "incremental"}[mode]

    @translated
    def vacuum_step(self) -> tuple[int, int]:
        """One short incremental vacuum step on SQLite; (free pages before, after)."""
        with self.engine.connect() as connection:
            before = retention.sqlite_free_pages(connection)
            connection.rollback()  # no transaction may be open for the vacuum step
            if before:
                driver = connection.connection.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                retention.sqlite_vacuum_step(driver)
            return before, retention.sqlite_free_pages(connection)

    # --- export / import (feeds.transfer owns the file format) ----------------------------

    def export_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every row of every table that matters, as (table, JSON-ready row), streamed from
        one consistent snapshot (one read transaction; REPEATABLE READ on PostgreSQL)."""
        try:
            with self.engine.connect() as connection:
                if self.engine.dialect.name == "postgresql":
                    connection = connection.execution_options(isolation_level="REPEATABLE READ")
                for name in transfer.TABLES:
                    for row in transfer.rows(connection, name):
                        yield name, row
        except SQLAlchemyError as exc:
            raise StorageError(f"export: {first_line(exc)}") from exc

    @translated
    def import_rows(self, items: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, int]:
        """Load exported rows into this (empty) database in one transaction, so a bad or
        truncated file leaves nothing behind; rows per table. Refuses a database that
        already holds sources, articles or MeSH terms: nothing stored is ever overwritten."""
        with self.engine.begin() as connection:
            held = [
                n
                for n in ("sources", "articles", "mesh_descriptors")
                if transfer.count(connection, n)
            ]
            if held:
                raise StorageError(
                    f"import: the database already holds {', '.join(held)}; "
                    "import into a new, empty database"
                )
            transfer.clear_meta(connection)
            counts = dict.fromkeys(transfer.TABLES, 0)
            pending: dict[str, list[dict[str, Any]]] = {name: [] for name in transfer.TABLES}
            for name, row in items:
                batch = pending[name]
                batch.append(transfer.decode(name, row))
                counts[name] += 1
                if len(batch) >= CHUNK:
                    self._flush(connection, pending, upto=name)
            self._flush(connection, pending, upto=None)
            # Whatever a reader cached for an earlier, empty database is now stale.
            for key in ("data_version", "sources_version"):
                if connection.execute(select(meta.c.key).where(meta.c.key == key)).first():
                    bump(connection, key)
                else:
                    connection.execute(insert(meta).values(key=key, value="1"))
        return counts

    @staticmethod
    def _flush(
        connection: Connection, pending: dict[str, list[dict[str, Any]]], upto: str | None
    ) -> None:
        """Insert the pending rows of every table up to ``upto`` (all when None), parents
        first, so a child row never arrives before the row it refers to."""
        for name, batch in pending.items():
            transfer.insert_rows(connection, name, batch)
            batch.clear()
            if name == upto:
                break
