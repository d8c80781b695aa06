"""Scale-out on one machine: several ``feeds worker`` and ``feeds serve --no-update``
processes on one database, against the loopback feed server.

Runs in CI (``.ci/run`` sets ``FEEDS_TEST_DATABASE_URL``; see tests/databases.py). Asserts
what issue #7 asks of many workers and many replicas: each due feed is fetched exactly once
per cycle across the workers; no article is stored twice; both replicas serve the same feed
(same ETag) at most 2 s after a change; a worker killed with SIGKILL mid-fetch leaves its
sources to the others once its lease (3 s here) runs out, and nothing is lost or duplicated.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from feeds.cli import cli
from feeds.models import ArticleQuery
from feeds.storage import Storage
from feeds.storage.schema import articles, sources
from tests.httpserver import FeedServer
from tests.servers import free_port, opener, sample_config

FEEDS = 100
ITEMS = 3
LEASE_S = 3


def rss(n: int, items: int) -> bytes:
    """Feed ``n`` with ``items`` lupus stories, the newest last-numbered."""
    entries = "".join(
        f"<item><title>Lupus story {i} of feed {n}</title>"
        f"<guid isPermaLink='false'>feed-{n}-{i}</guid>"
        f"<link>https://f{n}.example/{i}</link>"
        f"<pubDate>Mon, 02 Mar 2026 {i % 24:02d}:{n % 60:02d}:00 +0000</pubDate>"
        f"<description>Lupus news number {i}.</description></item>"
        for i in range(items)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {n}</title>"
        f"<link>https://f{n}.example/</link><description>d</description>{entries}"
        "</channel></rss>"
    ).encode()


def write_config(folder: Path, server: FeedServer, database: str, feeds: int) -> Path:
    lines = [
        "site: {title: Scale-out, base_url: 'http://feeds.test'}",
        f"database: '{database}'",
        f"fetch: {{lease: {LEASE_S}s, deadline: 2, timeout: 2, host_spacing: 0, per_host: 16,"
        " concurrency: 8, interval: 1h}",
        "sources:",
    ]
    for n in range(feeds):
        server.put(f"f{n}.xml", rss(n, ITEMS))
        lines.append(
            f"  - {{id: f{n}, name: F{n}, url: '{server.url(f'/held/f{n}.xml')}',"
            " allow_private: true}"
        )
    lines += ["topics:", "  - {slug: lupus, title: Lupus, terms: [lupus]}"]
    path = folder / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FEEDS_")}


def start(folder: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    """``python -m feeds ARGS`` with output to FOLDER/NAME.log (a file: never blocks)."""
    with (folder / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "feeds", *args], stdout=log, stderr=log, env=clean_env()
        )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def get(url: str) -> tuple[str, bytes]:
    with opener.open(url, timeout=10) as response:
        return response.headers["ETag"], response.read()


def fetch_counts(server: FeedServer) -> Counter[str]:
    return Counter(r.path for r in server.requests if r.path.startswith("/held/"))


def stopped(*processes: subprocess.Popen[bytes]) -> None:
    """SIGTERM to all at once, then wait for each (killed if it takes too long)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    stopped(*started)


def checked_since(store: Storage, since: datetime) -> int:
    """How many sources have stored a fetch outcome since ``since``."""
    with store.engine.connect() as connection:
        query = select(func.count()).where(sources.c.last_fetch_at >= since)
        return int(connection.execute(query).scalar_one())


def article_keys(store: Storage) -> list[tuple[str, str]]:
    with store.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(articles.c.source_id, articles.c.entry_id))
        ]


@pytest.mark.postgresql
def test_workers_and_replicas_share_one_postgresql_database(
    tmp_path: Path,
    server: FeedServer,
    postgres_url: str,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    config = write_config(tmp_path, server, postgres_url, FEEDS)
    store = Storage.open(postgres_url)
    try:
        # Cycle 1: three workers and two replicas start together on an empty database.
        began = datetime.now(UTC)
        for w in range(3):
            processes.append(
                start(tmp_path, f"worker{w}", "worker", "--json", "--config", str(config))
            )
        ports = [free_port(), free_port()]
        for r, port in enumerate(ports):
            processes.append(
                start(tmp_path, f"replica{r}", "serve", "--no-update", "--config", str(config),
                      "--port", str(port))
            )  # fmt: skip
        wait_for(lambda: store.revision() == Storage.head_revision(), "the schema")
        wait_for(lambda: checked_since(store, began) == FEEDS, "every source fetched", 60)
        counts = fetch_counts(server)
        assert sorted(counts.values()) == [1] * FEEDS, counts  # exactly once, across workers
        keys = article_keys(store)
        assert len(keys) == len(set(keys)) == FEEDS * ITEMS

        # A change: both replicas serve it, with one ETag, at most 2 s after the commit.
        # collapse=none: the synthetic items of all feeds are near-duplicates (one story).
        feed = [f"http://127.0.0.1:{port}/feeds/all.rss?collapse=none" for port in ports]
        for url in feed:
            wait_for(functools.partial(ready, url), "a replica")
        before = [get(url) for url in feed]
        assert before[0][0] == before[1][0]
        server.put("f7.xml", rss(7, ITEMS + 1))
        changed = CliRunner().invoke(
            cli, ["update", "--source", "f7", "--json", "--config", str(config)]
        )
        assert json.loads(changed.stdout)["new"] == 1, changed.output
        committed = time.monotonic()
        time.sleep(max(0.0, committed + 2.0 - time.monotonic()))
        after = [get(url) for url in feed]
        assert after[0][0] == after[1][0] != before[0][0]
        assert b"Lupus story 3 of feed 7" in after[0][1]

        # Cycle 2: every source due again with one new story each; a worker dies mid-fetch.
        stopped(*processes[:3])
        server.requests.clear()
        for n in range(FEEDS):
            server.put(f"f{n}.xml", rss(n, ITEMS + 2))
        began = datetime.now(UTC)
        with store.engine.begin() as connection:
            connection.execute(update(sources).values(next_check_at=began - timedelta(seconds=1)))
        server.released.clear()  # fetches hang until released
        # Named like a worker of another host: the late workers cannot see it die, so only
        # its lease ending frees its sources (on one host, feeds.leases frees them at once).
        doomed = start(
            tmp_path, "doomed", "worker", "--json", "--name", "elsewhere", "--config", str(config)
        )
        processes.append(doomed)
        wait_for(lambda: len(fetch_counts(server)) == 8, "the doomed worker's 8 fetches")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        killed = {r.path for r in server.requests}
        # When each doomed lease ends, on the server's monotonic clock (the requests' clock).
        with store.engine.connect() as connection:
            wall, mono = datetime.now(UTC), time.monotonic()
            held = connection.execute(
                select(sources.c.leased_until).where(sources.c.leased_until.is_not(None))
            ).scalars()
            lease_ends = [mono + (until - wall).total_seconds() for until in held]
        assert len(lease_ends) == 8
        server.released.set()
        for w in range(2):
            processes.append(
                start(tmp_path, f"late{w}", "worker", "--json", "--config", str(config))
            )
        wait_for(lambda: checked_since(store, began) == FEEDS, "every source fetched again", 60)
        counts = fetch_counts(server)
        assert {path for path, n in counts.items() if n == 2} == killed
        assert sorted(counts.values()) == [1] * (FEEDS - 8) + [2] * 8
        for path in killed:  # taken again only once the lease ran out
            second = max(r.started for r in server.requests if r.path == path)
            assert second >= min(lease_ends) - 0.05  # clock resolution
        keys = article_keys(store)
        assert len(keys) == len(set(keys)) == FEEDS * (ITEMS + 2)
    finally:
        store.close()


def ready(url: str) -> bool:
    try:
        get(url)
    except OSError:
        return False
    return True


def test_two_workers_started_together_fetch_each_source_once(
    tmp_path: Path, server: FeedServer, backend_url: str
) -> None:
    feeds = 24
    config = write_config(tmp_path, server, backend_url, feeds)
    server.released.clear()  # both workers' first fetches wait: they surely overlap
    command = [sys.executable, "-m", "feeds", "worker", "--once", "--json", "--config", str(config)]
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(server.requests) == 16, "8 fetches in flight from each worker")
    finally:
        server.released.set()
    outputs = [worker.communicate(timeout=60) for worker in workers]
    for worker, (_, errors) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, errors
    fetched = [{s["id"] for s in json.loads(out)["sources"]} for out, _ in outputs]
    assert all(fetched)  # both took part
    assert fetched[0].isdisjoint(fetched[1])
    assert fetched[0] | fetched[1] == {f"f{n}" for n in range(feeds)}
    assert sorted(fetch_counts(server).values()) == [1] * feeds
    store = Storage.open(backend_url)
    try:
        assert store.count_articles() == feeds * ITEMS
    finally:
        store.close()


@pytest.mark.postgresql
def test_update_with_a_postgresql_url_from_the_environment_stores_the_samples(
    tmp_path: Path, postgres_url: str
) -> None:
    config = sample_config(tmp_path, "http://feeds.test")  # says sqlite; the variable wins
    result = subprocess.run(
        [sys.executable, "-m", "feeds", "update", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=clean_env() | {"FEEDS_DATABASE_URL": postgres_url},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["failed"] == 0
    assert summary["new"] > 0
    assert not (tmp_path / "feeds.db").exists()
    store = Storage.open(postgres_url)
    try:
        assert store.count_articles() == summary["new"]
        assert store.query_articles(ArticleQuery(topics=("lupus",), text="lupus"))
    finally:
        store.close()
