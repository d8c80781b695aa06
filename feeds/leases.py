"""Orphaned leases: sources leased by a worker process that no longer exists on this host.

A worker names its leases ``host:pid:random`` (``feeds.claims.worker_name``). When it dies
(``kill -9``, OOM, a power cut of a container) its leases would hold its sources until
``leased_until``: up to ``fetch.lease`` (10 minutes by default) without a fetch. Another
worker on another host can only wait for that; one on the *same* host can ask the kernel
whether the pid still exists, and give such leases back at once — so a crashed
``feeds update`` followed by the next run fetches everything, as an uninterrupted run would.
The same goes for a live process's leases from one of its own earlier passes that failed
before storing the outcome (a read-only or full database): its next pass takes them back.

What it does not do: judge leases of other hosts (their pids mean nothing here), or take a
lease from a live process. A pid reused by an unrelated process keeps the lease until it
expires, which is the safe direction.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection, Mapping, Sequence


def pid_exists(pid: int) -> bool:
    """Whether a process with ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def orphaned(
    held: Mapping[str, Sequence[str]],
    host: str | None = None,
    alive: Callable[[int], bool] = pid_exists,
    running: Collection[str] = (),
) -> dict[str, list[str]]:
    """The holders in ``held`` that ran on ``host`` (this one) and whose pid is gone, and
    this process's own holders other than its ``running`` passes (a pass that failed
    before storing its outcome, e.g. on a full disk, leaves its leases behind)."""
    host = socket.gethostname() if host is None else host
    found: dict[str, list[str]] = {}
    for holder, ids in held.items():
        name, _, rest = holder.partition(":")
        pid_text = rest.partition(":")[0]
        if name != host or not pid_text.isdigit():
            continue
        pid = int(pid_text)
        mine = pid == os.getpid()
        if (mine and holder not in running) or (not mine and not alive(pid)):
            found[holder] = list(ids)
    return found
