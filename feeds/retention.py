"""Retention: delete articles older than a cutoff, in short batches, then vacuum SQLite.

    cutoff                  ``cutoff`` (pure): now minus the age to keep
    count (dry run)         storage.count_old_articles
    delete in batches       storage.delete_old_articles, one short transaction per batch
    give space back         storage.vacuum_step, repeated, on SQLite with incremental vacuum

Only articles and their topic tags are deleted: sources, their health, the fetch counters
and the MeSH vocabulary stay. Each batch is its own transaction and bumps the data version,
so readers never wait long and cached feeds drop the deleted articles at once. It does not
decide *when* to run: `feeds prune` runs it, from cron or a systemd timer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.config import parse_duration
from feeds.storage import Storage

BATCH = 500  # articles per transaction: a fraction of a second of write lock at 1M articles
MAX_VACUUM_STEPS = 100_000  # a bound on the vacuum loop, far beyond any real database


@dataclass(frozen=True)
class PruneReport:
    """What a prune deleted (or, in a dry run, would delete)."""

    cutoff: datetime  # articles published and first seen before this went
    articles: int  # articles deleted (dry run: that would be)
    tags: int  # their topic tags
    batches: int  # transactions used (0 in a dry run)
    dry_run: bool  # nothing was written
    vacuum: str  # incremental | none | full | server (see Storage.vacuum_mode)
    freed_pages: int  # SQLite pages given back to the file system

    def to_json(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat().replace("+00:00", "Z"),
            "articles": self.articles,
            "tags": self.tags,
            "batches": self.batches,
            "dry_run": self.dry_run,
            "vacuum": self.vacuum,
            "freed_pages": self.freed_pages,
        }


def age_to_keep(older_than: str | None, retention_days: int | None) -> timedelta:
    """The age to keep, from `--older-than` (a duration such as ``365d``) or else the
    config's ``retention_days``; ``ValueError`` with a reason when neither gives one. Less
    than a day is refused: it is far more likely a typo (``365`` minutes?) than intended."""
    if older_than is not None:
        keep = parse_duration(older_than)
        if keep < timedelta(days=1):
            raise ValueError(f"--older-than {older_than}: keep at least 1d")
        return keep
    if retention_days is None:
        raise ValueError("give --older-than AGE (e.g. 365d) or set retention_days in the config")
    return timedelta(days=retention_days)


def cutoff(now: datetime, keep: timedelta) -> datetime:
    """The instant before which articles are old."""
    return now - keep


def prune(
    storage: Storage,
    keep: timedelta,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> PruneReport:
    """Delete the articles (and their tags) published and first seen more than ``keep`` ago."""
    before = cutoff(now, keep)
    mode = storage.vacuum_mode()
    if dry_run:
        found, tags = storage.count_old_articles(before)
        return PruneReport(before, found, tags, 0, True, mode, 0)
    deleted = tags = batches = 0
    while True:
        done, done_tags = storage.delete_old_articles(before, batch)
        if not done:
            break
        deleted, tags, batches = deleted + done, tags + done_tags, batches + 1
        if on_batch:
            on_batch(done)
    freed = 0
    if mode == "incremental":
        for _ in range(MAX_VACUUM_STEPS):
            free_before, free_after = storage.vacuum_step()
            freed += free_before - free_after
            if not free_after or free_after >= free_before:
                break
    return PruneReport(before, deleted, tags, batches, False, mode, freed)
