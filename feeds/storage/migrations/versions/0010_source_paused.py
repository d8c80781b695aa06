"""Sources disabled from the admin API (``paused``), apart from the config's ``enabled``.

``Storage.sync_sources`` rewrites ``enabled`` from the config on every update, so an
operator's "disable" needs its own column to survive it (and restarts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (with a constant default) on both databases: a batch rebuild of
    # ``sources`` on SQLite would drop a table that articles reference.
    op.add_column(
        "sources", sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("sources", "paused")  # SQLite >= 3.35 drops a column in place
