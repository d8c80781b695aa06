"""Article topics, the MeSH vocabulary, and a key/value meta table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_topics",
        sa.Column(
            "article_id",
            sa.String(32),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("matches", sa.JSON, nullable=False),
    )
    op.create_index("ix_article_topics_topic", "article_topics", ["topic", "article_id"])
    op.create_table(
        "mesh_descriptors",
        sa.Column("ui", sa.String(12), primary_key=True),
        sa.Column("heading", sa.Text, nullable=False),
        sa.Column("tree_numbers", sa.JSON, nullable=False),
    )
    op.create_table(
        "mesh_terms",
        sa.Column(
            "ui",
            sa.String(12),
            sa.ForeignKey("mesh_descriptors.ui", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("term", sa.Text, nullable=False),
        sa.Column("folded", sa.Text, nullable=False),
    )
    op.create_index("ix_mesh_terms_ui", "mesh_terms", ["ui"])
    op.create_index("ix_mesh_terms_folded", "mesh_terms", ["folded"])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("mesh_terms")
    op.drop_table("mesh_descriptors")
    op.drop_table("article_topics")
