"""The update pipeline, the one orchestrator of feeds. For each source that is due:

    claim due sources       claims.claimed_pass (a lease per source: feeds.claims;
                            a dead local worker's leases are given back first: feeds.leases)
    conditional GET         fetch.Fetcher.fetch            -> Fetched | NotModified | Failed
    not modified?           record the check and stop
    parse                   parse.parse_feed               -> ParsedFeed | Failed
    normalize               normalize.normalize_entry      -> Article (per entry)
    tag                     tagging.matcher.tag            -> topics, scores, matches
    cluster                 update.cluster (stories.plan)  -> a story per new article
    upsert                  storage.record_update          (articles, stories, health: one write)
    record outcome          schedule.after_success / after_failure -> next check time

Fetches run concurrently (``fetch.concurrency``); everything after the fetch runs in a
worker thread, one source at a time, so the database has a single writer. A failing source
is recorded and the run goes on; only configuration and database errors stop it.

Every process that updates due sources (``feeds update``, ``feeds worker``, ``feeds serve``'s
updater) claims them one at a time per fetch slot, under a lease of ``fetch.lease``: any
number of processes, on any number of machines, share the sources without fetching one
twice, and a source whose worker died is taken again when its lease runs out (the claiming,
renewing and giving back is ``feeds.claims``). Sources named with ``--source`` or forced with
``--all`` are fetched as asked, without a claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from feeds import claims, schedule, stories
from feeds.claims import Clock
from feeds.config import Settings
from feeds.errors import ConfigError
from feeds.fetch import Fetcher, HostGate
from feeds.models import (
    Article,
    Failed,
    Fetched,
    FetchResult,
    NotModified,
    ParsedFeed,
    Source,
    SourceHealth,
    SourceReport,
    SourceStatus,
    UpdateSummary,
    Validators,
)
from feeds.normalize import article_id, normalize_entry
from feeds.parse import MAX_ITEMS, parse_feed
from feeds.storage import Storage
from feeds.tagging.matcher import article_input, tag
from feeds.tagging.rules import CompiledRules
from feeds.tagging.vocabulary import load_rules

ProgressCallback = Callable[[SourceReport], None]


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


log = logging.getLogger("feeds.update")


def select_sources(
    configured: Sequence[Source],
    health: dict[str, SourceHealth],
    now: datetime,
    *,
    only: Sequence[str] = (),
    force: bool = False,
) -> tuple[Source, ...]:
    """Which sources to fetch: the named ones, every enabled one (``force``; sources that
    answered 410 Gone only when named), or the due ones."""
    by_id = {s.id: s for s in configured}
    unknown = [i for i in only if i not in by_id]
    if unknown:
        raise ConfigError(f"unknown source id: {', '.join(unknown)}")
    if only:
        return tuple(by_id[i] for i in dict.fromkeys(only))

    def wanted(source: Source) -> bool:
        state = health.get(source.id)
        if state is None:
            return source.enabled
        if force:
            return state.enabled and not state.gone  # state: config and operator agree
        return schedule.is_due(state, now)

    return tuple(s for s in configured if wanted(s))


async def update(
    settings: Settings,
    storage: Storage,
    *,
    only: Sequence[str] = (),
    force: bool = False,
    on_source_done: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    clock: Clock = utc_now,
    worker: str | None = None,
) -> UpdateSummary:
    """Run one update pass and report what happened to each source.

    ``worker`` names this process's leases (default: host, pid and a random part).

    ``clock`` gives "now" for every decision (due, next check, first seen); benchmarks and
    tests inject one to simulate days of updates without waiting.
    """
    configured = settings.source_models()
    rules = await asyncio.to_thread(load_rules, settings, storage)
    policy = policy_of(settings)
    story_policy = settings.stories.policy(rules.vocabulary)
    await asyncio.to_thread(storage.sync_sources, configured, clock())
    fetch = settings.fetch
    writer = asyncio.Lock()

    async with Fetcher(
        user_agent=settings.user_agent,
        timeout=fetch.timeout,
        deadline=fetch.deadline,
        max_bytes=fetch.max_bytes,
        concurrency=fetch.concurrency,
        max_redirects=fetch.max_redirects,
    ) as fetcher:
        gate = asyncio.Semaphore(fetch.concurrency)
        hosts = HostGate(fetch.per_host, fetch.host_spacing)

        async def one(source: Source, state: SourceHealth) -> SourceReport:
            async with gate, hosts.open(state.url):
                result = await fetcher.fetch(
                    state.url,
                    Validators(etag=state.etag, last_modified=state.last_modified),
                    allow_private=source.allow_private,
                )
            async with writer:
                report = await asyncio.to_thread(
                    ingest,
                    storage,
                    rules,
                    source,
                    state,
                    result,
                    policy,
                    clock(),
                    fetch.max_items,
                    story_policy,
                )
            if on_source_done:
                on_source_done(report)
            return report

        if only or force:  # the user says what to fetch: now, whoever else holds it
            health = {h.source_id: h for h in await asyncio.to_thread(storage.source_health)}
            chosen = select_sources(configured, health, clock(), only=only, force=force)
            if on_start:
                on_start(len(chosen))
            reports = await asyncio.gather(*(one(s, health[s.id]) for s in chosen))
            return UpdateSummary(sources=tuple(reports))

        if on_start:  # an estimate for progress: other processes may take some
            health_now = await asyncio.to_thread(storage.source_health)
            on_start(sum(1 for h in health_now if schedule.is_due(h, clock())))
        claimed = await claims.claimed_pass(
            storage,
            worker or claims.worker_name(),
            fetch.lease,
            clock,
            configured,
            fetch.concurrency,
            one,
        )
    return UpdateSummary(sources=claimed)


def policy_of(settings: Settings) -> schedule.Policy:
    """The scheduling policy the ``fetch:`` settings describe."""
    fetch = settings.fetch
    return schedule.Policy(
        min_interval=fetch.min_interval,
        max_interval=fetch.max_interval,
        backoff_base=fetch.backoff_base,
        failing_after=fetch.failing_after,
    )


def ingest(
    storage: Storage,
    rules: CompiledRules,
    source: Source,
    state: SourceHealth,
    result: FetchResult,
    policy: schedule.Policy = schedule.DEFAULT_POLICY,
    now: datetime | None = None,
    max_items: int = MAX_ITEMS,
    story_policy: stories.StoryPolicy = stories.DEFAULT_POLICY,
) -> SourceReport:
    """Everything after the fetch for one source: parse, normalize, tag, cluster, store,
    record."""
    now = now or utc_now()
    if isinstance(result, Failed):
        return _record_failure(storage, state, result, now, policy)
    if isinstance(result, NotModified):
        return _record_success(storage, state, source, result, result, now, policy)
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        # Same bytes as the last body parsed: a server without validators that did not
        # change. Nothing to parse; it counts as not modified.
        unchanged = NotModified(result.url, result.validators, result.elapsed, result.hints)
        return _record_success(storage, state, source, unchanged, result, now, policy)

    parsed = parse_feed(result, max_items=max_items)
    if isinstance(parsed, Failed):
        failure = replace(parsed, elapsed=parsed.elapsed or result.elapsed)
        return _record_failure(storage, state, failure, now, policy)
    articles = tuple(
        replace(a, topics=tag(article_input(a, source.topics), rules))
        for a in _articles(storage, source, parsed, now)
    )
    return _record_success(
        storage,
        state,
        source,
        parsed,
        result,
        now,
        policy,
        articles=articles,
        body_hash=body_hash,
        clusters=cluster(storage, articles, story_policy),
    )


def cluster(
    storage: Storage, articles: Sequence[Article], policy: stories.StoryPolicy
) -> tuple[tuple[stories.Assignment, stories.Sighting], ...]:
    """The story of every article not clustered yet: its candidates come from storage
    (indexed keys, within the window), the decision from ``feeds.stories``. Articles that
    already have a story keep it, so a story's id never changes under an edit."""
    known = storage.story_ids([a.id for a in articles])
    fresh = [stories.sighting(a) for a in articles if known.get(a.id) is None]
    if not fresh:
        return ()
    found = storage.story_candidates(fresh, policy.window)
    by_id = {item.article_id: item for item in fresh}
    return tuple((d, by_id[d.article_id]) for d in stories.plan(fresh, found, policy))


def _record_success(
    storage: Storage,
    state: SourceHealth,
    source: Source,
    outcome: ParsedFeed | NotModified,
    response: Fetched | NotModified,
    now: datetime,
    policy: schedule.Policy,
    *,
    articles: tuple[Article, ...] = (),
    body_hash: str | None = None,
    clusters: Sequence[tuple[stories.Assignment, stories.Sighting]] = (),
) -> SourceReport:
    """Store a successful check: its articles and the source's new health, together."""
    fetched = response if isinstance(response, Fetched) else None
    health = schedule.after_success(
        state,
        source,
        outcome,
        now=now,
        hints=response.hints,
        etag=response.validators.etag,
        last_modified=response.validators.last_modified,
        size=len(fetched.body) if fetched else None,
        elapsed=response.elapsed,
        moved_to=fetched.moved_to if fetched else None,
        body_hash=body_hash,
        policy=policy,
    )
    if fetched and fetched.moved_to:
        log.warning("%s: moved permanently from %s to %s", source.id, state.url, fetched.moved_to)
    counts = storage.record_update(
        health, articles, now, fetched_bytes=len(fetched.body) if fetched else 0, stories=clusters
    )
    if isinstance(outcome, ParsedFeed):
        return SourceReport(source.id, SourceStatus.OK, counts, warnings=outcome.warnings)
    return SourceReport(source.id, SourceStatus.NOT_MODIFIED, counts)


def _articles(
    storage: Storage, source: Source, parsed: ParsedFeed, now: datetime
) -> tuple[Article, ...]:
    # A feed may repeat an entry id; the first occurrence wins, as readers show the top one.
    entries = {article_id(source.id, e.entry_id): e for e in reversed(parsed.entries)}
    first_seen = storage.first_seen(list(entries))
    return tuple(
        normalize_entry(entry, source, parsed, now=now, first_seen=first_seen.get(key, now))
        for key, entry in reversed(entries.items())
    )


def _record_failure(
    storage: Storage,
    state: SourceHealth,
    failure: Failed,
    now: datetime,
    policy: schedule.Policy,
) -> SourceReport:
    health = schedule.after_failure(state, failure, now=now, rand=random.random(), policy=policy)
    storage.record_update(health, (), now, fetched_bytes=0)
    return SourceReport(
        state.source_id, health.status, error_kind=failure.kind, error=failure.message
    )
