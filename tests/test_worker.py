"""``feeds worker``: one pass for cron, or a loop stopped cleanly by SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from feeds.cli import cli
from feeds.models import SourceHealth, SourceStatus
from feeds.worker import IDLE_MAX, idle_time, retry_delay
from tests.httpserver import DATA, FeedServer

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def write_config(tmp_path: Path, server: FeedServer) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "database: sqlite:///feeds.db\n"
        "sources:\n"
        f"  - {{id: rss, name: RSS, url: '{server.url('/feeds/rss20.xml')}',"
        " allow_private: true}\n"
        f"  - {{id: local, name: Local, url: '{DATA / 'atom10.xml'}'}}\n"
        f"  - {{id: broken, name: Broken, url: '{server.url('/status/500')}',"
        " allow_private: true}\n",
        encoding="utf-8",
    )
    return path


def test_worker_once_prints_the_update_summary(tmp_path: Path, server: FeedServer) -> None:
    config = write_config(tmp_path, server)
    result = CliRunner().invoke(cli, ["worker", "--once", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["new"], summary["failed"]) == (6, 1)
    again = CliRunner().invoke(cli, ["worker", "--once", "--json", "--config", str(config)])
    assert json.loads(again.stdout)["sources"] == []  # nothing is due yet


def test_worker_loop_stops_cleanly_on_sigterm(tmp_path: Path, server: FeedServer) -> None:
    config = write_config(tmp_path, server)
    process = subprocess.Popen(
        [sys.executable, "-m", "feeds", "worker", "--json", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # the first pass has been written
        assert first["new"] == 6
    finally:
        time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def state(next_check: datetime | None, **changes: object) -> SourceHealth:
    values: dict[str, object] = {
        "source_id": "s", "name": "S", "url": "u", "enabled": True, "status": SourceStatus.OK,
        "etag": None, "last_modified": None, "last_fetch_at": None, "last_success_at": None,
        "error_kind": None, "error_message": None, "error_count": 0, "failing_since": None,
        "next_check_at": next_check, "last_bytes": None, "last_duration_ms": None,
    }  # fmt: skip
    values.update(changes)
    return SourceHealth(**values)  # type: ignore[arg-type]


def test_idle_time_sleeps_until_the_next_due_source_within_bounds() -> None:
    soon = [state(NOW + timedelta(seconds=20)), state(NOW + timedelta(hours=3))]
    assert idle_time(soon, NOW) == timedelta(seconds=20)
    assert idle_time([state(NOW - timedelta(hours=1))], NOW) == timedelta(seconds=1)
    assert idle_time([state(NOW + timedelta(hours=3))], NOW) == IDLE_MAX
    gone = state(NOW + timedelta(seconds=5), status=SourceStatus.GONE)
    assert idle_time([gone], NOW) == IDLE_MAX
    assert idle_time([state(None)], NOW) == timedelta(seconds=1)  # held by another worker


def test_retry_delay_after_failed_passes_doubles_from_a_second_up_to_the_idle_cap() -> None:
    delays = [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 6, 7, 50)]
    assert delays == [1, 2, 4, 8, 32, IDLE_MAX.total_seconds(), IDLE_MAX.total_seconds()]
