"""Orphaned leases: a dead local worker's sources are given back at once (feeds.leases)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from feeds.claims import Claim, release_orphans, worker_name
from feeds.leases import orphaned, pid_exists
from feeds.models import Source, SourceHealth, SourceReport, SourceStatus
from feeds.storage import Storage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_local_holders_whose_process_is_gone_are_orphans() -> None:
    held = {
        "here:100:aa": ["a"],  # dead, this host
        "here:200:bb": ["b", "c"],  # alive, this host
        "there:100:cc": ["d"],  # another host: its pids mean nothing here
        "odd-name": ["e"],  # not ours
    }
    found = orphaned(held, host="here", alive=lambda pid: pid == 200)
    assert found == {"here:100:aa": ["a"]}


def test_this_process_gives_back_only_the_leases_of_its_finished_passes() -> None:
    running, finished = f"here:{os.getpid()}:aa", f"here:{os.getpid()}:bb"
    held = {running: ["a"], finished: ["b"]}
    found = orphaned(held, host="here", alive=lambda _pid: True, running={running})
    assert found == {finished: ["b"]}


def test_pid_exists_tells_a_live_process_from_an_exited_one() -> None:
    assert pid_exists(os.getpid())
    assert not pid_exists(dead_pid())


def test_the_next_run_takes_back_the_sources_of_a_killed_local_worker(
    sqlite_storage: Storage,
) -> None:
    storage = sqlite_storage
    storage.sync_sources(
        [Source(id=s, name=s, url=f"http://{s}.test/", interval=LEASE) for s in "ab"], NOW
    )
    dead = worker_name().split(":")
    dead[1] = str(dead_pid())
    storage.claim_sources(":".join(dead), NOW, LEASE, limit=2)
    elsewhere = "another-host:1:ff"
    assert storage.claim_sources("w", NOW, LEASE) == ()  # both held
    release_orphans(storage, NOW)
    taken = storage.claim_sources("w", NOW, LEASE, limit=2)
    assert [h.source_id for h in taken] == ["a", "b"]
    # A lease held on another host is left to expire: it may be a live worker there.
    storage.release_sources("w", ["a"])
    storage.claim_sources(elsewhere, NOW, LEASE)
    release_orphans(storage, NOW)
    assert storage.claim_sources("w", NOW, LEASE) == ()


def test_a_worker_renews_only_the_leases_it_still_holds(backend_storage: Storage) -> None:
    storage = backend_storage
    storage.sync_sources(
        [Source(id=s, name=s, url=f"http://{s}.test/", interval=LEASE) for s in "ab"], NOW
    )
    storage.claim_sources("w1", NOW, LEASE)  # a
    storage.claim_sources("w2", NOW, LEASE)  # b
    later = NOW + LEASE + timedelta(minutes=1)
    storage.renew_leases("w1", ["a", "b"], later + LEASE)  # b is not w1's
    assert storage.claim_sources("w3", later, LEASE, limit=2)[0].source_id == "b"
    assert storage.lease_holders(later) == {"w1": ["a"], "w3": ["b"]}


def test_work_slower_than_a_lease_is_not_taken_over_while_it_runs(
    sqlite_storage: Storage,
) -> None:
    storage = sqlite_storage
    slow = Source(id="slow", name="slow", url="http://slow.test/", interval=LEASE)
    storage.sync_sources([slow], NOW)
    lease = timedelta(seconds=1)
    taken_over: list[int] = []

    async def slow_work(source: Source, state: SourceHealth) -> SourceReport:
        for _ in range(6):  # three leases long; another worker looks each half lease
            await asyncio.sleep(lease.total_seconds() / 2)
            other = await asyncio.to_thread(
                storage.claim_sources, "other", datetime.now(UTC), lease
            )
            taken_over.append(len(other))
        return SourceReport(source.id, SourceStatus.NOT_MODIFIED)

    async def run() -> None:
        renewing = asyncio.create_task(claim.renew())
        try:
            await claim.each(slow_work)
        finally:
            renewing.cancel()

    claim = Claim(storage, "busy", lease, lambda: datetime.now(UTC), {"slow": slow})
    asyncio.run(run())
    assert taken_over == [0] * 6
