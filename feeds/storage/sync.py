"""Make the ``sources`` table match the configured sources.

Functions take an open SQLAlchemy connection; ``feeds.storage.Storage`` owns transactions.
A row is written only when something changed, so the many processes of a scale-out
deployment (each syncs before its update pass) do not rewrite every row every pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, true

from feeds.models import Source, SourceStatus
from feeds.storage.schema import sources
from feeds.storage.upsert import insert_new

_FORGET = {  # a new configured URL is a new feed: forget the old one's state
    "status": SourceStatus.NEW.value,
    "etag": None,
    "last_modified": None,
    "next_check_at": None,
    "error_count": 0,
    "error_kind": None,
    "error_message": None,
    "failing_since": None,
}


def sync(connection: Connection, configured: Sequence[Source], now: datetime) -> bool:
    """Add new sources, update names, URLs and ``enabled``; disable the ones not configured.
    Whether anything changed."""
    existing = {
        row.id: row
        for row in connection.execute(
            select(sources.c.id, sources.c.name, sources.c.config_url, sources.c.enabled)
        )
    }
    new = [
        {
            "id": source.id,
            "name": source.name,
            "config_url": source.url,
            "url": source.url,
            "enabled": source.enabled,
            "status": SourceStatus.NEW.value,
            "error_count": 0,
            "created_at": now,
        }
        for source in configured
        if source.id not in existing
    ]
    changed = bool(new)
    if new:  # another process may insert the same ones at the same moment: skip those
        connection.execute(insert_new(connection, sources), new)
    for source in configured:
        row = existing.get(source.id)
        if row is None:
            continue
        values: dict[str, Any] = {}
        if (row.name, row.enabled) != (source.name, source.enabled):
            values |= {"name": source.name, "enabled": source.enabled}
        if row.config_url != source.url:
            values |= {"config_url": source.url, "url": source.url} | _FORGET
        if values:
            connection.execute(sources.update().where(sources.c.id == source.id).values(**values))
            changed = True
    kept = {s.id for s in configured}
    gone = sorted(i for i, row in existing.items() if row.enabled and i not in kept)
    if gone:
        connection.execute(
            sources.update()
            .where(sources.c.id.in_(gone), sources.c.enabled == true())
            .values(enabled=False)
        )
    return changed or bool(gone)
