"""Alembic environment: runs migrations on the connection ``feeds.storage`` hands over."""

from __future__ import annotations

from alembic import context

from feeds.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
