"""Re-apply the current topic rules to every stored article and report what changed.

    load rules              tagging.vocabulary.load_rules
    page through articles   storage.articles_after (keyset pagination by id, in batches)
    tag each                tagging.matcher.tag
    diff per topic          ``diff_topics`` (pure)
    write (unless dry run)  storage.rewrite_topics, one transaction per batch

Only articles whose tags differ from those stored are written, and of those only the tag
rows that differ (``feeds.storage.topics.rewrite``): deleting and re-inserting every row of
such an article doubled the WAL PostgreSQL wrote (docs/performance.md, "Retag on
PostgreSQL").

Feeds filter on the stored topics, so they follow as soon as a batch is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from feeds.config import Settings
from feeds.models import Article, TopicTag
from feeds.storage import Storage
from feeds.tagging.matcher import article_input, tag
from feeds.tagging.vocabulary import load_rules

EXAMPLES = 3
BATCH = 1000


@dataclass
class TopicChange:
    """How one topic's articles changed."""

    added: int = 0  # articles that gained the topic
    removed: int = 0  # articles that lost it
    added_examples: list[str] = field(default_factory=list)  # a few titles
    removed_examples: list[str] = field(default_factory=list)  # a few titles


@dataclass
class RetagReport:
    """The outcome of a retag run."""

    articles: int = 0  # articles visited
    changed: int = 0  # articles whose topic set changed
    rows_written: int = 0  # tag rows deleted, inserted or updated (0 in a dry run)
    topics: dict[str, TopicChange] = field(default_factory=dict)  # per topic slug
    dry_run: bool = False  # nothing was written

    def to_json(self) -> dict[str, object]:
        return {
            "articles": self.articles,
            "changed": self.changed,
            "rows_written": self.rows_written,
            "dry_run": self.dry_run,
            "topics": {
                slug: {
                    "added": c.added,
                    "removed": c.removed,
                    "added_examples": c.added_examples,
                    "removed_examples": c.removed_examples,
                }
                for slug, c in sorted(self.topics.items())
            },
        }


def diff_topics(article: Article, new: tuple[TopicTag, ...], report: RetagReport) -> bool:
    """Record in ``report`` how ``article``'s topic set changes to ``new``; whether it does."""
    before = {t.topic for t in article.topics}
    after = {t.topic for t in new}
    for slug in after - before:
        change = report.topics.setdefault(slug, TopicChange())
        change.added += 1
        if len(change.added_examples) < EXAMPLES:
            change.added_examples.append(article.title)
    for slug in before - after:
        change = report.topics.setdefault(slug, TopicChange())
        change.removed += 1
        if len(change.removed_examples) < EXAMPLES:
            change.removed_examples.append(article.title)
    return before != after


def retag(
    settings: Settings,
    storage: Storage,
    *,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> RetagReport:
    """Tag every stored article again with the current rules."""
    rules = load_rules(settings, storage)
    source_topics: Mapping[str, tuple[str, ...]] = {s.id: s.topics for s in settings.sources}
    report = RetagReport(dry_run=dry_run)
    after = ""
    while batch := storage.articles_after(after, BATCH):
        changes: list[tuple[Article, tuple[TopicTag, ...]]] = []
        for article in batch:
            new = tag(article_input(article, source_topics.get(article.source_id, ())), rules)
            report.changed += diff_topics(article, new, report)
            if _by_topic(new) != _by_topic(article.topics):  # scores or evidence moved too
                changes.append((article, new))
        report.articles += len(batch)
        if changes and not dry_run:
            report.rows_written += storage.rewrite_topics(changes)
        after = batch[-1].id
        if on_batch:
            on_batch(len(batch))
    return report


def _by_topic(tags: tuple[TopicTag, ...]) -> dict[str, TopicTag]:
    return {t.topic: t for t in tags}
