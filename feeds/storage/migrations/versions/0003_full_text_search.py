"""Full-text search over article titles and summaries (SQLite FTS5); data versions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

On SQLite an external-content FTS5 table mirrors ``articles`` through triggers, so the
index can never drift from the rows. Other dialects get their own search in a later
revision; the storage layer's ``search`` module hides the difference.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Bumped by every write: articles/topics (feeds) and source health (source pages).
    op.execute("INSERT INTO meta (key, value) VALUES ('data_version', '1')")
    op.execute("INSERT INTO meta (key, value) VALUES ('sources_version', '1')")
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5("
        "title, summary, content='articles', content_rowid='rowid', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
        "INSERT INTO articles_fts(rowid, title, summary) "
        "VALUES (new.rowid, new.title, new.summary); END"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, summary) "
        "VALUES ('delete', old.rowid, old.title, old.summary); END"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary ON articles BEGIN "
        "INSERT INTO articles_fts(articles_fts, rowid, title, summary) "
        "VALUES ('delete', old.rowid, old.title, old.summary); "
        "INSERT INTO articles_fts(rowid, title, summary) "
        "VALUES (new.rowid, new.title, new.summary); END"
    )
    op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS articles_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute("DELETE FROM meta WHERE key IN ('data_version', 'sources_version')")
