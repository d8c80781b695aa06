"""A run against every fault the loopback server can produce, read back with
``feeds sources --json``: each fault as its kind, with the right next check."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from feeds.cli import cli
from tests.atom import ATOM, atom_entries
from tests.httpserver import FeedServer

FAULTS = {
    # id: (path, status, error kind, seconds to the next check (None: not checked again))
    "busy": ("/retry/429/7200", "failing", "http_status", 7200),
    "down": ("/retry/503/date", "failing", "http_status", 7200),
    "cached": ("/cached/rss20.xml", "ok", None, 7200),
    "moved": ("/redirect/301/atom10.xml", "ok", None, 3600),
    "loop": ("/loop", "failing", "redirect_loop", 600),
    "gone": ("/status/410", "gone", "http_status", None),
    "error": ("/status/500", "failing", "http_status", 600),
    "drip": ("/slow/rss20.xml", "failing", "timeout", 600),
    "reset": ("/reset/atom10.xml", "failing", "connect", 600),
    "huge": ("/big/20000000", "failing", "too_large", 600),
    "bomb": ("/bomb/15000000", "failing", "too_large", 600),
    "page": ("/feeds/not-a-feed.html", "failing", "not_a_feed", 600),
    "empty": ("/empty", "failing", "empty", 600),
}


def test_every_fault_is_reported_with_its_kind_and_next_check(
    tmp_path: Path, server: FeedServer
) -> None:
    config = tmp_path / "config.yaml"
    lines = [
        "database: sqlite:///feeds.db",
        "fetch: {deadline: 2, max_bytes: 10000000, interval: 1h, backoff_base: 10m,"
        " host_spacing: 0, per_host: 16, concurrency: 16}",
        "sources:",
    ]
    lines += [
        f"  - {{id: {sid}, name: {sid}, url: '{server.url(path)}', allow_private: true}}"
        for sid, (path, *_) in FAULTS.items()
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["update", "--config", str(config), "--json"]).exit_code == 0
    result = runner.invoke(cli, ["sources", "--config", str(config), "--json"])
    rows = {row["id"]: row for row in json.loads(result.stdout)}

    for sid, (_, status, kind, wait) in FAULTS.items():
        row = rows[sid]
        assert (row["status"], row["error_kind"]) == (status, kind), (sid, row["error"])
        if wait is None:
            assert row["next_check"] is None, sid
            continue
        delay = datetime.fromisoformat(row["next_check"]) - datetime.fromisoformat(
            row["last_fetch"]
        )
        # Backoff carries ±10 % jitter; header-driven delays are exact to the second.
        assert abs(delay - timedelta(seconds=wait)) <= timedelta(seconds=wait * 0.1 + 5), sid
    assert rows["moved"]["url"] == server.url("/feeds/atom10.xml")
    assert rows["moved"]["moved_from"] == server.url("/redirect/301/atom10.xml")
    assert rows["error"]["moved_from"] is None
    metrics = runner.invoke(cli, ["get", "--config", str(config), "/metrics"]).stdout
    assert 'feeds_fetch_errors_total{kind="too_large"} 2.0' in metrics
    assert 'feeds_fetches_total{outcome="gone"} 1.0' in metrics
    assert 'feeds_sources{status="failing"} 10.0' in metrics
    assert "links to" in rows["page"]["error"]  # the advertised feed is offered as a hint

    # Operators subscribe to their own service's health: one entry per failing or gone source.
    atom = runner.invoke(cli, ["get", "--config", str(config), "/sources/failing.atom"])
    entries = atom_entries(atom.stdout_bytes)
    titles = {entry.findtext(f"{ATOM}title") or "" for entry in entries}
    broken = {sid for sid, (_, status, *_) in FAULTS.items() if status in ("failing", "gone")}
    assert len(entries) == len(broken)
    for sid in broken:
        assert any(
            title.startswith(f"{sid} is") and rows[sid]["error_kind"] in title for title in titles
        ), sid
