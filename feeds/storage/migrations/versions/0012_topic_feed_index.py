"""Topic feeds at scale: each tag row carries its article's publication time, indexed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24

A topic feed asks for a topic's newest articles. With tags indexed only by (topic,
article_id), the database either walks every article newest first and probes its tags
(slow for a rare topic: hundreds of thousands of probes in a million articles) or reads all
of the topic's tags and sorts them. With (topic, published_at, article_id) it reads the
newest 50 index entries of the topic and nothing else (bench/scale.py, docs/performance.md).
The old (topic, article_id) index is a prefix of the new one and is dropped.

``published_at`` stays nullable in the table (adding a NOT NULL column to SQLite would
rewrite the table); ``feeds.storage.topics.replace`` always writes it, from the article row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article_topics") as batch:
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True)))
    op.execute(
        "UPDATE article_topics SET published_at = "
        "(SELECT published_at FROM articles WHERE articles.id = article_topics.article_id)"
    )
    op.drop_index("ix_article_topics_topic", table_name="article_topics")
    op.create_index(
        "ix_article_topics_topic_published",
        "article_topics",
        ["topic", "published_at", "article_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_article_topics_topic_published", table_name="article_topics")
    op.create_index("ix_article_topics_topic", "article_topics", ["topic", "article_id"])
    with op.batch_alter_table("article_topics") as batch:
        batch.drop_column("published_at")
