"""Table definitions (SQLAlchemy Core) shared by queries; migrations create them.

Portable types only: JSON for small lists, ``UTCDateTime`` for instants. Changing a table
here needs a new Alembic revision in ``feeds/storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database.

    SQLite has no time-zone type, so values are stored there as naive UTC; PostgreSQL gets
    ``timestamptz``. Either way Python code only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("storage: naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("config_url", Text, nullable=False),  # URL as configured
    Column("url", Text, nullable=False),  # URL fetched (differs after a permanent redirect)
    Column("enabled", Boolean, nullable=False, default=True),
    Column("status", String(16), nullable=False, default="new"),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("last_fetch_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("error_kind", String(32)),
    Column("error_message", Text),
    Column("error_count", Integer, nullable=False, default=0),
    Column("failing_since", UTCDateTime),
    Column("next_check_at", UTCDateTime),
    Column("last_bytes", Integer),
    Column("last_duration_ms", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("body_hash", String(64)),  # sha256 of the last body parsed successfully
    Column("refresh_minutes", Float),  # the feed's own <ttl> / sy:updatePeriod, if any
    Column("leased_until", UTCDateTime),  # a worker's claim holds until then (storage.claims)
    Column("leased_by", String(128)),  # which worker holds that claim
    Column("paused", Boolean, nullable=False, default=False),  # disabled via the admin API
    Index("ix_sources_next_check", "next_check_at"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source_id", String(64), ForeignKey("sources.id"), nullable=False),
    Column("entry_id", Text, nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content_html", Text, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),  # last insert or content change
    Column("authors", JSON, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("enclosures", JSON, nullable=False),
    Column("dois", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("story_id", String(32)),  # the story cluster (feeds.stories); None until clustered
    Index("ix_articles_published", "published_at", "id"),
    Index("ix_articles_source", "source_id", "published_at"),
    Index("ix_articles_story", "story_id"),
)

article_topics = Table(
    "article_topics",
    metadata,
    Column(
        "article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("topic", String(64), primary_key=True),
    Column("score", Float, nullable=False),
    Column("matches", JSON, nullable=False),  # [[term, rule, field, start, end], ...]
    # The article's published_at, copied so a topic feed reads its newest tags from one
    # index (migration 0011); written by topics.replace, never null there.
    Column("published_at", UTCDateTime),
    Index("ix_article_topics_topic_published", "topic", "published_at", "article_id"),
)

article_studies = Table(
    "article_studies",
    metadata,
    Column(
        "article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("study", Text, primary_key=True),  # StudyId.key: "doi:10.1038/…", "nct:NCT…"
    Column("position", Integer, nullable=False),  # order of first appearance in the article
    Index("ix_article_studies_study", "study", "article_id"),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(32), primary_key=True),  # the founding article's id; never changes
    Column("first_published", UTCDateTime, nullable=False),  # earliest member's publication
    Column("updated_at", UTCDateTime),  # when the last new outlet joined; None while alone
    Column("sources", JSON, nullable=False),  # source ids of the members, in joining order
    Index("ix_stories_first", "first_published", "id"),  # collapsed feeds walk it newest first
)

# Retrieval keys (feeds.stories.keys) of every clustered article: a new article's keys find
# its candidates through the (key, published_at) index, within the time window.
story_keys = Table(
    "story_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column(
        "article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("story_id", String(32), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Index("ix_story_keys_key", "key", "published_at"),
    Index("ix_story_keys_article", "article_id"),  # re-clustering and cascading deletes
)

mesh_descriptors = Table(
    "mesh_descriptors",
    metadata,
    Column("ui", String(12), primary_key=True),
    Column("heading", Text, nullable=False),
    Column("tree_numbers", JSON, nullable=False),
)

mesh_terms = Table(
    "mesh_terms",
    metadata,
    Column("ui", String(12), ForeignKey("mesh_descriptors.ui", ondelete="CASCADE"), nullable=False),
    Column("term", Text, nullable=False),  # as MeSH writes it (plus natural-order forms)
    Column("folded", Text, nullable=False),  # feeds.tagging.text.fold(term), for search
    Index("ix_mesh_terms_ui", "ui"),
    Index("ix_mesh_terms_folded", "folded"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
