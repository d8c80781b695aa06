"""A database that is read-only or full: a clear error, nothing lost, reads still served, and
the next update stores once the condition goes.

Both conditions are real, made in a mount namespace of the test's own (``tests.mountns``):
a read-only file is the database file bind-mounted over itself read-only (``EROFS``, even
for root, where ``chmod`` would not stop a write); a full disk is a small tmpfs over the
database's folder filled by a ballast file (``ENOSPC``). See docs/security.md.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from feeds.cli import cli
from tests.crashsite import publish, report, snapshot
from tests.httpserver import FeedServer
from tests.mountns import MountNamespace, needs_namespace
from tests.servers import free_port, opener

pytestmark = needs_namespace

SOURCES = 10
ITEMS = 20
MORE = 25  # items per feed once the publishers have added some
SEED = 3
CONDITIONS = ("read-only", "full")


@pytest.fixture
def namespace() -> Iterator[MountNamespace]:
    shell = MountNamespace()
    yield shell
    shell.close()


def site(server: FeedServer, folder: Path, items: int, fetch: str = "") -> Path:
    return publish(
        server, folder, count=SOURCES, items=items, seed=SEED, fetch=fetch, database="db/feeds.db"
    )


def seed(config: Path) -> Path:
    """Fill the database with the site as it is; the database file."""
    done = CliRunner().invoke(cli, ["update", "--config", str(config), "--json"])
    assert done.exit_code == 0, done.output
    database = config.parent / "db" / "feeds.db"
    assert len(snapshot(database)) == SOURCES * ITEMS
    return database


def start(namespace: MountNamespace, condition: str, database: Path) -> None:
    if condition == "read-only":
        namespace.read_only(database)
    else:
        namespace.fill(database.parent)


def stop(namespace: MountNamespace, condition: str, database: Path) -> None:
    if condition == "read-only":
        namespace.writable(database)
    else:
        namespace.free(database.parent)


def look(namespace: MountNamespace, database: Path) -> dict[str, Any]:
    """``tests.crashsite.report`` of the database as the namespace sees it."""
    _, output = namespace.run(f"{sys.executable} -m tests.crashsite {database}")
    found: dict[str, Any] = json.loads(output)
    return found


@pytest.mark.parametrize("condition", CONDITIONS)
def test_update_on_a_read_only_or_full_database_fails_in_one_line_and_recovers(
    condition: str, tmp_path: Path, server: FeedServer, namespace: MountNamespace
) -> None:
    config = site(server, tmp_path, ITEMS)
    database = seed(config)
    before = report(database)
    site(server, tmp_path, MORE)  # the publishers add items: the next update has work
    if condition == "full":
        namespace.small_disk(
            database.parent, megabytes=16
        )  # room for the database and its WAL once the ballast goes
    update = f"{sys.executable} -m feeds update --all --config {config}"

    start(namespace, condition, database)
    status, output = namespace.run(update, check=False)
    assert status == 1, output
    assert len(output.splitlines()) == 1, output  # one line, no traceback
    assert output.startswith("storage: "), output
    assert ("is read-only" if condition == "read-only" else "is full") in output, output

    stop(namespace, condition, database)
    after_failure = look(namespace, database)
    assert after_failure["articles"] == before["articles"]  # nothing lost or half-written
    assert after_failure["health"] == before["health"]  # source health untouched
    assert after_failure["damage"] == []
    status, output = namespace.run(update, check=False)
    assert status == 0, output
    recovered = look(namespace, database)
    assert len(recovered["articles"]) == SOURCES * MORE
    assert {row[1] for row in recovered["health"]} == {"ok"}
    assert recovered["damage"] == []


def get(url: str) -> tuple[int, bytes]:
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.request.HTTPError as error:
        return error.code, b""
    except OSError:
        return 0, b""


def wait_for(what: str, check: object, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}; log:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_serve_on_a_read_only_or_full_database_keeps_serving_and_recovers(
    condition: str, tmp_path: Path, server: FeedServer, namespace: MountNamespace
) -> None:
    # Every source is due every second, so the updater writes all the time.
    config = site(server, tmp_path, ITEMS, fetch="interval: 1s, min_interval: 1s")
    database = seed(config)
    if condition == "full":
        # 16 MB: room for the database and its WAL to grow again once the ballast goes.
        namespace.small_disk(database.parent, megabytes=16)
    else:
        # A file made read-only under a running process would still be written through the
        # descriptor it holds: the realistic case is a server started on a read-only file.
        start(namespace, condition, database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "feeds", "serve", "--config", str(config), "--port", str(port)]
    pid = namespace.start(argv, log)
    try:
        wait_for("readiness", lambda: get(f"{base}/readyz")[0] == 200, log)
        before = get(f"{base}/feeds/lupus.rss")
        assert before[0] == 200
        assert b"<item>" in before[1]

        if condition == "full":
            start(namespace, condition, database)  # the disk fills up while serving
        site(server, tmp_path, MORE, fetch="interval: 1s, min_interval: 1s")
        wanted = "is read-only" if condition == "read-only" else "is full"
        wait_for(
            "the updater to log the condition",
            lambda: "storage: " in log.read_text() and wanted in log.read_text(),
            log,
        )
        for path in ("/feeds/lupus.rss", "/api/articles", "/", "/sources", "/readyz"):
            assert get(f"{base}{path}")[0] == 200, path  # keeps serving what it has
        time.sleep(2)  # the updater keeps trying, and keeps running
        assert namespace.run(f"kill -0 {pid}", check=False)[0] == 0, log.read_text()
        assert "Traceback" not in log.read_text()

        stop(namespace, condition, database)
        wait_for(
            "the next update to store the new items",
            lambda: len(look(namespace, database)["articles"]) == SOURCES * MORE,
            log,
        )
        assert look(namespace, database)["damage"] == []
        after = get(f"{base}/api/articles?limit=200")
        assert after[0] == 200
    finally:
        namespace.run(f"kill {pid}; while kill -0 {pid} 2>/dev/null; do sleep 0.1; done")
