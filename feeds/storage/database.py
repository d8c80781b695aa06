"""``Storage``: the one interface the rest of feeds uses to read and write the database.

Every method runs its own transaction, so a caller never sees half a write: a source's
articles and its new health are committed together or not at all. SQLAlchemy errors are
turned into ``StorageError`` here so no caller needs to know about SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Engine,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from feeds.errors import StorageError
from feeds.models import (
    Article,
    ArticleQuery,
    SourceHealth,
    StoreCounts,
    TopicTag,
)
from feeds.models import Source as SourceModel
from feeds.storage import claims, pages, queries, rows, search, studies, sync, topics, upsert
from feeds.storage import stories as story_rows
from feeds.storage.common import bump, chunks, translated
from feeds.storage.engine import atomic_ddl, make_engine, shown_url, sqlite_condition
from feeds.storage.maintenance import Maintenance
from feeds.storage.mesh import MeshStorage
from feeds.storage.prepared import prepared
from feeds.storage.schema import articles, meta, sources
from feeds.storage.stories import StoryStorage
from feeds.storage.storyfeeds import StoryFeedStorage
from feeds.stories import Assignment, Sighting

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATE_LOCK = 0x66656564  # pg_advisory_xact_lock key for migrations ("feed")


class Storage(StoryStorage, StoryFeedStorage, MeshStorage, Maintenance):
    """Sources, their fetch health, and articles, in SQLite or PostgreSQL.

    Methods of one concern are mixed in from its own module: assigning stories
    (``stories``), reading feeds by story (``storyfeeds``), the MeSH vocabulary (``mesh``),
    retention and export / import (``maintenance``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Storage:
        """Connect lazily to the database at ``url`` (nothing is created until ``migrate``)."""
        try:
            return cls(make_engine(url))
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot open {shown_url(url)}: {exc}") from exc

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def recover(self, error: OperationalError) -> str:
        """After a failed operation: get ready to retry, and say what the condition was.

        SQLite opens a file it may not write read-only, and the connection stays read-only
        after the file becomes writable again; a failed write may also leave a connection
        whose disk filled up. Dropping the pooled connections makes the next operation open
        fresh ones, so a database that comes back is used again without a restart.
        """
        if self.engine.dialect.name != "sqlite":
            return ""
        self.engine.dispose()
        return sqlite_condition(self.engine.url, getattr(error.orig, "sqlite_errorname", ""))

    # --- schema ---------------------------------------------------------------------------

    @translated
    def migrate(self) -> str | None:
        """Bring the schema to the newest revision, all of it or none; return that revision.

        A database already at the newest revision is only read, so a read-only database
        still opens. An upgrade is one transaction (see ``engine.atomic_ddl``): a process
        killed during it leaves the schema as it was, not half-created.
        """
        current = self.revision()
        if current is not None and current == self.head_revision():
            return current  # the common case: every process start, nothing to do
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection, atomic_ddl(connection):
            # Several processes starting at once on a new database: one migrates, the
            # others wait for its lock and then find the schema at head (Alembic re-reads
            # the version under the lock). On SQLite atomic_ddl's BEGIN IMMEDIATE is it.
            if connection.dialect.name == "postgresql":
                connection.execute(select(func.pg_advisory_xact_lock(_MIGRATE_LOCK)))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return self.revision()

    @translated
    def revision(self) -> str | None:
        """The schema revision the database is at, or None before the first migration."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        """The newest revision this version of feeds knows."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return ScriptDirectory.from_config(config).get_current_head()

    # --- sources --------------------------------------------------------------------------

    @translated
    def sync_sources(self, configured: Sequence[SourceModel], now: datetime) -> None:
        """Make the sources table match the config: add new sources, update names, URLs and
        ``enabled``; sources no longer configured are kept (their articles stay) but disabled.
        A changed configured URL starts afresh: the old validators belong to the old URL."""
        with self.engine.begin() as connection:
            if sync.sync(connection, configured, now):
                # Names and URLs are in every feed, the rest in the source pages.
                bump(connection, "data_version")
                bump(connection, "sources_version")

    # --- claiming (workers) ---------------------------------------------------------------

    @translated
    def claim_sources(
        self, worker: str, now: datetime, lease: timedelta, limit: int = 1
    ) -> tuple[SourceHealth, ...]:
        """Lease up to ``limit`` due sources to ``worker`` until ``now + lease``; the
        health of those it got (none: nothing is due, or others hold it all). Storing the
        source's outcome (``record_update``) ends the lease. See ``feeds.storage.claims``."""
        with self.engine.begin() as connection:
            return claims.claim(connection, worker, now, lease, limit)

    @translated
    def renew_leases(self, worker: str, ids: Sequence[str], until: datetime) -> None:
        """Extend ``worker``'s leases on ``ids`` to ``until`` (those it still holds)."""
        with self.engine.begin() as connection:
            claims.renew(connection, worker, list(ids), until)

    @translated
    def release_sources(self, worker: str, ids: Sequence[str]) -> None:
        """End ``worker``'s leases on ``ids`` without recording a fetch."""
        with self.engine.begin() as connection:
            claims.release(connection, worker, list(ids))

    @translated
    def lease_holders(self, now: datetime) -> dict[str, list[str]]:
        """Each worker holding a live lease at ``now``, with the sources it holds."""
        with self.engine.connect() as connection:
            return claims.holders(connection, now)

    @translated
    def set_paused(self, source_id: str, paused: bool) -> bool:
        """Disable (``paused``) or re-enable a source for operators, apart from the config's
        ``enabled`` so that ``sync_sources`` keeps it; False when there is no such source."""
        with self.engine.begin() as connection:
            result = connection.execute(
                sources.update().where(sources.c.id == source_id).values(paused=paused)
            )
            bump(connection, "sources_version")
        return result.rowcount > 0

    @translated
    def source_health(self, ids: Sequence[str] | None = None) -> tuple[SourceHealth, ...]:
        """Every source's health (or the named ones), ordered by id."""
        query = select(sources).order_by(sources.c.id)
        if ids is not None:
            query = query.where(sources.c.id.in_(list(ids)))
        with self.engine.connect() as connection:
            return tuple(rows.health(row) for row in connection.execute(query).mappings())

    # --- articles -------------------------------------------------------------------------

    @translated
    def first_seen(self, ids: Sequence[str]) -> dict[str, datetime]:
        """When each already-stored article among ``ids`` was first seen."""
        found: dict[str, datetime] = {}
        with self.engine.connect() as connection:
            for chunk in chunks(ids):
                query = select(articles.c.id, articles.c.first_seen_at).where(
                    articles.c.id.in_(chunk)
                )
                found.update({row.id: row.first_seen_at for row in connection.execute(query)})
        return found

    @translated
    def record_update(
        self,
        health: SourceHealth,
        batch: Sequence[Article],
        now: datetime,
        *,
        fetched_bytes: int | None = None,
        stories: Sequence[tuple[Assignment, Sighting]] = (),
    ) -> StoreCounts:
        """Upsert a source's articles and save its health in one transaction.

        ``stories`` are the story decisions for the batch's new articles (``feeds.stories``),
        stored in the same transaction.

        With ``fetched_bytes`` (the bytes a fetch brought; 0 for a 304 or a failure) the
        write also counts the fetch in the deployment's fetch counters.

        An article is inserted when its id is new, rewritten when its content hash changed
        (keeping its first-seen time), and left alone otherwise.
        """
        with self.engine.begin() as connection:
            known: dict[str, str] = {}
            for chunk in chunks([a.id for a in batch]):
                query = select(articles.c.id, articles.c.content_hash).where(
                    articles.c.id.in_(chunk)
                )
                known.update({row.id: row.content_hash for row in connection.execute(query)})
            new = [rows.article_row(a, now) for a in batch if a.id not in known]
            changed = [
                rows.article_row(a, now) | {"b_id": a.id}
                for a in batch
                if a.id in known and known[a.id] != a.content_hash
            ]
            if new:  # a worker whose lease ran out may race the next one: skip, not fail
                connection.execute(upsert.insert_new(connection, articles), new)
            written = {row["id"] for row in new} | {row["id"] for row in changed}
            if changed:
                # first_seen_at is never rewritten: an edit keeps the first sighting.
                keep = ("b_id", "id", "first_seen_at")
                columns: dict[str, Any] = {k: bindparam(k) for k in changed[0] if k not in keep}
                connection.execute(
                    articles.update().where(articles.c.id == bindparam("b_id")).values(columns),
                    changed,
                )
            story_rows.assign(connection, stories, now)
            story_rows.refresh_first_published(connection, [row["b_id"] for row in changed])
            topics.replace(connection, {a.id: a.topics for a in batch if a.id in written})
            studies.replace(connection, {a.id: a.studies for a in batch if a.id in written})
            # Feeds show each source's URL: a permanent redirect changes what they show.
            moved = health.config_url is not None and connection.execute(
                select(sources.c.url).where(sources.c.id == health.source_id)
            ).scalar_one_or_none() not in (None, health.url)
            connection.execute(
                sources.update()
                .where(sources.c.id == health.source_id)
                .values(rows.health_row(health) | {"leased_until": None, "leased_by": None})
            )
            bump(connection, "sources_version")
            if written or stories or moved:
                bump(connection, "data_version")
            if fetched_bytes is not None:  # this write records a fetch: count it
                bump(connection, f"fetches:{health.status.value}")
                if health.error_kind is not None:
                    bump(connection, f"errors:{health.error_kind.value}")
                if fetched_bytes:
                    bump(connection, "fetched_bytes", fetched_bytes)
        return StoreCounts(
            new=len(new), updated=len(changed), unchanged=len(batch) - len(new) - len(changed)
        )

    @translated
    def count_articles(self, source_id: str | None = None) -> int:
        """How many articles are stored (for one source, or in all)."""
        query = select(func.count()).select_from(articles)
        if source_id is not None:
            query = query.where(articles.c.source_id == source_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    @translated
    def recent_articles(self, limit: int = 50, source_id: str | None = None) -> tuple[Article, ...]:
        """The newest articles with their topics, newest first, ties broken by id."""
        query = (
            select(*pages.columns(self.engine.dialect.name))
            .order_by(articles.c.published_at.desc(), articles.c.id.desc())
            .limit(limit)
        )
        if source_id is not None:
            query = query.where(articles.c.source_id == source_id)
        with self.engine.connect() as connection:
            return pages.read(connection, query)

    @translated
    def articles_after(self, after_id: str, limit: int) -> tuple[Article, ...]:
        """Articles with their topics in id order after ``after_id``: a stable way to visit
        every article in batches (keyset pagination), even while others are written."""
        query = (
            select(*pages.columns(self.engine.dialect.name))
            .where(articles.c.id > after_id)
            .order_by(articles.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return pages.read(connection, query)

    @translated
    def rewrite_topics(self, changes: Sequence[tuple[Article, Sequence[TopicTag]]]) -> int:
        """Change each article's topics from those it was read with (``article.topics``) to
        the given tags, in one transaction, writing only the tag rows that differ; how many
        were written. See ``feeds.storage.topics.rewrite``."""
        with self.engine.begin() as connection:
            written = topics.rewrite(connection, changes)
            if written:
                bump(connection, "data_version")
        return written

    @translated
    def query_articles(self, query: ArticleQuery) -> tuple[Article, ...]:
        """The articles ``query`` selects, with their topics, newest first."""
        with self.engine.connect() as connection:
            dialect = self.engine.dialect.name
            driver, by_text, found = None, None, None
            if query.text and (bound := search.bound_text(dialect, query.text)) is not None:
                # Few matches drive the scan; many filter a walk that stops at the page.
                most = queries.FEW_MATCHES
                if dialect == "sqlite":  # read them: the scan starts from them if few
                    rowids = search.first_rowids(connection, bound, most)
                    by_text = len(rowids) < most
                    found = rowids if by_text else None
                else:
                    by_text = search.count_matches(connection, dialect, bound, most) < most
            if query.match_all and len(query.topics) > 1 and not by_text:
                # Drive the scan from the rarest topic: a cheap probe of each topic's index.
                probes = {
                    t: connection.execute(queries.nth_newest(t)).scalar() for t in query.topics
                }
                driver = queries.rarest(probes)
            values = queries.parameters(query, dialect, driver, by_text, found)
            statement = prepared(
                connection,
                ("articles", queries.shape(query, values)),
                lambda: queries.article_select(query, dialect, driver, by_text, found),
            )
            return pages.articles_of(connection, statement.rows(connection, values))

    @translated
    def counts_by_source(self, since: datetime | None = None) -> dict[str, int]:
        """Articles per source (published at or after ``since``, when given)."""
        query = select(articles.c.source_id, func.count()).group_by(articles.c.source_id)
        if since is not None:
            query = query.where(articles.c.published_at >= since)
        with self.engine.connect() as connection:
            return {source: int(count) for source, count in connection.execute(query)}

    @translated
    def counters(self) -> dict[str, int]:
        """The fetch counters (``fetches:OUTCOME``, ``errors:KIND``, ``fetched_bytes``)."""
        query = select(meta.c.key, meta.c.value).where(
            or_(
                meta.c.key.like("fetches:%"),
                meta.c.key.like("errors:%"),
                meta.c.key == "fetched_bytes",
            )
        )
        with self.engine.connect() as connection:
            return {row.key: int(row.value) for row in connection.execute(query)}

    @translated
    def topic_counts(self) -> dict[str, int]:
        """Articles per topic slug."""
        with self.engine.connect() as connection:
            return topics.counts(connection)

    @translated
    def versions(self) -> tuple[int, int]:
        """(data version, sources version): counters every write of articles/topics or of
        source health bumps; caches key on them. A cheap single-row read."""
        with self.engine.connect() as connection:
            query = select(meta.c.key, meta.c.value).where(
                meta.c.key.in_(("data_version", "sources_version"))
            )
            values = {row.key: row.value for row in connection.execute(query)}
        return int(values.get("data_version", 0)), int(values.get("sources_version", 0))
