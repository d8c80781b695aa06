"""Fetch counters in ``meta``: fetches by outcome and by error kind, bytes fetched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

The rows exist from the start (every outcome and error kind is a closed set), so counting
is always a plain UPDATE inside the fetch's own transaction: no insert race between
processes, and the counts are the whole deployment's, whichever process scrapes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("ok", "not_modified", "failing", "gone")
KINDS = (
    "dns", "connect", "timeout", "tls", "http_status", "too_large", "empty", "not_a_feed",
    "parse", "redirect_loop", "file",
)  # fmt: skip
KEYS = [f"fetches:{o}" for o in OUTCOMES] + [f"errors:{k}" for k in KINDS] + ["fetched_bytes"]


def upgrade() -> None:
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(meta, [{"key": key, "value": "0"} for key in KEYS])


def downgrade() -> None:
    keys = ", ".join(f"'{key}'" for key in KEYS)
    op.execute(f"DELETE FROM meta WHERE key IN ({keys})")
