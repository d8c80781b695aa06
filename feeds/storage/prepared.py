"""Statements compiled once per shape and run on the connection's DB-API cursor.

On the read path behind feeds and API pages, SQLAlchemy's own cost per statement is as
large as SQLite's: building the statement, its cache key, an execution context and a
result object, about 0.15 ms of a 0.3 ms page (docs/performance.md, "The read path").
``Prepared`` pays for the compile once per shape of statement (``queries.shape``: the
same SQL text for every query of that shape, each value a named bind parameter) and then
only lays the values out in the driver's parameter style, converts the few that need it
(datetimes) with the column types' own bind processors, and runs the SQL on the DB-API
cursor of a connection SQLAlchemy checked out of its pool (so the pool, its reset on
return and the transaction scope stay SQLAlchemy's). A driver error is raised as the
``sqlalchemy.exc.DBAPIError`` subclass SQLAlchemy would have raised, so callers (and
``common.translated``'s "database is locked" retry) see no difference.

It does not build statements or decide what they select (``queries``, ``pages``), and it
is for reads only: writes go through SQLAlchemy, which tracks their transactions.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

MAX_SHAPES = 512  # compiled statements kept (shapes are few; the bound guards odd queries)
# The lengths an ``IN (...)`` list of ``listed`` values is padded to: a few statements of
# each shape, whatever the number of values.
LIST_SIZES = (4, 16, 64, 128, 256, 512)


class Prepared:
    """A statement compiled for one dialect: its SQL text, and how values are passed."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a SELECT's compiler
        self.sql: str = compiled.string
        # SQLite (qmark): the bind names in the order of the marks; psycopg: None (named).
        self.positions: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        # Values the statement carries itself (literals such as a UNION's kind numbers).
        self.constants: dict[str, Any] = {}
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            if not bind.required:
                self.constants[name] = bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """``values`` (by bind name; names the statement lacks are ignored) with the
        statement's constants, converted, in the driver's parameter style."""
        merged = {**self.constants, **values}
        for name, processor in self.processors.items():
            merged[name] = processor(merged[name])
        if self.positions is None:
            return merged
        return tuple(map(merged.__getitem__, self.positions))

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Every row (a tuple) the statement returns for ``values``, on ``connection``."""
        parameters = self.parameters(values)
        dbapi = connection.dialect.loaded_dbapi
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, parameters)
            return list(cursor.fetchall())
        except dbapi.Error as error:
            raise DBAPIError.instance(
                self.sql, parameters, error, dbapi.Error, dialect=connection.dialect
            ) from error
        finally:
            cursor.close()


_compiled: dict[Hashable, Prepared] = {}
_lock = threading.Lock()


def prepared(
    connection: Connection, shape: Hashable, statement: Callable[[], ClauseElement]
) -> Prepared:
    """The statement of ``shape`` on ``connection``'s dialect, compiled the first time
    (``statement`` builds it then: any statement of that shape)."""
    key = (connection.dialect.name, shape)
    found = _compiled.get(key)
    if found is None:
        found = Prepared(statement(), connection.dialect)
        with _lock:
            if len(_compiled) >= MAX_SHAPES:
                _compiled.pop(next(iter(_compiled)))  # the oldest
            _compiled[key] = found
    return found


def listed(prefix: str, values: Sequence[Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Bind names for ``values`` (at least one, at most ``LIST_SIZES[-1]``) in an ``IN
    (...)`` list, and the values by name: padded to the next of ``LIST_SIZES`` by repeating
    the last value, which changes nothing an ``IN`` selects. The names' number is the
    statement's shape: a handful of shapes for any number of values, each compiled once."""
    names = _names(prefix, next(size for size in LIST_SIZES if size >= len(values)))
    padding = [values[-1]] * (len(names) - len(values))
    return names, dict(zip(names, [*values, *padding], strict=True))


@functools.cache
def _names(prefix: str, size: int) -> tuple[str, ...]:
    return tuple(f"{prefix}_{n}" for n in range(size))
