"""Story clusters: ``stories``, their retrieval keys ``story_keys``, and ``articles.story_id``.

Existing articles are not clustered here (that needs the clustering code, which a migration
must not depend on): ``feeds stories rebuild`` clusters every article without a story, and
``feeds update`` clusters new articles as they arrive. Until then an article without a story
is shown as a story of its own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("first_published", Instant, nullable=False),
        sa.Column("updated_at", Instant),
        sa.Column("sources", sa.JSON, nullable=False),
    )
    op.create_index("ix_stories_first", "stories", ["first_published", "id"])
    op.create_table(
        "story_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "article_id",
            sa.String(32),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("story_id", sa.String(32), nullable=False),
        sa.Column("published_at", Instant, nullable=False),
    )
    op.create_index("ix_story_keys_key", "story_keys", ["key", "published_at"])
    op.create_index("ix_story_keys_article", "story_keys", ["article_id"])
    # In place on both databases: a batch rebuild of articles on SQLite would drop a table
    # that other tables reference.
    op.add_column("articles", sa.Column("story_id", sa.String(32)))
    op.create_index("ix_articles_story", "articles", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_story", "articles")
    op.drop_column("articles", "story_id")  # SQLite >= 3.35 drops a column in place
    op.drop_index("ix_story_keys_article", "story_keys")
    op.drop_index("ix_story_keys_key", "story_keys")
    op.drop_table("story_keys")
    op.drop_index("ix_stories_first", "stories")
    op.drop_table("stories")
