"""Retention: `feeds prune` deletes old articles and their tags, in batches, and nothing else."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from feeds.cli import cli
from feeds.config import parse_settings
from feeds.errors import ConfigError
from feeds.models import Article, Match, Source, StudyId, TopicTag
from feeds.normalize import article_id
from feeds.recluster import cluster_stored
from feeds.retention import prune
from feeds.storage import Storage
from feeds.stories import DEFAULT_POLICY

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SOURCE = Source(id="s", name="S", url="https://s.example/feed", interval=timedelta(hours=1))
YEAR = timedelta(days=365)


def make_article(entry: str, published: datetime, first_seen: datetime) -> Article:
    tag = TopicTag("lupus", 3.0, (Match("lupus", "lupus", "term", "title", 0, 5),))
    return Article(
        id=article_id("s", entry),
        source_id="s",
        entry_id=entry,
        url=f"https://s.example/{entry}",
        title=f"Lupus {entry}",
        summary="A summary long enough to take some room in the database. " * 20,
        content_html="<p>" + "Body text. " * 200 + "</p>",
        published=published,
        updated=None,
        first_seen=first_seen,
        authors=("A. Writer",),
        categories=(),
        dois=(),
        content_hash=entry,
        topics=(tag,),
    )


def fill(storage: Storage, old: int, recent: int) -> None:
    """``old`` articles from two years ago and ``recent`` ones from last week, tagged lupus."""
    storage.sync_sources([SOURCE], NOW)
    (health,) = storage.source_health()
    batch = [make_article(f"old-{n}", NOW - 2 * YEAR, NOW - 2 * YEAR) for n in range(old)]
    week_ago = NOW - timedelta(days=7)
    batch += [make_article(f"new-{n}", week_ago, week_ago) for n in range(recent)]
    storage.record_update(replace(health, etag='"v1"'), batch, NOW, fetched_bytes=1234)


def tag_count(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM article_topics")).scalar_one())


def test_prune_deletes_old_articles_and_their_tags_and_nothing_else(storage: Storage) -> None:
    fill(storage, old=5, recent=3)
    counters = storage.counters()
    report = prune(storage, YEAR, NOW)
    assert (report.articles, report.tags) == (5, 5)
    remaining = storage.recent_articles(limit=100)
    assert sorted(a.entry_id for a in remaining) == ["new-0", "new-1", "new-2"]
    assert all(a.topics and a.topics[0].topic == "lupus" for a in remaining)
    assert tag_count(storage) == 3
    (health,) = storage.source_health()
    assert health.etag == '"v1"'  # the source and its fetch state are untouched
    assert storage.counters() == counters


def test_an_old_entry_first_seen_recently_is_kept(storage: Storage) -> None:
    # A source added today with a deep archive: deleting it now would only make the next
    # fetch store it again as new.
    storage.sync_sources([SOURCE], NOW)
    (health,) = storage.source_health()
    archived = make_article("archive", NOW - 2 * YEAR, NOW - timedelta(days=1))
    storage.record_update(health, [archived], NOW)
    assert prune(storage, YEAR, NOW).articles == 0
    assert storage.count_articles() == 1


def test_prune_works_in_batches_of_one_transaction_each(storage: Storage) -> None:
    fill(storage, old=7, recent=1)
    data_version, _ = storage.versions()
    seen: list[int] = []
    report = prune(storage, YEAR, NOW, batch=3, on_batch=seen.append)
    assert seen == [3, 3, 1]
    assert report.batches == 3
    # Every batch bumps the data version, so cached feeds drop deleted articles at once.
    assert storage.versions()[0] == data_version + 3


def test_dry_run_counts_and_deletes_nothing(storage: Storage) -> None:
    fill(storage, old=4, recent=2)
    version = storage.versions()
    report = prune(storage, YEAR, NOW, dry_run=True)
    assert (report.articles, report.tags, report.batches, report.dry_run) == (4, 4, 0, True)
    assert storage.count_articles() == 6
    assert storage.versions() == version


def test_nothing_old_changes_nothing(storage: Storage) -> None:
    fill(storage, old=0, recent=2)
    version = storage.versions()
    report = prune(storage, YEAR, NOW)
    assert (report.articles, report.batches) == (0, 0)
    assert storage.versions() == version


def test_a_new_sqlite_database_gives_freed_space_back_to_the_file_system(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feeds.db"
    storage = Storage.open(f"sqlite:///{path}")
    storage.migrate()
    try:
        assert storage.vacuum_mode() == "incremental"
        fill(storage, old=300, recent=1)
        with storage.engine.connect() as connection:
            pages_before = connection.execute(text("PRAGMA page_count")).scalar_one()
        report = prune(storage, YEAR, NOW)
        with storage.engine.connect() as connection:
            pages_after = connection.execute(text("PRAGMA page_count")).scalar_one()
            free_after = connection.execute(text("PRAGMA freelist_count")).scalar_one()
    finally:
        storage.close()
    assert report.vacuum == "incremental"
    assert report.freed_pages > 0
    assert free_after == 0
    assert pages_after <= pages_before - report.freed_pages


def test_an_older_sqlite_file_without_auto_vacuum_keeps_its_free_pages_for_reuse(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as made_by_an_older_feeds:  # a table exists: mode fixed
        made_by_an_older_feeds.execute("CREATE TABLE earlier (x)")
    storage = Storage.open(f"sqlite:///{path}")
    storage.migrate()
    try:
        fill(storage, old=50, recent=1)
        report = prune(storage, YEAR, NOW)
    finally:
        storage.close()
    assert (report.vacuum, report.articles, report.freed_pages) == ("none", 50, 0)


def test_a_reader_in_a_long_transaction_neither_blocks_nor_is_blocked_by_prune(
    storage: Storage,
) -> None:
    fill(storage, old=20, recent=1)
    with storage.engine.connect() as reader:
        reader.execute(text("BEGIN"))
        assert reader.execute(text("SELECT count(*) FROM articles")).scalar_one() == 21
        assert prune(storage, YEAR, NOW, batch=5).articles == 20  # WAL: no wait for reader
        # The reader's snapshot is intact until it ends its transaction.
        assert reader.execute(text("SELECT count(*) FROM articles")).scalar_one() == 21
        reader.execute(text("COMMIT"))
        assert reader.execute(text("SELECT count(*) FROM articles")).scalar_one() == 1


# --- the command line ------------------------------------------------------------------


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"database: sqlite:///feeds.db\n{extra}", encoding="utf-8")
    return path


def filled_config(tmp_path: Path, extra: str = "") -> Path:
    config = write_config(tmp_path, extra)
    storage = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    storage.migrate()
    now = datetime.now(UTC)
    storage.sync_sources([SOURCE], now)
    (health,) = storage.source_health()
    batch = [make_article(f"old-{n}", now - 2 * YEAR, now - 2 * YEAR) for n in range(3)]
    batch.append(make_article("new", now - timedelta(days=1), now - timedelta(days=1)))
    storage.record_update(health, batch, now)
    storage.close()
    return config


def test_prune_command_json_reports_what_it_deleted(tmp_path: Path) -> None:
    config = filled_config(tmp_path)
    dry = CliRunner().invoke(
        cli, ["prune", "--config", str(config), "--older-than", "365d", "--dry-run", "--json"]
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) | {"cutoff": None} == {
        "cutoff": None,
        "articles": 3,
        "tags": 3,
        "batches": 0,
        "dry_run": True,
        "vacuum": "incremental",
        "freed_pages": 0,
    }
    done = CliRunner().invoke(
        cli, ["prune", "--config", str(config), "--older-than", "52w", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["articles"] == 3
    again = CliRunner().invoke(cli, ["prune", "--config", str(config), "--older-than", "365d"])
    assert again.exit_code == 0
    assert again.stdout.startswith("deleted 0 articles (0 topic tags) published before ")


def test_prune_command_takes_its_default_age_from_the_config(tmp_path: Path) -> None:
    config = filled_config(tmp_path, "retention_days: 400\n")
    result = CliRunner().invoke(cli, ["prune", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["articles"] == 3
    cutoff = datetime.fromisoformat(report["cutoff"])
    assert timedelta(days=399) < datetime.now(UTC) - cutoff < timedelta(days=401)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "prune: give --older-than AGE (e.g. 365d) or set retention_days in the config\n"),
        (["--older-than", "soon"], "prune: 'soon' is not a duration (use for example 30m"),
        (["--older-than", "2h"], "prune: --older-than 2h: keep at least 1d\n"),
    ],
)
def test_prune_command_without_a_usable_age_is_a_usage_error_and_deletes_nothing(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    config = filled_config(tmp_path)
    result = CliRunner().invoke(cli, ["prune", "--config", str(config), *arguments])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    storage = Storage.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    assert storage.count_articles() == 4
    storage.close()


def test_retention_days_is_validated_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    source = "database: sqlite:///feeds.db\nretention_days: 0\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(source, path)
    assert caught.value.problems[0].startswith(f"{path}:2: retention_days: ")


@pytest.mark.postgresql
def test_prune_works_alike_on_postgresql(postgres_url: str) -> None:
    storage = Storage.open(postgres_url)
    storage.migrate()
    try:
        fill(storage, old=7, recent=2)
        assert prune(storage, YEAR, NOW, dry_run=True).articles == 7
        seen: list[int] = []
        report = prune(storage, YEAR, NOW, batch=3, on_batch=seen.append)
        assert (seen, report.tags, report.vacuum) == ([3, 3, 1], 7, "server")
        assert sorted(a.entry_id for a in storage.recent_articles()) == ["new-0", "new-1"]
        assert tag_count(storage) == 2
    finally:
        storage.close()


def test_prune_leaves_no_study_story_key_or_empty_story_behind(storage: Storage) -> None:
    storage.sync_sources([SOURCE], NOW)
    (health,) = storage.source_health()
    paper = StudyId("doi", "10.1000/lupus-trial")
    week_ago = NOW - timedelta(days=7)
    batch = [
        replace(make_article(f"{age}-{n}", when, when), studies=(paper,), dois=(paper.value,))
        for age, when in (("old", NOW - 2 * YEAR), ("new", week_ago))
        for n in range(3)
    ]
    storage.record_update(health, batch, NOW)
    assert cluster_stored(storage, DEFAULT_POLICY) == 6  # two stories: two years apart
    prune(storage, YEAR, NOW)
    with storage.engine.connect() as connection:

        def count(sql: str) -> int:
            return int(connection.execute(text(sql)).scalar_one())

        orphan = "SELECT count(*) FROM {} WHERE article_id NOT IN (SELECT id FROM articles)"
        assert count(orphan.format("article_studies")) == 0
        assert count(orphan.format("story_keys")) == 0
        assert count("SELECT count(*) FROM article_studies") == 3
        empty = "SELECT count(*) FROM stories WHERE id NOT IN (SELECT story_id FROM articles"
        assert count(empty + " WHERE story_id IS NOT NULL)") == 0
        assert count("SELECT count(*) FROM stories") == 1  # the recent story is kept
