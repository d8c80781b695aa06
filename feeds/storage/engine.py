"""Create the SQLAlchemy engine, with the few per-dialect settings kept here and named.

Two databases are supported: SQLite (the default, embedded) and PostgreSQL through psycopg 3
(``postgresql+psycopg://USER@HOST/DB``; a bare ``postgresql://`` or ``postgres://`` means
the same). Anything else is refused with a clear error rather than a missing-driver traceback.

SQLite: incremental auto-vacuum for new files, WAL journal (readers never block the
writer), ``synchronous=NORMAL`` (safe with WAL), foreign keys on, and a busy timeout so
concurrent processes wait instead of failing with "database is locked". The database
file's folder is created if missing.

PostgreSQL: connection liveness checked on checkout; every statement planned for its own
values (no server-side prepared statements); no parallel workers for feeds' sessions.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feeds.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
LOW_SPACE = 1 << 20  # bytes free under which a failed write is put down to a full disk


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the dialect hooks below installed."""
    parsed = normalized_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    # pre-ping: a replica or worker outlives database restarts and idle-connection reaping.
    # Every statement planned for its own values (no server-side prepared statements, so
    # no generic plans): which topic drives a scan, how common a word is, how deep a cursor
    # reaches change the best plan, and a generic plan, made without the values, took the
    # filtered feed from ~20 to 94 ms, its raw SQL to 427 ms at 1M (docs/performance.md).
    # Also what PgBouncer's transaction pooling needs.
    engine = create_engine(parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    event.listen(engine, "connect", _postgresql_on_connect)
    return engine


def shown_url(url: str) -> str:
    """``url`` with any password masked, for messages and listings."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def normalized_url(url: str) -> URL:
    """``url`` parsed, PostgreSQL URLs pointed at psycopg 3; other databases refused."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):  # SQLAlchemy's default driver is psycopg2
        url = "postgresql+psycopg:" + url.split(":", 1)[1]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or parsed.drivername == "postgresql+psycopg":
        return parsed
    raise StorageError(
        f"unsupported database {parsed.drivername!r} "
        "(use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
    )


def _postgresql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # No parallel workers for this session's queries: they are short reads of a page (or
    # batched writes), and two workers per query on a server shared by replicas and
    # workers cost more than they save: the filtered feed at 1M took 44-54 ms with them,
    # 14-24 ms without (load 4, 2 CPUs; docs/performance.md, session 4). A SET, not a
    # startup option, so connection poolers that refuse startup options still work.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # Takes effect only in a database with no table yet (a new one), so a database
        # created by feeds can give pages freed by `feeds prune` back to the file system in
        # short steps; on an older file it is inert until a full VACUUM (docs/deployment.md).
        # Only asked of an empty file: on a read-only one the pragma is a write that fails.
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def sqlite_condition(url: URL, error_name: str) -> str:
    """Words for an operator about why a SQLite operation failed, or "" if nothing to add.

    SQLite's own messages name the symptom ("attempt to write a readonly database", "disk
    I/O error"); a full disk often shows as the second, when SQLite cannot even create its
    shared-memory file, so the free space on the database's disk is checked here.
    """
    database = Path(url.database or "")
    if error_name.startswith("SQLITE_READONLY"):
        return f" ({database} or its folder is read-only)"
    if error_name == "SQLITE_FULL" or error_name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")):
        try:
            free = shutil.disk_usage(database.parent).free
        except OSError:
            return ""
        if error_name == "SQLITE_FULL" or free < LOW_SPACE:
            return f" (the disk holding {database} is full: {free:,} bytes free)"
    return ""


@contextmanager
def atomic_ddl(connection: Connection) -> Iterator[None]:
    """Run the block in one transaction, schema changes included, and commit it.

    PostgreSQL's DDL is transactional as it is. Python's sqlite3 driver opens transactions
    only before INSERT/UPDATE/DELETE and runs CREATE/ALTER/DROP outside of one, so each
    committed on its own: a migration killed between two CREATE TABLEs left tables without
    the revision stamp, and every later start failed with "table sources already exists".
    Here the driver's own transaction handling is switched off for the block and one
    ``BEGIN IMMEDIATE`` (which also makes concurrent migrators wait their turn) covers it.
    """
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver = connection.connection.driver_connection
    level = driver.isolation_level  # type: ignore[union-attr]
    driver.isolation_level = None  # type: ignore[union-attr]
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    finally:
        driver.isolation_level = level  # type: ignore[union-attr]
