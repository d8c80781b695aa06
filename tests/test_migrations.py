"""Migrations carry existing data forward: a database from before 0012 keeps its topic feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from feeds.models import ArticleQuery
from feeds.storage import Storage
from feeds.storage.database import MIGRATIONS

T0 = datetime(2025, 5, 1, 8, 30, tzinfo=UTC)


def upgrade(storage: Storage, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with storage.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_tags_stored_before_0012_get_their_articles_time_and_stay_in_topic_feeds(
    tmp_path: Path,
) -> None:
    storage = Storage.open(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(storage, "0006")
        with storage.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sources (id, name, config_url, url, enabled, status, "
                    "error_count, created_at) VALUES ('s', 'S', 'u', 'u', 1, 'ok', 0, :t)"
                ),
                {"t": T0.replace(tzinfo=None)},
            )
            for number in range(3):
                published = (T0 - timedelta(hours=number)).replace(tzinfo=None)
                connection.execute(
                    text(
                        "INSERT INTO articles (id, source_id, entry_id, title, summary, "
                        "content_html, published_at, first_seen_at, changed_at, authors, "
                        "categories, enclosures, dois, content_hash) VALUES (:id, 's', :id, "
                        ":title, '', '', :p, :p, :p, '[]', '[]', '[]', '[]', 'h')"
                    ),
                    {"id": f"a{number}", "title": f"Lupus {number}", "p": published},
                )
                connection.execute(
                    text(
                        "INSERT INTO article_topics (article_id, topic, score, matches) "
                        "VALUES (:id, 'lupus', 3.0, '[]')"
                    ),
                    {"id": f"a{number}"},
                )
        storage.migrate()
        assert storage.revision() == Storage.head_revision()
        found = storage.query_articles(ArticleQuery(topics=("lupus",)))
        assert [a.title for a in found] == ["Lupus 0", "Lupus 1", "Lupus 2"]
        with storage.engine.connect() as connection:
            missing = connection.execute(
                text("SELECT count(*) FROM article_topics WHERE published_at IS NULL")
            ).scalar_one()
        assert missing == 0
    finally:
        storage.close()
