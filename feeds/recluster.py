"""Cluster the stored articles that have no story yet: the backfill after migration 0011.

It goes through them oldest first, in batches, by the same path as the update stage
(candidates from storage, decision from ``feeds.stories``), so a database that existed
before story clusters ends up as if its articles had arrived with clustering on. Articles
that already have a story are left alone, so running it again does nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feeds import stories
from feeds.storage import Storage

BATCH = 1000


def cluster_stored(
    storage: Storage, policy: stories.StoryPolicy, now: datetime | None = None
) -> int:
    """Give every stored article without a story one; return how many were clustered."""
    now = now or datetime.now(UTC)
    done = 0
    while True:
        batch = storage.unclustered(BATCH)
        if not batch:
            return done
        found = storage.story_candidates(batch, policy.window)
        by_id = {item.article_id: item for item in batch}
        decided = stories.plan(batch, found, policy)
        storage.record_stories([(d, by_id[d.article_id]) for d in decided], now)
        done += len(batch)
