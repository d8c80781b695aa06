"""Cluster the stored articles that have no story yet: the backfill after migration 0011.

It goes through them oldest first, in batches, by the same path as the update stage
(candidates from storage, decision from ``feeds.stories``), so a database that existed
before story clusters ends up as if its articles had arrived with clustering on. Articles
that already have a story are left alone, so running it again does nothing.

``rebuild`` first takes every article out of its story, so that all of them are clustered
again under the current rules (after a change to the rules, such as session 3's: a shared
disease name alone no longer makes one story). Readers know a story by its id (its item id
in every feed), so the old ids are put back afterwards: a story that holds an old story's
founding article takes that id again (``Storage.restore_story_ids``). A story the new rules
leave whole keeps its id; one they split keeps it for the part its founder is in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from feeds import stories
from feeds.storage import Storage

BATCH = 1000


def cluster_stored(
    storage: Storage,
    policy: stories.StoryPolicy,
    now: datetime | None = None,
    *,
    rebuild: bool = False,
) -> int:
    """Give every stored article without a story one (every article: ``rebuild``); return
    how many were clustered."""
    now = now or datetime.now(UTC)
    founders = storage.story_list() if rebuild else frozenset()
    if rebuild:
        storage.forget_stories()
    done = 0
    while batch := storage.unclustered(BATCH):
        found = storage.story_candidates(batch, policy.window)
        by_id = {item.article_id: item for item in batch}
        decided = stories.plan(batch, found, policy)
        storage.record_stories([(d, by_id[d.article_id]) for d in decided], now)
        done += len(batch)
    if founders:
        storage.restore_story_ids(founders)
    return done
