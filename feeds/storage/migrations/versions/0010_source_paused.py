"""Sources disabled from the admin API (``paused``), apart from the config's ``enabled``.

``Storage.sync_sources`` rewrites ``enabled`` from the config on every update, so an
operator's "disable" needs its own column to survive it (and restarts).

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"  # the lead re-chains this at merge
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("paused")
