"""Rows written the way an older schema knew them, for migration tests.

Today's Core tables carry columns (with Python-side defaults) that old revisions lack, so a
test that fills an old database must write plain SQL naming only the old columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text


def insert_source_0006(connection: Connection, source_id: str, now: datetime) -> None:
    """A source row with only the columns revision 0006 has (each parameter used once:
    PostgreSQL will not type one placeholder as two column types)."""
    connection.execute(
        text(
            "INSERT INTO sources (id, name, config_url, url, enabled, status, error_count,"
            " created_at) VALUES (:id, :name, :url, :url2, :yes, 'new', 0, :now)"
        ),
        {
            "id": source_id,
            "name": source_id,
            "url": f"http://{source_id}.test/feed",
            "url2": f"http://{source_id}.test/feed",
            "yes": True,
            "now": now.replace(tzinfo=None),
        },
    )
