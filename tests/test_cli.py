"""The ``feeds`` command line, run in-process with click's runner and as a real process."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from feeds.cli import cli
from tests.httpserver import DATA, FeedServer

REPO = Path(__file__).parent.parent


def write_config(tmp_path: Path, server: FeedServer) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
database: sqlite:///feeds.db
fetch: {{timeout: 5}}
sources:
  - {{id: rss, name: RSS, url: "{server.url("/feeds/rss20.xml")}", allow_private: true}}
  - {{id: gone, name: Gone, url: "{server.url("/status/410")}", allow_private: true}}
  - {{id: nowhere, name: Nowhere, url: "http://no-such-host.invalid/feed"}}
""",
        encoding="utf-8",
    )
    return path


def test_update_json_reports_every_source_and_exits_0_despite_failures(
    tmp_path: Path, server: FeedServer
) -> None:
    config = write_config(tmp_path, server)
    result = CliRunner().invoke(cli, ["update", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["new"], summary["updated"], summary["unchanged"], summary["failed"]) == (
        3,
        0,
        0,
        2,
    )
    by_id = {s["id"]: s for s in summary["sources"]}
    assert set(by_id["rss"]) == {"id", "status", "new", "updated", "error_kind", "error"}
    assert (by_id["gone"]["status"], by_id["gone"]["error_kind"]) == ("gone", "http_status")
    assert by_id["nowhere"] == {
        "id": "nowhere",
        "status": "failing",
        "new": 0,
        "updated": 0,
        "error_kind": "dns",
        "error": by_id["nowhere"]["error"],
    }

    again = CliRunner().invoke(cli, ["update", "--config", str(config), "--json", "--all"])
    assert json.loads(again.stdout)["new"] == 0


def test_sources_json_lists_health(tmp_path: Path, server: FeedServer) -> None:
    config = write_config(tmp_path, server)
    CliRunner().invoke(cli, ["update", "--config", str(config), "--json"])
    result = CliRunner().invoke(cli, ["sources", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["rss"]["status"] == "ok"
    assert rows["rss"]["articles"] == 3
    assert rows["nowhere"]["status"] == "failing"
    assert rows["nowhere"]["error_count"] == 1
    expected = {"id", "url", "status", "last_success", "error_kind", "error", "error_count"}
    expected |= {"failing_since", "next_check", "articles_7d", "last_bytes", "last_duration_ms"}
    assert expected <= set(rows["rss"])
    assert rows["rss"]["last_bytes"] == len((DATA / "rss20.xml").read_bytes())

    failing = CliRunner().invoke(cli, ["sources", "--config", str(config), "--json", "--failing"])
    assert {row["id"] for row in json.loads(failing.stdout)} == {"gone", "nowhere"}


def test_check_prints_every_problem_with_its_line_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "fetch: {timeout: fast}\nsources:\n  - {id: Bad Id, name: X, url: https://x.example/}\n"
        "  - {id: ok, name: Y, url: 'gopher://x'}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check", "--config", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{config}:1", f"{config}:3", f"{config}:4"]


def test_check_summarises_a_valid_config() -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(REPO / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "OK:" in result.stdout
    assert "sources" in result.stdout


def test_update_with_unknown_source_id_is_a_usage_error(tmp_path: Path, server: FeedServer) -> None:
    config = write_config(tmp_path, server)
    result = CliRunner().invoke(cli, ["update", "--config", str(config), "--source", "nope"])
    assert result.exit_code == 2
    assert "unknown source id: nope" in result.stderr


def test_unusable_database_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("database: sqlite:///blocker/feeds.db\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["migrate", "--config", str(config)])
    assert result.exit_code == 1
    assert result.stderr.startswith("storage:")
    assert "Traceback" not in result.output


def sqlite_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'feeds.db'}\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["migrate", "--config", str(config)]).exit_code == 0
    return config


def test_get_prints_a_failing_routes_500_body_and_exits_1(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)
    # A stored date no reader can parse makes the sources page fail inside the app.
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        db.execute(
            "INSERT INTO sources (id, name, config_url, url, enabled, status, error_count,"
            " created_at, last_fetch_at) VALUES ('x', 'X', 'https://a.example/',"
            " 'https://a.example/', 1, 'ok', 0, '2026-01-01 00:00:00', 'not a date')"
        )
    result = CliRunner().invoke(cli, ["get", "--config", str(config), "/sources"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == "Internal Server Error"
    assert result.stderr == "get: /sources: HTTP 500\n"


def test_get_with_a_path_too_long_for_a_url_is_a_clear_error(tmp_path: Path) -> None:
    config = sqlite_config(tmp_path)
    result = CliRunner().invoke(cli, ["get", "--config", str(config), "/" + "a" * 70_000])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("get: cannot request that PATH: URL too long")


def test_python_dash_m_feeds_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("feeds, version")
