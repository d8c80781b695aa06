"""Remember the refresh period a feed declares (RSS <ttl>, sy:updatePeriod) across 304s.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("refresh_minutes", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("refresh_minutes")
