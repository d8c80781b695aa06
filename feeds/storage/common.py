"""Helpers every part of ``Storage`` shares: error translation and the meta counters."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Integer, Text, cast
from sqlalchemy.exc import SQLAlchemyError

from feeds.errors import StorageError
from feeds.storage.schema import meta

P = ParamSpec("P")
R = TypeVar("R")

CHUNK = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


def translated(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise StorageError(f"{method.__name__}: {first_line(exc)}") from exc

    return wrapper


def first_line(exc: SQLAlchemyError) -> str:
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]


def bump(connection: Any, key: str, by: int = 1) -> None:
    """Increment a counter in ``meta`` (inside the caller's transaction)."""
    connection.execute(
        meta.update()
        .where(meta.c.key == key)
        .values(value=cast(cast(meta.c.value, Integer) + by, Text))
    )
