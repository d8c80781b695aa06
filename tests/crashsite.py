"""A site of many synthetic RSS feeds on the loopback test server, and what a database holds.

Used by the crash and database-fault tests: ``publish`` puts ``count`` deterministic feeds
(seeded; some items about lupus or CAR-T, most about neither) on ``tests.httpserver`` and
writes a config over them; ``snapshot`` reads back what a database stores, in a form two
databases can be compared by; ``damage`` lists what a crash must never leave behind.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from tests.httpserver import FeedServer
from tests.servers import TOPICS

TOPIC_PHRASES = (
    "systemic lupus erythematosus",
    "lupus nephritis",
    "CAR-T cell therapy",
    "chimeric antigen receptor T cells",
)
FILLER = (
    "hospital admissions rose in the winter months",
    "the trial enrolled adults across twelve centres",
    "researchers reported the findings at a meeting",
    "the agency published new guidance for clinicians",
    "costs of care varied widely between regions",
    "a cohort of patients was followed for five years",
    "the study was funded by a national institute",
    "the results need confirmation in larger samples",
)
EPOCH = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)  # items are dated before this, never "now"


def feed_body(number: int, items: int, seed: int) -> bytes:
    """RSS 2.0 feed ``number``: ``items`` items of about a kilobyte, a third on a topic."""
    rng = random.Random(seed * 1_000_003 + number)
    entries = []
    for item in range(items):
        sentences = [rng.choice(FILLER) for _ in range(rng.randint(8, 14))]
        title = f"Report {number}-{item}: {rng.choice(FILLER)}"
        if rng.random() < 1 / 3:
            phrase = rng.choice(TOPIC_PHRASES)
            title = f"{title}, with {phrase}"
            sentences.insert(rng.randrange(len(sentences)), f"patients with {phrase}")
        published = EPOCH - timedelta(hours=number * 1000 + item)
        entries.append(
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>https://news{number}.example/articles/{item}</link>"
            f"<guid isPermaLink='false'>feed-{number}-item-{item}</guid>"
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape('<p>' + '. '.join(sentences).capitalize() + '.</p>')}"
            "</description>"
            "</item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0'><channel>"
        f"<title>Health site {number}</title><link>https://news{number}.example/</link>"
        f"<description>Synthetic feed {number}</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def publish(
    server: FeedServer,
    folder: Path,
    *,
    count: int,
    items: int,
    seed: int,
    fetch: str = "",
    database: str = "feeds.db",
) -> Path:
    """Serve ``count`` feeds of ``items`` items and write ``folder/config.yaml`` over them.

    ``database`` is the SQLite file, relative to ``folder``; ``fetch`` adds keys to the
    ``fetch:`` mapping. The same seed with more items serves the same feeds with items added
    (at the same URLs), as a publisher does.
    """
    lines = [
        f"database: sqlite:///{database}",
        # One loopback host serves every feed: no spacing between requests to it.
        f"fetch: {{host_spacing: 0, per_host: 8, concurrency: 8{', ' + fetch if fetch else ''}}}",
        "sources:",
    ]
    for number in range(count):
        url = server.put(f"site{seed}/{number}.xml", feed_body(number, items, seed))
        lines.append(
            f"  - {{id: s{number:03d}, name: Site {number}, url: '{url}', allow_private: true}}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\ntopics:\n" + TOPICS, encoding="utf-8")
    return config


@dataclass(frozen=True)
class Stored:
    """One stored article, as far as two runs must agree on it."""

    source_id: str
    content_hash: str
    topics: frozenset[str]


def snapshot(database: Path) -> dict[str, Stored]:
    """Every stored article by id: its source, content hash and topic slugs."""
    with closing(_connect(database)) as connection:
        topics: dict[str, set[str]] = {}
        for article_id, topic in connection.execute("SELECT article_id, topic FROM article_topics"):
            topics.setdefault(article_id, set()).add(topic)
        return {
            article_id: Stored(source_id, content_hash, frozenset(topics.get(article_id, ())))
            for article_id, source_id, content_hash in connection.execute(
                "SELECT id, source_id, content_hash FROM articles"
            )
        }


def statuses(database: Path) -> dict[str, str]:
    """Every source's stored status."""
    with closing(_connect(database)) as connection:
        return dict(connection.execute("SELECT id, status FROM sources").fetchall())


def damage(database: Path, reference: dict[str, Stored]) -> list[str]:
    """What a crash must never leave in ``database``, compared with an uninterrupted run's
    ``reference``: a failed integrity or foreign-key check, a topic row without its article,
    or a source whose articles are only partly stored, stored without their topics, or
    stored while the source is not recorded as fetched (each source is one transaction)."""
    found: list[str] = []
    if not database.exists():
        return found  # killed before the database was created
    with closing(_connect(database)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            found.append(f"integrity_check: {integrity[:5]}")
        if foreign := connection.execute("PRAGMA foreign_key_check").fetchall():
            found.append(f"foreign_key_check: {foreign[:5]}")
        if "article_topics" not in tables:
            return found
        orphans = connection.execute(
            "SELECT count(*) FROM article_topics t LEFT JOIN articles a ON a.id = t.article_id"
            " WHERE a.id IS NULL"
        ).fetchone()[0]
        if orphans:
            found.append(f"{orphans} article_topics rows without their article")
    if not {"sources", "articles", "article_topics"} <= tables:
        return found  # killed while the schema was being created: nothing stored yet
    stored = snapshot(database)
    by_source: dict[str, dict[str, Stored]] = {}
    for article_id, article in reference.items():
        by_source.setdefault(article.source_id, {})[article_id] = article
    for source_id, status in statuses(database).items():
        have = {k: v for k, v in stored.items() if v.source_id == source_id}
        want = by_source.get(source_id, {})
        if status == "new" and have:
            found.append(f"{source_id}: {len(have)} articles stored but the source is 'new'")
        elif status != "new" and have != want:
            missing = len(set(want) - set(have))
            wrong = sum(1 for k in set(want) & set(have) if want[k] != have[k])
            found.append(f"{source_id} ({status}): {missing} articles missing, {wrong} differ")
    return found


def health(database: Path) -> list[list[object]]:
    """Every source's status, error count, error kind and last success, by id."""
    with closing(_connect(database)) as connection:
        query = "SELECT id, status, error_count, error_kind, last_success_at FROM sources"
        return sorted(list(row) for row in connection.execute(query))


def report(database: Path) -> dict[str, object]:
    """``snapshot``, ``health`` and ``damage`` (against its own snapshot) as JSON values."""
    stored = snapshot(database)
    return {
        "articles": {k: [v.source_id, v.content_hash, sorted(v.topics)] for k, v in stored.items()},
        "health": health(database),
        "damage": damage(database, stored),
    }


def _connect(database: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(database, timeout=30)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


if __name__ == "__main__":
    # ``python -m tests.crashsite DATABASE``: the report as JSON, for a database only another
    # mount namespace can see (SQLite resolves /proc/PID/root links to the caller's "/").
    print(json.dumps(report(Path(sys.argv[1]))))
