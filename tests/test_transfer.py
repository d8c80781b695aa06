"""`feeds export` / `feeds import`: a whole database moves, row for row, SQLite to PostgreSQL.

The PostgreSQL test runs against the server at ``$FEEDS_TEST_DATABASE_URL`` in a database
of its own, created and dropped here. Without the variable it skips with the reason; with
``$CI`` set (``.ci/run``) that is a failure instead.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.cli import cli
from feeds.config import load_settings
from feeds.errors import StorageError, TransferError
from feeds.models import ArticleQuery
from feeds.storage import Storage
from feeds.tagging.vocabulary import mesh_rows
from feeds.transfer import export, import_
from feeds.update import update

REPO = Path(__file__).parent.parent
MESH = Path(__file__).parent / "data" / "mesh" / "d-sample.bin"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
VERSION_KEYS = ("data_version", "sources_version")  # bumped by an import, on purpose


@pytest.fixture
def filled(storage: Storage) -> Storage:
    """The shipped config's bundled samples, fetched and tagged, plus a MeSH vocabulary."""
    settings = load_settings(REPO / "config.yaml")
    samples = [s.id for s in settings.sources if s.url.startswith("file:")]
    asyncio.run(update(settings, storage, only=samples))
    storage.sync_sources(settings.source_models(), NOW)  # the other sources: never fetched
    storage.import_mesh(mesh_rows(MESH), str(MESH), NOW)
    return storage


def dump(storage: Storage) -> str:
    out = io.StringIO()
    export(storage, out, now=NOW)
    return out.getvalue()


def rows_by_table(exported: str) -> dict[str, list[dict[str, object]]]:
    """Every row of an export, by table, without the counters an import bumps."""
    tables: dict[str, list[dict[str, object]]] = {}
    for line in exported.splitlines()[1:-1]:
        item = json.loads(line)
        if item["table"] == "meta" and item["row"]["key"] in VERSION_KEYS:
            continue
        tables.setdefault(item["table"], []).append(item["row"])
    return tables


def assert_same_content(source: Storage, target: Storage) -> None:
    before, after = rows_by_table(dump(source)), rows_by_table(dump(target))
    assert set(after) == {
        "sources",
        "articles",
        "article_topics",
        "article_studies",
        "stories",
        "story_keys",
        "mesh_descriptors",
        "mesh_terms",
        "meta",
    }
    assert after == before
    # And through the interface every feed uses: same articles, topics, order and health.
    query = ArticleQuery(limit=200)
    assert target.query_articles(query) == source.query_articles(query)
    assert target.source_health() == source.source_health()
    assert target.counters() == source.counters()
    assert target.topic_counts() == source.topic_counts()
    assert target.search_mesh("lupus") == source.search_mesh("lupus")
    assert all(new > old for new, old in zip(target.versions(), source.versions(), strict=True))


def test_an_export_holds_every_table_and_ends_with_its_row_counts(filled: Storage) -> None:
    lines = dump(filled).splitlines()
    header, end = json.loads(lines[0]), json.loads(lines[-1])
    assert header == {
        "format": "feeds-export",
        "version": 1,
        "revision": Storage.head_revision(),
        "exported_at": NOW.isoformat(),
    }
    assert end["end"]["articles"] == filled.count_articles() >= 40
    assert end["end"]["sources"] == len(filled.source_health()) >= 20
    assert end["end"]["mesh_descriptors"] >= 1
    assert sum(end["end"].values()) == len(lines) - 2


def test_a_database_moves_into_a_new_sqlite_database_row_for_row(
    filled: Storage, tmp_path: Path
) -> None:
    target = Storage.open(f"sqlite:///{tmp_path / 'copy.db'}")
    target.migrate()
    try:
        counts = import_(target, io.StringIO(dump(filled)), "export.jsonl")
        assert counts["articles"] == filled.count_articles()
        assert_same_content(filled, target)
        # The copy's full-text index was rebuilt from the imported rows.
        found = target.query_articles(ArticleQuery(text="lupus", limit=200))
        assert found == filled.query_articles(ArticleQuery(text="lupus", limit=200))
        assert found
    finally:
        target.close()


@pytest.mark.postgresql
def test_a_sqlite_database_moves_into_postgresql_row_for_row(
    filled: Storage, postgres_url: str
) -> None:
    target = Storage.open(postgres_url)
    target.migrate()
    try:
        import_(target, io.StringIO(dump(filled)), "export.jsonl")
        assert_same_content(filled, target)
    finally:
        target.close()


def test_import_refuses_a_database_that_already_holds_data(filled: Storage, tmp_path: Path) -> None:
    exported = dump(filled)
    with pytest.raises(StorageError, match="already holds sources, articles, mesh_descriptors"):
        import_(filled, io.StringIO(exported), "export.jsonl")
    assert dump(filled) == exported  # nothing stored was touched


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: lines[:-1], r"export\.jsonl:\d+: the file ends before its end line"),
        (lambda lines: ["{}", *lines[1:]], r"export\.jsonl:1: not a feeds export"),
        (
            lambda lines: [lines[0], "not json", *lines[1:]],
            r"export\.jsonl:2: not JSON",
        ),
        (
            lambda lines: [lines[0], lines[1].replace('"name":', '"nickname":'), *lines[2:]],
            r"export\.jsonl:2: sources has no column nickname \(an export from a newer feeds",
        ),
        (
            lambda lines: [*lines[:2], *lines[3:]],
            r"export\.jsonl:\d+: row counts .* differ from",
        ),
        # Values of the wrong type were a ValueError, an OverflowError or a driver error
        # (a traceback, or a line-less storage error), or were stored and made every page
        # that showed the article a 500.
        (
            lambda lines: [lines[0], "[" * 100_000 + "]" * 100_000, *lines[1:]],
            r"export\.jsonl:2: not JSON \(nested too deeply\)",
        ),
        (
            lambda lines: [lines[0], damage_row(lines[1], created_at="soon"), *lines[2:]],
            r"export\.jsonl:2: sources\.created_at: not an ISO 8601 date-time with its offset",
        ),
        (
            lambda lines: [
                lines[0],
                damage_row(lines[1], created_at="2024-01-01T00:00:00"),
                *lines[2:],
            ],
            r"export\.jsonl:2: sources\.created_at: not an ISO 8601 date-time with its offset",
        ),
        (
            lambda lines: [lines[0], damage_row(lines[1], error_count=10**30), *lines[2:]],
            r"export\.jsonl:2: sources\.error_count: not a whole number of at most 64 bits",
        ),
        (
            lambda lines: [lines[0], damage_row(lines[1], name=["x"]), *lines[2:]],
            r"export\.jsonl:2: sources\.name: not a string",
        ),
        (
            lambda lines: [lines[0], damage_row(lines[1], name=None), *lines[2:]],
            r"export\.jsonl:2: sources\.name: must not be null",
        ),
        (
            lambda lines: [lines[0], damage_row(lines[1], enabled="yes"), *lines[2:]],
            r"export\.jsonl:2: sources\.enabled: not true or false",
        ),
        (
            lambda lines: damage_first(lines, "articles", authors=5),
            r"export\.jsonl:\d+: articles\.authors: not a list",
        ),
    ],
)
def test_a_damaged_export_imports_nothing_and_names_the_line(
    filled: Storage, tmp_path: Path, damage: object, message: str
) -> None:
    lines = dump(filled).splitlines()
    damaged = "\n".join(damage(lines)) + "\n"  # type: ignore[operator]
    target = Storage.open(f"sqlite:///{tmp_path / 'copy.db'}")
    target.migrate()
    try:
        versions = target.versions()
        with pytest.raises(TransferError, match=message) as caught:
            import_(target, io.StringIO(damaged), "export.jsonl")
        assert str(caught.value).startswith("import: ")
        assert (target.count_articles(), target.source_health(), target.mesh_count()) == (
            0,
            (),
            0,
        )
        assert target.versions() == versions
    finally:
        target.close()


def damage_row(line: str, **values: object) -> str:
    """An export line with some of its row's values replaced."""
    item = json.loads(line)
    item["row"].update(values)
    return json.dumps(item)


def damage_first(lines: list[str], table: str, **values: object) -> list[str]:
    """The export's lines with the first row of ``table`` damaged."""
    at = next(i for i, line in enumerate(lines) if f'"table":"{table}"' in line)
    return [*lines[:at], damage_row(lines[at], **values), *lines[at + 1 :]]


def test_export_and_import_commands_copy_a_database_through_a_gzip_file(
    filled: Storage, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: sqlite:///feeds.db\n", encoding="utf-8")
    dumped = tmp_path / "feeds.jsonl.gz"
    out = CliRunner().invoke(cli, ["export", "--config", str(config), str(dumped)])
    assert out.exit_code == 0, out.output
    assert out.stderr.startswith("exported ")
    copy = tmp_path / "copy.db"
    result = CliRunner().invoke(
        cli,
        ["import", "--config", str(config), str(dumped)],
        env={"FEEDS_DATABASE_URL": f"sqlite:///{copy}"},
    )
    assert result.exit_code == 0, result.output
    assert f"into sqlite:///{copy}" in result.stderr
    target = Storage.open(f"sqlite:///{copy}")
    try:
        assert_same_content(filled, target)
    finally:
        target.close()


def test_import_command_reports_a_file_that_is_not_an_export(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: sqlite:///feeds.db\n", encoding="utf-8")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "--config", str(config), str(bogus)])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"import: {bogus}:1: not JSON (Expecting value: line 1 column 1 (char 0))\n"
    )
    missing = CliRunner().invoke(cli, ["import", "--config", str(config), "nowhere.jsonl"])
    assert missing.exit_code == 2
    assert missing.stderr.startswith("import: [Errno 2] No such file or directory")


def test_import_command_reports_a_file_it_cannot_decode_with_its_line(
    filled: Storage, tmp_path: Path
) -> None:
    # Not UTF-8, a gzip cut short, a gzip with damaged data: a UnicodeDecodeError traceback,
    # click's bare "Aborted!" (it takes EOFError for Ctrl-D) and a zlib.error traceback.
    config = tmp_path / "config.yaml"
    config.write_text("database: sqlite:///feeds.db\n", encoding="utf-8")
    exported = gzip.compress(dump(filled).encode())
    files = {
        "latin1.jsonl": (b"\xe9t\xe9\n", r":1: cannot read \(.*can't decode byte 0xe9"),
        "short.jsonl.gz": (exported[: len(exported) // 2], r":\d+: cannot read \(Compressed"),
        "bad.jsonl.gz": (exported[:30] + b"x" * 50 + exported[80:], r":\d+: cannot read \("),
    }
    for name, (content, message) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = CliRunner().invoke(
            cli,
            ["import", "--config", str(config), str(path)],
            env={"FEEDS_DATABASE_URL": f"sqlite:///{tmp_path / 'copy.db'}"},
        )
        assert result.exit_code == 2, (name, result.output)
        assert re.fullmatch(f"import: {re.escape(str(path))}{message}.*\n", result.stderr), (
            name,
            result.stderr,
        )
    target = Storage.open(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        assert target.count_articles() == 0
    finally:
        target.close()


def test_export_command_reports_a_file_it_cannot_write_in_one_line(
    filled: Storage, tmp_path: Path
) -> None:
    # A missing folder and a full disk were an OSError traceback.
    config = tmp_path / "config.yaml"
    config.write_text("database: sqlite:///feeds.db\n", encoding="utf-8")
    for target in (tmp_path / "no-such-folder" / "feeds.jsonl", Path("/dev/full")):
        result = CliRunner().invoke(cli, ["export", "--config", str(config), str(target)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("export: ")
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
