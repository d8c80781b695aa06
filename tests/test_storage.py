"""The storage interface, on SQLite and on PostgreSQL (the storage contract)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from feeds.errors import StorageError
from feeds.models import Article, Source, SourceStatus
from feeds.normalize import article_id
from feeds.storage import Storage
from feeds.storage.engine import normalized_url

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def storage(backend_storage: Storage) -> Storage:
    """Every test here runs on SQLite and on PostgreSQL: part of the storage contract."""
    return backend_storage


def source(source_id: str = "s", url: str = "https://s.example/feed") -> Source:
    return Source(id=source_id, name=source_id.upper(), url=url, interval=timedelta(hours=1))


def article(entry: str, title: str = "Title", content_hash: str = "h1") -> Article:
    return Article(
        id=article_id("s", entry),
        source_id="s",
        entry_id=entry,
        url=f"https://s.example/{entry}",
        title=title,
        summary="Summary",
        content_html="<p>Summary</p>",
        published=NOW - timedelta(days=1),
        updated=None,
        first_seen=NOW,
        authors=("A. Writer",),
        categories=("Lupus",),
        dois=("10.1038/s41591-022-02017-5",),
        content_hash=content_hash,
    )


def test_migrate_is_idempotent_and_reaches_head(storage: Storage) -> None:
    assert storage.migrate() == Storage.head_revision()
    assert storage.revision() == Storage.head_revision()


def test_sqlite_runs_in_wal_mode(sqlite_storage: Storage) -> None:
    with sqlite_storage.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_postgresql_sessions_plan_each_statement_for_its_values_without_workers(
    storage: Storage,
) -> None:
    if storage.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's session settings")
    with storage.engine.connect() as connection:
        # Feed pages: no parallel workers, no generic plans (docs/performance.md, session 4).
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        assert connection.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]
        for _ in range(8):  # more than psycopg's default threshold would allow unprepared
            connection.execute(
                text("SELECT count(*) FROM articles WHERE source_id = :s"), {"s": "x"}
            )
        prepared = connection.execute(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar() == 0


def test_articles_round_trip_with_aware_utc_dates(storage: Storage) -> None:
    storage.sync_sources([source()], NOW)
    (health,) = storage.source_health()
    storage.record_update(health, [article("a")], NOW)
    (stored,) = storage.recent_articles()
    assert stored == article("a")
    assert stored.published.tzinfo is UTC


def test_upsert_counts_new_updated_and_unchanged(storage: Storage) -> None:
    storage.sync_sources([source()], NOW)
    (health,) = storage.source_health()
    first = storage.record_update(health, [article("a"), article("b")], NOW)
    later = NOW + timedelta(hours=1)
    edited = article("b", title="Edited", content_hash="h2")
    second = storage.record_update(health, [article("a"), edited, article("c")], later)
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (1, 1, 1)
    stored = {a.entry_id: a for a in storage.recent_articles()}
    assert stored["b"].title == "Edited"
    assert stored["b"].first_seen == NOW


def test_sources_removed_from_the_config_are_kept_but_disabled(storage: Storage) -> None:
    storage.sync_sources([source("a"), source("b")], NOW)
    storage.sync_sources([source("a")], NOW)
    health = {h.source_id: h for h in storage.source_health()}
    assert health["b"].shown_status is SourceStatus.DISABLED
    assert health["a"].shown_status is SourceStatus.NEW


def test_a_changed_configured_url_forgets_the_old_validators(storage: Storage) -> None:
    storage.sync_sources([source()], NOW)
    (health,) = storage.source_health()

    storage.record_update(replace(health, etag='"v1"', last_modified="yesterday"), [], NOW)
    storage.sync_sources([source(url="https://s.example/new-feed")], NOW)
    (moved,) = storage.source_health()
    assert (moved.url, moved.etag, moved.last_modified) == (
        "https://s.example/new-feed",
        None,
        None,
    )


def test_database_folder_is_created(tmp_path: Path) -> None:
    store = Storage.open(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'feeds.db'}")
    try:
        store.migrate()
    finally:
        store.close()
    assert (tmp_path / "nested" / "dir" / "feeds.db").exists()


def test_postgresql_urls_use_psycopg_3_and_other_databases_are_refused() -> None:
    assert normalized_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalized_url("postgres://u:secret@h/db").drivername == "postgresql+psycopg"
    assert normalized_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(StorageError, match=r"^storage: unsupported database 'mysql\+pymysql'"):
        Storage.open("mysql+pymysql://u@h/db")
    with pytest.raises(StorageError, match="unsupported database 'postgresql\\+psycopg2'"):
        Storage.open("postgresql+psycopg2://u@h/db")
