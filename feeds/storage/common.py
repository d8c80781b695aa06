"""Helpers every storage module shares: SQLAlchemy errors as ``StorageError``, meta counters."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Integer, Text, cast
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from feeds.errors import StorageError
from feeds.storage.schema import meta

P = ParamSpec("P")
R = TypeVar("R")


CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


def chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``CHUNK``, for ``IN (...)`` lists."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


# SQLite's busy timeout covers most waits, but not all: a connection that opens while
# another process creates the database or sets up its WAL may get SQLITE_BUSY at once. A
# storage method is one transaction, all or nothing, so running it again is safe.
BUSY_RETRIES = (0.05, 0.2, 0.5, 1.0)  # seconds to wait before each retry


def translated(method: Callable[P, R]) -> Callable[P, R]:
    """``method`` with SQLAlchemy errors raised as ``StorageError`` naming the method.

    "database is locked" (SQLite) is retried a few times first. After any other operational
    error the owner's ``recover`` (if it has one) gets the pool ready for the next call and
    says what the condition was (read-only, full), which joins the message.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for wait in (*BUSY_RETRIES, None):
            try:
                return method(*args, **kwargs)
            except OperationalError as exc:
                if wait is not None and "database is locked" in str(exc.orig):
                    time.sleep(wait)
                    continue
                raise StorageError(f"{method.__name__}: {_detail(exc, args)}") from exc
            except SQLAlchemyError as exc:
                raise StorageError(f"{method.__name__}: {_detail(exc, args)}") from exc
        raise AssertionError("unreachable")  # the last attempt returns or raises

    return wrapper


def _detail(exc: SQLAlchemyError, args: tuple[Any, ...]) -> str:
    detail = first_line(exc)
    recover = getattr(args[0], "recover", None) if args else None
    if isinstance(exc, OperationalError) and callable(recover):
        detail += recover(exc)
    return str(detail)


def first_line(exc: SQLAlchemyError) -> str:
    """The first line of the driver's message (the rest is SQLAlchemy's SQL dump)."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]


def bump(connection: Any, key: str, by: int = 1) -> None:
    """Increment a counter in ``meta`` (inside the caller's transaction)."""
    connection.execute(
        meta.update()
        .where(meta.c.key == key)
        .values(value=cast(cast(meta.c.value, Integer) + by, Text))
    )
