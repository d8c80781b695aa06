"""Conversions between rows of ``sources`` / ``articles`` and the frozen pipeline values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from feeds.errors import ErrorKind
from feeds.models import Article, Enclosure, SourceHealth, SourceStatus, StudyId, TopicTag


def article_row(article: Article, now: datetime) -> dict[str, Any]:
    return {
        "id": article.id,
        "source_id": article.source_id,
        "entry_id": article.entry_id,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "content_html": article.content_html,
        "published_at": article.published,
        "updated_at": article.updated,
        "first_seen_at": article.first_seen,
        "changed_at": now,
        "authors": list(article.authors),
        "categories": list(article.categories),
        "enclosures": [[e.url, e.type, e.length] for e in article.enclosures],
        "dois": list(article.dois),
        "content_hash": article.content_hash,
    }


def article(
    row: RowMapping, tags: tuple[TopicTag, ...] = (), cited: tuple[StudyId, ...] = ()
) -> Article:
    return Article(
        id=row["id"],
        source_id=row["source_id"],
        entry_id=row["entry_id"],
        url=row["url"],
        title=row["title"],
        summary=row["summary"],
        content_html=row["content_html"],
        published=row["published_at"],
        updated=row["updated_at"],
        first_seen=row["first_seen_at"],
        authors=tuple(row["authors"]),
        categories=tuple(row["categories"]),
        enclosures=tuple(Enclosure(url, kind, length) for url, kind, length in row["enclosures"]),
        dois=tuple(row["dois"]),
        content_hash=row["content_hash"],
        topics=tags,
        studies=cited,
    )


def health_row(health: SourceHealth) -> dict[str, Any]:
    return {
        "url": health.url,
        "status": health.status.value,
        "etag": health.etag,
        "last_modified": health.last_modified,
        "last_fetch_at": health.last_fetch_at,
        "last_success_at": health.last_success_at,
        "error_kind": health.error_kind.value if health.error_kind else None,
        "error_message": health.error_message,
        "error_count": health.error_count,
        "failing_since": health.failing_since,
        "next_check_at": health.next_check_at,
        "last_bytes": health.last_bytes,
        "last_duration_ms": health.last_duration_ms,
        "body_hash": health.body_hash,
        "refresh_minutes": health.refresh_minutes,
    }


def health(row: RowMapping) -> SourceHealth:
    return SourceHealth(
        source_id=row["id"],
        name=row["name"],
        url=row["url"],
        enabled=row["enabled"] and not row["paused"],  # paused: disabled by an operator
        status=SourceStatus(row["status"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetch_at=row["last_fetch_at"],
        last_success_at=row["last_success_at"],
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] else None,
        error_message=row["error_message"],
        error_count=row["error_count"],
        failing_since=row["failing_since"],
        next_check_at=row["next_check_at"],
        last_bytes=row["last_bytes"],
        last_duration_ms=row["last_duration_ms"],
        body_hash=row["body_hash"],
        config_url=row["config_url"],
        refresh_minutes=row["refresh_minutes"],
    )
