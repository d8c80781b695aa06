"""Identifiers of studies per article (``article_studies``), filled from what is stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

The backfill runs the identifier extractor of this version of feeds over each stored
article's link, title, summary, content and stored DOIs (the entry's other links are not
stored; a later re-fetch of a changed entry adds ids found only there), and rewrites
``dois`` where the extractor now reads them differently, so the two agree.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from feeds.identifiers import find_studies

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def upgrade() -> None:
    studies = op.create_table(
        "article_studies",
        sa.Column(
            "article_id",
            sa.String(32),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("study", sa.Text, primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_article_studies_study", "article_studies", ["study", "article_id"])
    assert studies is not None
    _backfill(op.get_bind(), studies)


def _backfill(connection: sa.Connection, studies: sa.Table) -> None:
    articles = sa.table(
        "articles",
        sa.column("id", sa.String),
        sa.column("url", sa.Text),
        sa.column("title", sa.Text),
        sa.column("summary", sa.Text),
        sa.column("content_html", sa.Text),
        sa.column("dois", sa.JSON),
    )
    after = ""
    while True:
        batch = connection.execute(
            sa.select(articles).where(articles.c.id > after).order_by(articles.c.id).limit(_BATCH)
        ).all()
        if not batch:
            return
        rows = []
        for row in batch:
            stored = list(row.dois or [])
            texts = [row.url or "", row.title, row.summary, row.content_html]
            found = find_studies([*texts, *(f"doi:{doi}" for doi in stored)])
            rows += [
                {"article_id": row.id, "study": s.key, "position": n} for n, s in enumerate(found)
            ]
            dois = [s.value for s in found if s.scheme == "doi"]
            if dois != stored:
                connection.execute(
                    articles.update().where(articles.c.id == row.id).values(dois=dois)
                )
        if rows:
            connection.execute(studies.insert(), rows)
        after = batch[-1].id


def downgrade() -> None:
    op.drop_index("ix_article_studies_study", "article_studies")
    op.drop_table("article_studies")
