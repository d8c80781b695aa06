"""Topics together with an imported MeSH vocabulary; retag; the commands around them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.cli import cli
from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.retag import retag
from feeds.storage import Storage
from feeds.tagging.matcher import TagInput, article_input, tag
from feeds.tagging.vocabulary import check_mesh, load_rules, mesh_rows
from feeds.update import update
from tests.conftest import MakeSettings
from tests.httpserver import DATA

MESH = DATA / "mesh" / "d-sample.bin"
NOW = datetime(2026, 1, 15, tzinfo=UTC)

LUPUS_BY_MESH = """\
topics:
  - slug: autoimmune
    title: Autoimmune
    mesh: [D001327]
    narrower: true
  - slug: lupus
    title: Lupus
    terms: [lupus]
    exclude: [lupus vulgaris]
    mesh: [D008180]
"""


@pytest.fixture
def with_mesh(storage: Storage) -> Storage:
    storage.import_mesh(mesh_rows(MESH), str(MESH), NOW)
    return storage


def topics_of(settings: Settings, storage: Storage, title: str) -> set[str]:
    return {t.topic for t in tag(TagInput(title), load_rules(settings, storage))}


def test_mesh_entry_terms_join_the_topic_terms(
    with_mesh: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(LUPUS_BY_MESH)
    found = tag(TagInput("Libman-Sacks disease in young women"), load_rules(settings, with_mesh))
    lupus = next(t for t in found if t.topic == "lupus")
    assert lupus.matches[0].rule == "mesh:D008180"


def test_narrower_descriptors_join_a_topic_and_traps_stay_out(
    with_mesh: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(LUPUS_BY_MESH)
    assert "autoimmune" in topics_of(settings, with_mesh, "Sjogren's syndrome: dry eyes explained")
    assert topics_of(settings, with_mesh, "Lupus vulgaris, a skin tuberculosis") == set()


def test_without_a_vocabulary_topics_work_from_their_terms(
    storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(LUPUS_BY_MESH)
    assert topics_of(settings, storage, "Lupus trial") == {"lupus"}
    check = check_mesh(settings, storage)
    assert check.imported == 0
    assert check.errors == ()
    assert "not imported" in check.warnings[0][1]


def test_unknown_mesh_id_is_a_config_error_with_its_line(
    with_mesh: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(LUPUS_BY_MESH.replace("D008180", "D999999"))
    with pytest.raises(ConfigError) as caught:
        load_rules(settings, with_mesh)
    (problem,) = caught.value.problems
    assert problem.endswith(
        ":10: topics[1].mesh[0]: unknown MeSH descriptor D999999 (not in the imported vocabulary)"
    )


def test_update_stores_topics_with_scores_and_matches(
    storage: Storage, make_settings: MakeSettings
) -> None:
    settings = make_settings(
        f"sources:\n  - {{id: s, name: S, url: '{(DATA / 'relative-links.xml').as_uri()}'}}\n"
        "topics:\n  - {slug: lupus, title: Lupus, terms: [lupus, systemic lupus erythematosus]}\n"
    )
    asyncio.run(update(settings, storage))
    tagged = [a for a in storage.recent_articles() if a.topics]
    assert tagged
    (lupus,) = tagged[0].topics
    assert lupus.topic == "lupus"
    assert lupus.score >= 2
    assert lupus.matches


def test_retag_dry_run_shows_the_diff_then_retag_stores_what_the_new_rules_tag(
    backend_storage: Storage, make_settings: MakeSettings
) -> None:
    storage = backend_storage  # on SQLite and PostgreSQL (tests/databases.py)
    source = f"sources:\n  - {{id: s, name: S, url: '{(DATA / 'relative-links.xml').as_uri()}'}}\n"
    before = make_settings(source + "topics:\n  - {slug: lupus, title: Lupus, terms: [lupus]}\n")
    asyncio.run(update(before, storage))
    stored = {a.id: a.topics for a in storage.recent_articles()}
    after = make_settings(
        source
        + "topics:\n  - {slug: lupus, title: Lupus, terms: [lupus nephritis]}\n"
        + "  - {slug: car-t, title: CAR-T, terms: [CAR T cell]}\n"
    )
    report = retag(after, storage, dry_run=True)
    assert report.topics["lupus"].removed >= 1
    assert report.topics["lupus"].removed_examples
    assert {a.id: a.topics for a in storage.recent_articles()} == stored

    written = retag(after, storage)
    assert written.changed == report.changed
    rules = load_rules(after, storage)
    now_stored = storage.recent_articles()
    assert [a.topics for a in now_stored] == [tag(article_input(a), rules) for a in now_stored]
    assert not any(t.topic == "lupus" for a in now_stored for t in a.topics)
    assert retag(after, storage, dry_run=True).changed == 0
    versions = storage.versions()
    assert retag(after, storage).rows_written == 0  # nothing differs: nothing is written
    assert storage.versions() == versions


def config_file(tmp_path: Path, topics: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("database: sqlite:///feeds.db\n" + topics, "utf-8")
    return path


def test_mesh_import_and_search_commands(tmp_path: Path) -> None:
    config = config_file(tmp_path, LUPUS_BY_MESH)
    runner = CliRunner()
    imported = runner.invoke(cli, ["mesh", "import", "--config", str(config), str(MESH)])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("imported 27 MeSH descriptors")
    found = runner.invoke(cli, ["mesh", "search", "--config", str(config), "--json", "lupus"])
    hits = json.loads(found.stdout)
    assert {"ui": "D008181", "heading": "Lupus Nephritis", "term": "Lupus Nephritis"} in hits
    assert hits[0]["term"].lower().startswith("lupus")


def test_mesh_import_refuses_a_file_that_is_not_mesh(tmp_path: Path) -> None:
    config = config_file(tmp_path, "")
    result = CliRunner().invoke(
        cli, ["mesh", "import", "--config", str(config), str(DATA / "rss20.xml")]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("mesh:")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"*NEWRECORD\nRECTYPE = D\nMH = Abdomen\nUI = D000005\n"
            b"*NEWRECORD\nRECTYPE = D\nMH = Abdominal Cavity\n",
            "cut.bin: line 5: descriptor record without a UI line",
        ),
        (
            b"*NEWRECORD\nRECTYPE = Q\nSH = abnormalities\nUI = Q000002\n",
            "no MeSH descriptors in ",
        ),
    ],
)
def test_a_refused_mesh_import_says_why_and_keeps_the_imported_vocabulary(
    tmp_path: Path, content: bytes, message: str
) -> None:
    config = config_file(tmp_path, "")
    runner = CliRunner()
    assert runner.invoke(cli, ["mesh", "import", "--config", str(config), str(MESH)]).exit_code == 0
    bad = tmp_path / "cut.bin"
    bad.write_bytes(content)

    result = runner.invoke(cli, ["mesh", "import", "--config", str(config), str(bad)])

    assert result.exit_code == 2
    assert result.stderr.startswith("mesh: ")
    assert message in result.stderr
    found = runner.invoke(cli, ["mesh", "search", "--config", str(config), "--json", "lupus"])
    assert found.exit_code == 0
    assert json.loads(found.stdout)


def test_check_warns_when_mesh_is_not_imported_and_fails_on_unknown_ids(tmp_path: Path) -> None:
    config = config_file(tmp_path, LUPUS_BY_MESH)
    runner = CliRunner()
    warned = runner.invoke(cli, ["check", "--config", str(config)])
    assert warned.exit_code == 0
    assert "warning:" in warned.stderr
    assert "MeSH is not imported" in warned.stderr

    runner.invoke(cli, ["mesh", "import", "--config", str(config), str(MESH)])
    config.write_text(config.read_text("utf-8").replace("D008180", "D999999"), "utf-8")
    failed = runner.invoke(cli, ["check", "--config", str(config)])
    assert failed.exit_code == 2
    assert f"{config}:11: topics[1].mesh[0]: unknown MeSH descriptor D999999" in failed.stderr


def test_retag_command_prints_per_topic_changes(tmp_path: Path) -> None:
    config = config_file(
        tmp_path,
        f"sources:\n  - {{id: s, name: S, url: '{(DATA / 'relative-links.xml').as_uri()}'}}\n"
        "topics:\n  - {slug: lupus, title: Lupus, terms: [nothing-matches-this]}\n",
    )
    runner = CliRunner()
    runner.invoke(cli, ["update", "--config", str(config), "--json"])
    config.write_text(config.read_text("utf-8").replace("nothing-matches-this", "lupus"), "utf-8")
    result = runner.invoke(cli, ["retag", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would change" in result.stdout
    assert "lupus: +" in result.stdout
