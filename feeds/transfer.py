"""`feeds export` / `feeds import`: the whole database as JSON Lines, streamed both ways.

The file is one JSON object per line::

    {"format": "feeds-export", "version": 1, "revision": "0006", "exported_at": "..."}
    {"table": "sources", "row": {"id": "...", ...}}            # parents before children
    ...
    {"end": {"sources": 12, "articles": 3456, ...}}             # rows per table

It carries every table whose rows cannot be rebuilt: sources with their fetch health and
validators, articles, their topic tags (scores and evidence), the MeSH vocabulary and the
``meta`` counters (data versions, fetch counters). Derived structures (SQLite's FTS index,
PostgreSQL's search column) are rebuilt by the target database as rows arrive. The schema
revision is not copied: the target is migrated by this version of feeds first.

JSON Lines because it streams (an export of a million articles holds one batch in memory),
is readable by any tool, and is the same on every database; instants are ISO 8601 with
offset. The ``end`` line makes a truncated file an error rather than a partial import, and
the import is one transaction, so a bad file leaves the target untouched. Every value is
checked against its column's type before it reaches the database, so a damaged or hand-edited
file is refused with its line, never stored to break the pages that would show it.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import JSON, Boolean, Column, Float, Integer, String

from feeds.errors import TransferError
from feeds.storage import Storage
from feeds.storage.schema import UTCDateTime
from feeds.storage.transfer import TABLES, columns

FORMAT = "feeds-export"
VERSION = 1


def export(storage: Storage, out: IO[str], now: datetime | None = None) -> dict[str, int]:
    """Write the whole database to ``out``; rows per table."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "revision": storage.revision(),
        "exported_at": (now or datetime.now(UTC)).isoformat(),
    }
    out.write(_line(header))
    counts = dict.fromkeys(TABLES, 0)
    for table, row in storage.export_rows():
        out.write(_line({"table": table, "row": row}))
        counts[table] += 1
    out.write(_line({"end": counts}))
    return counts


def import_(storage: Storage, lines: Iterable[str], origin: str) -> dict[str, int]:
    """Load an export into ``storage`` (which must be empty); rows per table.

    Raises ``TransferError`` naming the file and line of the first problem, and
    ``StorageError`` when the database refuses; either way nothing is imported.
    """
    return storage.import_rows(read(lines, origin))


def read(lines: Iterable[str], origin: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (table, row) pairs of an export, checked line by line."""
    number = 0
    counts = dict.fromkeys(TABLES, 0)
    ended = False
    for number, text in _numbered(lines, origin):
        where = f"{origin}:{number}"
        if ended:
            raise TransferError(f"{where}: data after the end line")
        item = _object(text, where)
        if number == 1:
            if item.get("format") != FORMAT:
                raise TransferError(f"{where}: not a feeds export (no format header)")
            if item.get("version") != VERSION:
                raise TransferError(f"{where}: export version {item.get('version')!r} unknown")
            continue
        if "end" in item:
            if item["end"] != counts:
                raise TransferError(f"{where}: row counts {counts} differ from {item['end']}")
            ended = True
            continue
        table, row = item.get("table"), item.get("row")
        if table not in TABLES or not isinstance(row, dict):
            raise TransferError(f'{where}: expected {{"table": NAME, "row": {{...}}}}')
        unknown = set(row) - set(columns(table))
        if unknown:
            raise TransferError(
                f"{where}: {table} has no column {', '.join(sorted(unknown))} "
                "(an export from a newer feeds? upgrade this one first)"
            )
        for column in TABLES[table].columns:
            if column.name in row and (problem := _bad_value(column, row[column.name])):
                raise TransferError(f"{where}: {table}.{column.name}: {problem}")
        counts[table] += 1
        yield table, row
    if not ended:
        raise TransferError(f"{origin}:{number}: the file ends before its end line (truncated?)")


@contextmanager
def open_text(path: Path, *, write: bool) -> Iterator[IO[str]]:
    """``path`` opened as UTF-8 text: ``-`` is stdout/stdin, a ``.gz`` name is gzipped."""
    if str(path) == "-":
        yield sys.stdout if write else sys.stdin
    elif path.suffix == ".gz":
        with gzip.open(path, "wt" if write else "rt", encoding="utf-8") as handle:
            yield handle
    else:
        with path.open("w" if write else "r", encoding="utf-8") as handle:
            yield handle


def _numbered(lines: Iterable[str], origin: str) -> Iterator[tuple[int, str]]:
    """The lines with their numbers; a file that cannot be decoded (not UTF-8, a damaged or
    cut-short gzip) is a ``TransferError`` at the line it stops at."""
    number = 0
    iterator = iter(lines)
    while True:
        # EOFError is a gzip cut short (uncaught, click took it for Ctrl-D: "Aborted!").
        try:
            text = next(iterator)
        except StopIteration:
            return
        except (UnicodeDecodeError, EOFError, OSError, zlib.error) as exc:
            raise TransferError(f"{origin}:{number + 1}: cannot read ({exc})") from None
        number += 1
        yield number, text


def _bad_value(column: Column[Any], value: object) -> str | None:
    """Why ``value`` cannot be stored in ``column``, or None when it can."""
    kind = column.type
    if value is None:
        return None if column.nullable else "must not be null"
    if isinstance(kind, UTCDateTime):
        try:
            aware = isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            aware = False
        return None if aware else "not an ISO 8601 date-time with its offset"
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "not true or false"
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
            return "not a whole number of at most 64 bits"
        return None
    if isinstance(kind, Float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "not a finite number"
        return None if math.isfinite(value) else "not a finite number"
    if isinstance(kind, String):  # Text too
        return None if isinstance(value, str) else "not a string"
    if isinstance(kind, JSON):  # every JSON column holds a list (storage.schema)
        return None if isinstance(value, list) else "not a list"
    return None


def _object(text: str, where: str) -> dict[str, Any]:
    try:
        item = json.loads(text)
    except ValueError as exc:
        raise TransferError(f"{where}: not JSON ({exc})") from None
    except RecursionError:
        raise TransferError(f"{where}: not JSON (nested too deeply)") from None
    if not isinstance(item, dict):
        raise TransferError(f"{where}: not a JSON object")
    return item


def _line(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
