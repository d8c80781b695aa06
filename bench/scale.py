"""Scale benchmark: a million articles on SQLite or PostgreSQL; feed queries against raw SQL.

Run from the repository root::

    python bench/scale.py                         # 1,000,000 articles in a temporary SQLite file
    python bench/scale.py --articles 50000        # a quick run
    python bench/scale.py --database postgresql+psycopg://postgres@127.0.0.1/feeds_scale
    python bench/scale.py --database sqlite:///big.db --keep    # fill once, measure again later

What it does:

1. **Fill** (not timed against a target): 5,000 sources, N synthetic articles (default 1M)
   with realistic lengths (titles of 40-140 characters, summaries of 150-600, half of them
   with an HTML body of 300-1,500 characters), published over the two years before now, and
   their topic tags over the 29 shipped topics of ``config.yaml`` plus one synthetic topic
   (30). Topics are drawn by a Zipf law (the commonest topic ~24 % of articles, the rarest
   ~0.8 %); a third of the articles draw no topic, most of the rest one or two. Then, as
   ``feeds.tagging`` does, an article in a child topic is also in each of its ancestors
   (``parents:`` in ``config.yaml``, e.g. lupus → autoimmune, covid-19 →
   infectious-disease), the parent's tag scored as the child's with "parent" evidence: so
   the queries measured before a retag read the overlaps real tags have (every lupus
   article is autoimmune, ~41 % of articles are), not independent draws on which two
   related topics rarely meet (before session 4 they were independent, and the filtered
   feed read deep into an index to find 50 articles on both). Rows are written
   with SQLAlchemy Core ``executemany`` through the storage schema (``feeds.storage.schema``)
   in batches of 5,000, not through ``Storage.record_update``: the fill is set-up, and the
   upsert's per-source read-compare-write would only make it slower. Then ``ANALYZE``, and
   on PostgreSQL ``VACUUM`` too (``settle``: what autovacuum does soon after a bulk load,
   and a live database has). An existing filled database (``--keep`` and the same
   ``--database``) is reused.
2. **Queries**: each through ``Storage.query_articles`` (what a render-cache miss of a feed
   or an API page costs: the article query, its topics, the frozen ``Article`` values) and,
   as the baseline, the same query written by hand in SQL and run on the DB-API connection
   (``sqlite3`` or ``psycopg``) with ``fetchall``, reading the same data: the columns an
   ``Article`` is built from, then the page's topic tags and study ids in one ``UNION ALL``
   (before 2026-11-25 the baseline read ``a.*`` and the tags only, not the study ids feeds
   has read since migration 0007). The two alternate, ``--repeats`` times each (default
   30); p50 of each and their ratio are printed, and "rows differ" when the two did not
   return the same articles in the same order.
   - *topic feed*: the 50 newest of one topic (a common and a rare one);
   - *filtered feed*: ``topics=a,b&match=all&q=word&since=…`` (since 180 days ago), and
     the same with two words that are rare together (``RARE_WORDS``, since session 4: the
     case where walking the topic's tags would read to the end of the window). On a
     database without full-text search in this version (PostgreSQL before its ``tsvector``
     index), the ``q=`` part is left out and that is printed. Its baseline is written in
     the shape feeds picks for the data (``filtered_sql``): the word's matches driving
     when they are few, else the rarer topic's tags with the word as a filter (since
     session 4; before, SQLite's planner was free to start from the word's 20,000
     matches, in feeds' query and in the baseline alike);
   - *API page deep in the cursor*: 50 articles after a cursor half-way through the set;
   - *collapsed topic feed* (``collapse=stories``, the default of topic feeds): the 50
     newest stories of the common topic through ``Storage.query_stories``; the baseline
     is the story select, then the stories' members (and updated_at) with a "selected" flag
     in one statement, then the tags and study ids of the selected members (the ones that
     can lead a story). The fill groups articles into stories (``cluster_stories``: runs
     of one to four articles neighbouring in time; a database filled before 2026-11-25
     gets them when reused).
3. **Retag** of the whole set (``feeds.retag.retag``); the fill's tags are synthetic, so
   retag rewrites almost every article's tags: the worst case of a rules change. (A second
   run on a kept database finds them already right: the common case, nothing written.)
   Printed: wall and CPU time, tag rows written, each batch's time, and on PostgreSQL the
   WAL the server wrote meanwhile. With fewer than 1M articles the time for 1M is
   extrapolated linearly and printed as such.
4. **Serving memory**: ``feeds serve --no-update`` on the database, every topic's RSS, Atom
   and JSON feed and 20 API pages requested, then the resident set size (RSS) of the
   serving process tree read from ``/proc``.
5. **Prune** of the articles published over 700 days ago (~4 %), last because it deletes:
   the time of each batch's transaction (how long a writer could wait on it).

Targets: each query ≤ 2× its baseline and < 20 ms p50; serving RSS < 200 MB; retag of 1M <
10 min; each prune batch < 1 s. Each is printed PASS or MISS; the script exits 0 either way.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from bench.report import machine, revision, verdict  # the repository root is on sys.path
from feeds.config import Settings, load_settings
from feeds.models import ArticleQuery
from feeds.retag import retag
from feeds.retention import prune
from feeds.storage import Storage, queries, search
from feeds.storage.schema import article_topics, articles, meta, sources, stories
from feeds.tagging.rules import compile_rules

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config.yaml"
SEED = 20261124
SOURCES = 5_000
TOPICS = 30
BATCH = 5_000
YEARS = 2
SEARCH_WORD = "remission"  # in ~2 % of articles
RARE_WORDS = "remission zymotic"  # both: ~0.02 % (the second is in bench-zz's articles)
MAX_RATIO = 2.0
MAX_QUERY_MS = 20.0
MAX_RSS_MB = 200.0
MAX_RETAG_MINUTES = 10.0
MAX_PRUNE_BATCH_MS = 1000.0  # the longest an updater may wait for SQLite's write lock
PRUNE_KEEP_DAYS = 700
EXTRA_TOPIC = "bench-zz"  # the 30th topic, beside the 29 shipped ones

FILLER = (  # noqa: SIM905 (prose reads better than a list of words)
    "researchers said the findings were published on Tuesday after a review of patient "
    "records from hospitals in several countries and the authors cautioned that larger "
    "trials would be needed before any change to clinical practice health officials welcomed "
    "the report while patient groups asked for faster access to care the study followed "
    "participants for three years and measured outcomes against a control group funding came "
    "from public grants and the team plans a follow up analysis next year"
).split()


@dataclass(frozen=True)
class Corpus:
    """What the synthetic articles are made of."""

    slugs: tuple[str, ...]  # topic slugs, commonest first
    terms: dict[str, tuple[str, ...]]  # a topic's terms, to write into its articles
    weights: tuple[float, ...]  # Zipf weights of the topics
    ancestors: dict[str, tuple[str, ...]]  # a topic's parents, grandparents, ... (may be ())


def corpus() -> Corpus:
    settings = load_settings(CONFIG)
    slugs = [*[t.slug for t in settings.topics][: TOPICS - 1], EXTRA_TOPIC]
    terms = {t.slug: tuple(t.terms[:8]) or (t.title,) for t in settings.topics}
    terms[EXTRA_TOPIC] = ("zymotic fever",)
    weights = tuple(1 / (rank + 1) for rank in range(len(slugs)))
    # The hierarchy as the tagger compiles it (its ancestors, transitively), not re-derived.
    rules = compile_rules(settings.topics).topics
    ancestors = {slug: rules[slug].ancestors if slug in rules else () for slug in slugs}
    return Corpus(tuple(slugs), terms, weights, ancestors)


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(FILLER, k=count))


def _article(
    rng: random.Random, number: int, now: datetime, c: Corpus
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    k = rng.choices((0, 1, 2, 3), weights=(33, 45, 16, 6))[0]
    chosen = sorted(set(rng.choices(c.slugs, weights=c.weights, k=k)))
    mentions = [rng.choice(c.terms[slug]) for slug in chosen]
    title = (" ".join(mentions) + " " + _words(rng, rng.randint(5, 18))).strip()[:140].capitalize()
    summary = _words(rng, rng.randint(25, 95))
    if mentions:
        summary = f"{mentions[0]} {summary}"
    if rng.random() < 0.02:
        summary += f" {SEARCH_WORD}"
    body = ""
    if rng.random() < 0.5:
        body = f"<p>{summary}</p><p>{_words(rng, rng.randint(10, 200))}</p>"
    source = (
        f"s{min(int(rng.paretovariate(1.2)), SOURCES) - 1:04d}"
        if rng.random() < 0.3
        else f"s{rng.randrange(SOURCES):04d}"
    )
    published = now - timedelta(seconds=rng.randrange(YEARS * 365 * 86400))
    article_id = blake2b(f"{number}".encode(), digest_size=16).hexdigest()
    row = {
        "id": article_id,
        "source_id": source,
        "entry_id": f"urn:bench:{number}",
        "url": f"https://news{source}.example/{number}",
        "title": title,
        "summary": summary,
        "content_html": body,
        "published_at": published,
        "updated_at": None,
        "first_seen_at": published,
        "changed_at": published,
        "authors": ["Staff Writer"],
        "categories": [],
        "enclosures": [],
        "dois": [],
        "content_hash": blake2b(title.encode(), digest_size=16).hexdigest(),
    }
    tags = {
        slug: {
            "article_id": article_id,
            "published_at": published,
            "topic": slug,
            "score": 3.0,
            "matches": [[slug, "term", "title", 0, 1]],
        }
        for slug in chosen
    }
    for slug in chosen:  # as the matcher does: a child's article is in its ancestors too
        for parent in c.ancestors[slug]:
            if parent not in tags:  # stored evidence leaves out the topic: [term, rule, ...]
                evidence = [[slug, "parent", "parent", 0, 0]]
                tags[parent] = {**tags[slug], "topic": parent, "matches": evidence}
    return row, list(tags.values())


def fill(storage: Storage, count: int, now: datetime, c: Corpus) -> float:
    """Write the sources and ``count`` articles; seconds taken."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    with storage.engine.begin() as connection:
        connection.execute(
            insert(sources),
            [
                {
                    "id": f"s{n:04d}",
                    "name": f"Source {n}",
                    "config_url": f"https://news{n}.example/feed",
                    "url": f"https://news{n}.example/feed",
                    "enabled": True,
                    "status": "ok",
                    "error_count": 0,
                    "created_at": now,
                }
                for n in range(SOURCES)
            ],
        )
    for start in range(0, count, BATCH):
        rows, tags = [], []
        for number in range(start, min(start + BATCH, count)):
            row, row_tags = _article(rng, number, now, c)
            rows.append(row)
            tags += row_tags
        with storage.engine.begin() as connection:
            connection.execute(insert(articles), rows)
            if tags:
                connection.execute(insert(article_topics), tags)
        done = min(start + BATCH, count)
        if done % 100_000 == 0 or done == count:
            print(f"  filled {done:,} articles ({time.perf_counter() - started:.0f} s)", flush=True)
    with storage.engine.begin() as connection:
        connection.execute(insert(meta).values(key="bench_filled_at", value=now.isoformat()))
    settle(storage)
    return time.perf_counter() - started


def settle(storage: Storage) -> None:
    """After a bulk write: planner statistics, as a live database has; on PostgreSQL also
    VACUUM, as autovacuum soon does after so many inserts or updates (it sets the
    visibility map, without which an index-only scan visits the table for every row)."""
    if storage.engine.dialect.name == "postgresql":
        with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        return
    with storage.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def cluster_stories(storage: Storage) -> int:
    """Group the articles into synthetic stories, if they have none: runs of one to four
    articles neighbouring in publication time (a story's members published close
    together, by different sources), so collapsed feeds read real stories. Stories made."""
    with storage.engine.connect() as connection:
        if connection.execute(select(stories.c.id).limit(1)).first() is not None:
            return 0
        rows = connection.execute(
            select(articles.c.id, articles.c.source_id, articles.c.published_at).order_by(
                articles.c.published_at, articles.c.id
            )
        ).all()
    rng = random.Random(SEED + 1)
    made: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    start = 0
    while start < len(rows):
        group = rows[start : start + rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]]
        start += len(group)
        sources_ = list(dict.fromkeys(r.source_id for r in group))
        made.append(
            {
                "id": group[0].id,
                "first_published": group[0].published_at,
                "updated_at": group[-1].published_at if len(sources_) > 1 else None,
                "sources": sources_,
            }
        )
        members += [{"member": r.id, "story": group[0].id} for r in group]
    assign = (
        articles.update()
        .where(articles.c.id == bindparam("member"))
        .values(story_id=bindparam("story"))
    )
    with storage.engine.begin() as connection:
        for begin in range(0, len(made), BATCH):
            connection.execute(insert(stories), made[begin : begin + BATCH])
        for begin in range(0, len(members), BATCH):
            connection.execute(assign, members[begin : begin + BATCH])
    settle(storage)
    return len(made)


# --- queries and their hand-written baselines ------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    query: ArticleQuery
    sql: str  # with {p} placeholders for the driver's parameter style
    params: tuple[Any, ...]
    # Collapsed (query.stories): the members' statement, {ids} standing for the stories.
    members_sql: str = ""


def _db_time(value: datetime, dialect: str) -> Any:
    # SQLAlchemy's SQLite DateTime stores naive UTC as this text; psycopg takes datetimes.
    if dialect == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


ORDER = " ORDER BY a.published_at DESC, a.id DESC LIMIT 50"
# The columns an Article is built from (feeds.storage.pages.columns), as a person would list
# them: what feeds' path reads, no more (``a.*`` would also read changed_at and story_id).
COLUMNS = (
    "a.id, a.source_id, a.entry_id, a.url, a.title, a.summary, a.content_html, "
    "a.published_at, a.updated_at, a.first_seen_at, a.authors, a.categories, a.enclosures, "
    "a.dois, a.content_hash"
)
# The page's topic tags and study ids, in one round trip as feeds' path reads them.
TAGS_AND_STUDIES = (
    "SELECT article_id, 0 AS kind, topic AS name, score, matches, 0 AS position "
    "FROM article_topics WHERE article_id IN ({ids}) UNION ALL "
    "SELECT article_id, 1, study, NULL, NULL, position "
    "FROM article_studies WHERE article_id IN ({ids}) "
    "ORDER BY kind, score DESC, position, name"
)
# A topic's newest tags drive the scan (feeds.storage.queries), in the order they give.
DRIVEN = (
    f"SELECT {COLUMNS} FROM articles a "
    "JOIN article_topics t ON t.article_id = a.id AND t.topic = {p}"
)
BY_TAG = " ORDER BY t.published_at DESC, t.article_id DESC LIMIT 50"
# A collapsed topic feed: the topic's newest stories, then every member of them with
# whether the topic selected it (only those can lead the story: their tags are read).
TAGGED = "EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.topic = {p})"
STORY_SELECT = (
    "SELECT DISTINCT s.id, s.first_published FROM articles a "
    "JOIN stories s ON s.id = a.story_id WHERE " + TAGGED + " "
    "ORDER BY s.first_published DESC, s.id DESC LIMIT 50"
)
STORY_MEMBERS = (  # with the story's updated_at: in the DISTINCT above it costs PostgreSQL a sort
    f"SELECT {COLUMNS}, s.updated_at, a.story_id, {TAGGED} FROM articles a "
    "JOIN stories s ON s.id = a.story_id WHERE a.story_id IN ({ids})"
)


def cases(storage: Storage, c: Corpus, now: datetime, has_fts: bool) -> list[Case]:
    """The measured queries and, for each, the SQL a person would write for it by hand."""
    dialect = storage.engine.dialect.name
    common, rare = c.slugs[0], c.slugs[-2]
    since = now - timedelta(days=180)
    filtered, params, text_query = filtered_sql(storage, c, since, has_fts)
    rare_sql, rare_params, rare_text = filtered_sql(storage, c, since, has_fts, RARE_WORDS)
    with storage.engine.connect() as connection:
        total = connection.execute(select(text("count(*)")).select_from(articles)).scalar_one()
        middle = connection.execute(
            select(articles.c.published_at, articles.c.id)
            .order_by(articles.c.published_at.desc(), articles.c.id.desc())
            .offset(total // 2)
            .limit(1)
        ).one()
    cursor = (middle.published_at, middle.id)
    deep = (
        f"SELECT {COLUMNS} FROM articles a WHERE a.published_at <= {{p}} AND "
        "(a.published_at < {p} OR "
        "(a.published_at = {p} AND a.id < {p}))" + ORDER
    )
    at = _db_time(cursor[0], dialect)
    return [
        Case(
            f"topic feed ({common}, commonest)",
            ArticleQuery(topics=(common,)),
            DRIVEN + BY_TAG,
            (common,),
        ),
        Case(f"topic feed ({rare}, rare)", ArticleQuery(topics=(rare,)), DRIVEN + BY_TAG, (rare,)),
        Case(
            "filtered feed (2 topics, all, since" + (", q=)" if has_fts else "; no q= on this DB)"),
            ArticleQuery(topics=c.slugs[:2], match_all=True, text=text_query, since=since),
            filtered,
            params,
        ),
        Case(
            "filtered feed, rare words (q=" + (f"{RARE_WORDS})" if has_fts else "; no q=)"),
            ArticleQuery(topics=c.slugs[:2], match_all=True, text=rare_text, since=since),
            rare_sql,
            rare_params,
        ),
        Case(
            "API page deep in the cursor",
            ArticleQuery(before=cursor),
            deep,
            (at, at, at, cursor[1]),
        ),
        Case(
            f"collapsed topic feed ({common}, stories)",
            ArticleQuery(topics=(common,), stories=True),
            STORY_SELECT,
            (common,),
            STORY_MEMBERS,
        ),
    ]


def filtered_sql(
    storage: Storage, c: Corpus, since: datetime, has_fts: bool, words: str = SEARCH_WORD
) -> tuple[str, tuple[Any, ...], str | None]:
    """The filtered feed's SQL by hand, its parameters and its text (None without full-text
    search). Written as feeds runs it for this data: when the words have few matches (fewer
    than ``queries.FEW_MATCHES``, by feeds' own probe, ``search.count_matches``) they drive,
    in an order no index gives; else the rarer topic's tags drive it and the word filters
    (on SQLite as ``+a.rowid IN``, so that SQLite cannot start from the matches: without
    the plus it reads and sorts every one of them, 40-80 ms for the 20,000 at 1M)."""
    dialect = storage.engine.dialect.name
    a, b = c.slugs[0], c.slugs[1]
    with storage.engine.connect() as connection:  # by hand one would start from the rarer
        sizes = dict(
            connection.execute(
                select(article_topics.c.topic, text("count(*)"))
                .where(article_topics.c.topic.in_((a, b)))
                .group_by(article_topics.c.topic)
            ).all()
        )
        most = queries.FEW_MATCHES
        word = search.bound_text(dialect, words) or ""  # as feeds binds them
        few = has_fts and search.count_matches(connection, dialect, word, most) < most
    rare_first = (b, a) if sizes.get(b, 0) < sizes.get(a, 0) else (a, b)
    if dialect == "sqlite":
        rowids = "rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH {p})"
        matching = "a." + rowids if few else "+a." + rowids
    else:
        matching = "a.search_vector @@ plainto_tsquery('simple', feeds_search_text({p}, ''))"
    if few:
        sql = (
            f"SELECT {COLUMNS} FROM articles a WHERE {matching} AND "
            + " AND ".join([TAGGED] * 2)
            + " AND a.published_at >= {p} "
            "ORDER BY coalesce(a.published_at, a.published_at) DESC, a.id DESC LIMIT 50"
        )
        return sql, (word, *rare_first, _db_time(since, dialect)), words
    sql = (
        DRIVEN + " WHERE EXISTS (SELECT 1 FROM article_topics o "
        "WHERE o.article_id = a.id AND o.topic = {p}) AND t.published_at >= {p}"
    )
    params: tuple[Any, ...] = (*rare_first, _db_time(since, dialect))
    if not has_fts:
        return sql + BY_TAG, params, None
    return sql + f" AND {matching}" + BY_TAG, (*params, word), words


def has_full_text(storage: Storage) -> bool:
    """Whether this database answers ``q=`` with an index (not the LIKE fallback)."""
    if storage.engine.dialect.name == "sqlite":
        return True
    with storage.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'articles' AND column_name = 'search_vector'"
            )
        ).first()
    return found is not None


@dataclass(frozen=True)
class Timing:
    """p50s of one query, feeds' path and the hand-written baseline."""

    ours_ms: float  # wall time
    base_ms: float
    ours_cpu_ms: float  # this process's CPU time (on PostgreSQL the server's is not in it)
    base_cpu_ms: float
    found: int  # rows each returned
    rows: int
    same: bool  # both returned the same articles in the same order


def measure(storage: Storage, case: Case, repeats: int) -> Timing:
    """Run feeds' path and the baseline alternately, ``repeats`` times each."""
    style = "?" if storage.engine.dialect.name == "sqlite" else "%s"
    sql = case.sql.replace("{p}", style)
    raw = storage.engine.raw_connection()
    ours, base, ours_cpu, base_cpu = [], [], [], []
    found = rows = 0
    ours_ids: list[str] = []
    base_ids: list[str] = []
    try:
        for _ in range(repeats):
            started, cpu = time.perf_counter(), time.process_time()
            if case.query.stories:
                ours_ids = [s.id for s in storage.query_stories(case.query)]
            else:
                ours_ids = [a.id for a in storage.query_articles(case.query)]
            ours.append(time.perf_counter() - started)
            ours_cpu.append(time.process_time() - cpu)
            found = len(ours_ids)
            started, cpu = time.perf_counter(), time.process_time()
            cur = raw.cursor()
            cur.execute(sql, case.params)
            page = cur.fetchall()
            ids = [row[0] for row in page]
            if page and case.members_sql:  # members, and which of them the filter selected
                marks = ", ".join([style] * len(ids))
                members_sql = case.members_sql.replace("{ids}", marks).replace("{p}", style)
                cur.execute(members_sql, case.params + tuple(ids))
                members = cur.fetchall()
                leads = [row[0] for row in members if row[-1]]
            else:
                leads = ids
            if leads:  # the tags and study ids: feeds' path reads them, so must this
                marks = ", ".join([style] * len(leads))
                cur.execute(TAGS_AND_STUDIES.format(ids=marks), leads + leads)
                cur.fetchall()
            cur.close()
            raw.commit()  # psycopg: end the read transaction, as the pool does for feeds
            base.append(time.perf_counter() - started)
            base_cpu.append(time.process_time() - cpu)
            base_ids = [row[0] for row in page]
            rows = len(base_ids)
    finally:
        raw.close()
    p50 = statistics.median
    return Timing(
        p50(ours) * 1000,
        p50(base) * 1000,
        p50(ours_cpu) * 1000,
        p50(base_cpu) * 1000,
        found,
        rows,
        ours_ids == base_ids,
    )


class BatchClock:
    """Each batch's time, from the ``on_batch`` calls of retag or prune."""

    def __init__(self) -> None:
        self.times: list[float] = []  # seconds, one per batch
        self._last = time.perf_counter()

    def tick(self, _count: int) -> None:
        now = time.perf_counter()
        self.times.append(now - self._last)
        self._last = now


def measure_retag(settings: Settings, storage: Storage) -> tuple[str, bool]:
    """Retag the whole set: wall and CPU time, per batch, rows written (and on PostgreSQL
    the WAL the server wrote for it)."""
    total = storage.count_articles()
    clock = BatchClock()
    wal = _wal_position(storage)
    started, cpu = time.perf_counter(), time.process_time()
    report = retag(settings, storage, on_batch=clock.tick)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    per_million = seconds * 1_000_000 / total / 60
    note = "" if total >= 1_000_000 else " (extrapolated linearly)"
    print(
        f"Retag: {report.articles:,} articles ({report.changed:,} changed topic sets, "
        f"{report.rows_written:,} tag rows written) in {seconds:.0f} s, "
        f"{report.articles / seconds:,.0f}/s; 1M in {per_million:.1f} min{note}"
    )
    # On a shared machine wall time includes waiting for a CPU; this process's own CPU
    # time (all of the work on SQLite; PostgreSQL's share runs in the server) does not.
    print(f"  CPU time of this process: {cpu:.0f} s ({cpu / seconds:.0%} of the wall time)")
    batches = clock.times
    print(
        f"  {len(batches)} batches: p50 {statistics.median(batches or [0.0]) * 1000:.0f} ms, "
        f"longest {max(batches, default=0.0) * 1000:.0f} ms"
    )
    if wal is not None:
        written = (_wal_position(storage) or wal) - wal
        print(f"  WAL written by the server meanwhile: {written / 2**20:,.0f} MB")
    return (f"retag of 1M < {MAX_RETAG_MINUTES:g} min", per_million < MAX_RETAG_MINUTES)


def _wal_position(storage: Storage) -> int | None:
    """PostgreSQL's WAL insert position in bytes (None on SQLite)."""
    if storage.engine.dialect.name != "postgresql":
        return None
    with storage.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_current_wal_lsn() - '0/0'")).scalar_one())


def measure_prune(storage: Storage, now: datetime) -> tuple[str, bool]:
    """Prune the oldest ~4 % (published over 700 days ago); how long each batch's write
    transaction took, which is how long a writer could have waited on it."""
    keep = timedelta(days=PRUNE_KEEP_DAYS)
    clock = BatchClock()
    started = time.perf_counter()
    report = prune(storage, keep, now, on_batch=clock.tick)
    seconds = time.perf_counter() - started
    batches = clock.times
    longest = max(batches, default=0.0) * 1000
    print(
        f"Prune (--older-than {PRUNE_KEEP_DAYS}d): {report.articles:,} articles, "
        f"{report.tags:,} tags in {report.batches} batches, {seconds:.1f} s; batch p50 "
        f"{statistics.median(batches or [0.0]) * 1000:.0f} ms, longest {longest:.0f} ms; "
        f"vacuum {report.vacuum}, {report.freed_pages:,} pages freed"
    )
    return (
        f"prune: longest batch transaction < {MAX_PRUNE_BATCH_MS:g} ms",
        longest < MAX_PRUNE_BATCH_MS,
    )


# --- the serving process ----------------------------------------------------------------


def serving_rss(config: Path, slugs: Sequence[str]) -> float:
    """Resident set size (MB) of ``feeds serve --no-update`` after serving every feed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    feeds = Path(sys.executable).parent / "feeds"
    process = subprocess.Popen(
        [str(feeds), "serve", "--no-update", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(port, "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("feeds serve did not start") from None
                time.sleep(0.2)
        paths = [f"/feeds/{slug}.{fmt}" for slug in slugs for fmt in ("rss", "atom", "json")]
        paths += ["/feeds/all.rss", "/api/articles?limit=200", "/"]
        paths += [f"/api/articles?topics={slug}&limit=200" for slug in slugs[:20]]
        for path in paths:
            _get(port, path)
        return _tree_rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(port: int, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
    finally:
        connection.close()


def _tree_rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` and its children (uvicorn may run the app in a child)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        status = Path(f"/proc/{current}/status").read_text()
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            pending += [int(child) for child in children.read_text().split()]
    return total / 1024


# --- main ---------------------------------------------------------------------------------


def write_config(folder: Path, database: str) -> Path:
    """config.yaml's topics plus the 30th, on ``database``, with no sources to fetch."""
    shipped = CONFIG.read_text(encoding="utf-8")
    topics = shipped[shipped.index("\ntopics:") :]
    extra = f"\n  - slug: {EXTRA_TOPIC}\n    title: Zymotic fever\n    terms: [zymotic fever]\n"
    path = folder / "config.yaml"
    path.write_text(f"database: {database}\nsources: []\n{topics.rstrip()}\n{extra}", "utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse a filled database; keep it")
    parser.add_argument("--skip-retag", action="store_true")
    parser.add_argument("--skip-prune", action="store_true", help="keep every article")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="feeds-scale-"))
    database = args.database or f"sqlite:///{folder / 'scale.db'}"
    config = write_config(folder, database)
    settings = load_settings(config)
    c = corpus()
    print(f"Machine: {machine()}")
    print(f"Code: {revision()}")
    # Shared machines: the load says how much of the CPUs this run really had.
    print("Load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"Database: {settings.database.split('@')[-1]}; {args.articles:,} articles, "
        f"{SOURCES:,} sources, {len(c.slugs)} topics"
    )

    storage = Storage.open(settings.database)
    storage.migrate()
    now = datetime.now(UTC).replace(microsecond=0)
    present = storage.count_articles()
    if present and not args.keep:
        print(f"the database already holds {present:,} articles; use an empty one or --keep")
        storage.close()
        shutil.rmtree(folder)
        return 0
    if not present:
        seconds = fill(storage, args.articles, now, c)
        print(
            f"Fill: {args.articles:,} articles in {seconds:.0f} s "
            f"({args.articles / seconds:,.0f}/s)"
        )
    else:
        with storage.engine.connect() as connection:
            filled = connection.execute(
                select(meta.c.value).where(meta.c.key == "bench_filled_at")
            ).scalar_one()
        print(f"Reusing {present:,} stored articles")
        now = datetime.fromisoformat(filled)
    if made := cluster_stories(storage):
        print(f"Stories: {made:,} synthetic stories over the articles")
    results: list[tuple[str, bool]] = []

    has_fts = has_full_text(storage)
    print(f"\n{'query':<58} {'feeds p50':>10} {'raw SQL p50':>12} {'ratio':>6}  rows  (CPU p50)")
    for case in cases(storage, c, now, has_fts):
        t = measure(storage, case, args.repeats)
        ratio = t.ours_ms / t.base_ms if t.base_ms else float("inf")
        same = "" if t.same else f"  (rows differ: {t.found} vs {t.rows}, or their order)"
        print(
            f"{case.name:<58} {t.ours_ms:>8.2f} ms {t.base_ms:>9.2f} ms {ratio:>5.2f}x  "
            f"{t.found:>4}  ({t.ours_cpu_ms:.2f} / {t.base_cpu_ms:.2f} ms){same}"
        )
        results.append((f"{case.name}: ≤ {MAX_RATIO:g}× raw SQL", ratio <= MAX_RATIO))
        results.append((f"{case.name}: p50 < {MAX_QUERY_MS:g} ms", t.ours_ms < MAX_QUERY_MS))

    rss = serving_rss(config, c.slugs)
    print(f"\nServing process RSS after every feed and 20 API pages: {rss:.0f} MB")
    results.append((f"serving RSS < {MAX_RSS_MB:g} MB", rss < MAX_RSS_MB))

    if not args.skip_retag:
        results.append(measure_retag(settings, storage))
    if not args.skip_prune:
        results.append(measure_prune(storage, now))
    storage.close()

    print("\nLoad average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for name, met in results:
        print(f"{verdict(met)}  {name}")
    if args.keep and not args.database:
        print(f"kept {folder} (pass --database {database} --keep to reuse it)")
    else:  # only the generated config, or a temporary database nobody asked to keep
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
