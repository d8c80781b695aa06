"""Create the SQLAlchemy engine, with the few per-dialect settings kept here and named.

Two databases are supported: SQLite (the default, embedded) and PostgreSQL through psycopg 3
(``postgresql+psycopg://USER@HOST/DB``; a bare ``postgresql://`` or ``postgres://`` means
the same). Anything else is refused with a clear error rather than a missing-driver traceback.

SQLite: WAL journal (readers never block the writer), ``synchronous=NORMAL`` (safe with
WAL), foreign keys on, and a busy timeout so concurrent processes wait instead of failing
with "database is locked". The database file's folder is created if missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from feeds.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000


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
    return create_engine(parsed, pool_pre_ping=True)


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


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
