"""Sharing the due sources among update processes: one pass's claims, renewed while worked on.

Every process that updates due sources (``feeds update``, ``feeds worker``, ``feeds serve``'s
updater) runs ``claimed_pass``: each fetch slot claims one due source at a time under a lease
(``storage.claim_sources``), works on it, and claims the next, until no due source is left
unclaimed; the leases being worked on are renewed every third of a lease, and leases left by
dead workers of this host are given back first.

What it does not do: fetch, parse or store (the work it is handed: ``feeds.update``), judge
which leases are orphaned (``feeds.leases``), or speak SQL (``feeds.storage.claims``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from feeds import leases
from feeds.models import Source, SourceHealth, SourceReport
from feeds.storage import Storage

Work = Callable[[Source, SourceHealth], Awaitable[SourceReport]]
Clock = Callable[[], datetime]


async def claimed_pass(
    storage: Storage,
    worker: str,
    lease: timedelta,
    clock: Clock,
    configured: Sequence[Source],
    slots: int,
    work: Work,
) -> tuple[SourceReport, ...]:
    """``work`` on the due sources in ``slots`` fetch slots, each claiming one source at a
    time under ``worker``'s leases, until none is left unclaimed; the reports in
    ``configured``'s order."""
    _RUNNING.add(worker)
    try:
        await asyncio.to_thread(release_orphans, storage, clock())
        claim = Claim(storage, worker, lease, clock, {s.id: s for s in configured})
        renewing = asyncio.create_task(claim.renew())
        try:
            done = await asyncio.gather(*(claim.each(work) for _ in range(slots)))
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
    finally:
        _RUNNING.discard(worker)
    order = {s.id: n for n, s in enumerate(configured)}
    return tuple(sorted((r for each in done for r in each), key=lambda r: order[r.source_id]))


class Claim:
    """One pass's claiming: each fetch slot takes one due source at a time (a lease,
    ``storage.claim_sources``) and works on it, until no due source is left unclaimed."""

    def __init__(
        self,
        storage: Storage,
        worker: str,
        lease: timedelta,
        clock: Clock,
        configured: dict[str, Source],
    ) -> None:
        self._storage = storage
        self._worker = worker
        self._lease = lease
        self._clock = clock
        self._configured = configured
        self._seen: set[str] = set()
        self._working: set[str] = set()  # claimed, outcome not stored yet

    async def each(self, work: Work) -> list[SourceReport]:
        """Claim a source, ``work`` on it, repeat; the reports of this slot."""
        done: list[SourceReport] = []
        while True:
            claimed = await asyncio.to_thread(
                self._storage.claim_sources, self._worker, self._clock(), self._lease, 1
            )
            if not claimed:
                return done
            state = claimed[0]
            source = self._configured.get(state.source_id)
            if state.source_id in self._seen or source is None:
                # Due again within this pass (a clock that stands still), or not in this
                # process's config: hand it back and let this slot end.
                await asyncio.to_thread(
                    self._storage.release_sources, self._worker, [state.source_id]
                )
                return done
            self._seen.add(state.source_id)
            self._working.add(state.source_id)
            try:
                done.append(await work(source, state))
            finally:
                self._working.discard(state.source_id)

    async def renew(self) -> None:
        """Every third of a lease, extend the leases of the sources being worked on: a
        fetch, parse and store slower than one lease (a loaded machine, a source that
        drips until the deadline) must not be fetched again by another worker meanwhile.
        A worker that dies renews nothing, so its leases still end."""
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            if self._working:
                await asyncio.to_thread(
                    self._storage.renew_leases,
                    self._worker,
                    sorted(self._working),
                    self._clock() + self._lease,
                )


# Lease names of this process's passes in progress: a lease of this process under any other
# name was left by an earlier pass that failed before storing its outcome (a full disk).
_RUNNING: set[str] = set()


def release_orphans(storage: Storage, now: datetime) -> None:
    """Give back the leases of dead worker processes of this host, and this process's
    leases left by its own finished passes (``feeds.leases``)."""
    held = storage.lease_holders(now)
    for holder, ids in leases.orphaned(held, running=frozenset(_RUNNING)).items():
        storage.release_sources(holder, ids)


def worker_name() -> str:
    """A name for this process's leases: host and pid (for people), plus a random part
    (so a recycled pid never inherits a dead worker's leases)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
