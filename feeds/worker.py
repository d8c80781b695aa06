"""The update loop: run ``feeds.update.update`` whenever sources fall due, until stopped.

Used by ``feeds worker`` (in the foreground) and by ``feeds serve``, which runs it as a child
process (``python -m feeds.worker``, see ``main``) so that the updater's parsing, tagging and
clustering never hold the web process's GIL. Stopping is cooperative: the current pass
finishes, and every source it is writing is written whole (each source is one transaction),
then the loop returns. Supervising the child (start, restart, stop) is ``feeds.web.serve``'s.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.config import CONFIG_ENV, Settings, load_settings
from feeds.errors import ConfigError, StorageError
from feeds.models import SourceHealth, UpdateSummary
from feeds.storage import Storage
from feeds.update import update

log = logging.getLogger("feeds.worker")
UPDATER_NICENESS = 10  # how much lower the CPU priority of serve's updater process is
IDLE_MAX = timedelta(seconds=60)  # re-read the schedule at least this often (config changes)


def idle_time(health: list[SourceHealth] | tuple[SourceHealth, ...], now: datetime) -> timedelta:
    """How long to sleep before the next source falls due (between 1 s and ``IDLE_MAX``).

    A source that was never checked (no ``next_check_at``) is due now: another worker holds
    it, or its worker died and the lease runs out soon, so look again in a second."""
    upcoming = [h.next_check_at or now for h in health if h.enabled and not h.gone]
    wait = min(upcoming, default=now + IDLE_MAX) - now
    return max(timedelta(seconds=1), min(wait, IDLE_MAX))


def retry_delay(failures: int) -> timedelta:
    """How long to wait after ``failures`` passes in a row failed: 1 s, doubling, at most
    ``IDLE_MAX``, so a database that stays read-only or full is not retried in a tight loop
    and one that recovers is used again soon."""
    return min(IDLE_MAX, timedelta(seconds=2 ** min(failures - 1, 16)))


def run_until_stopped(
    settings: Settings,
    storage: Storage,
    stop: threading.Event,
    on_pass: Callable[[UpdateSummary], None] | None = None,
    name: str | None = None,
) -> None:
    """Update due sources, sleep until the next is due, repeat until ``stop`` is set.

    ``name`` names the leases of every pass (default: host, pid and a random part per pass).

    A database error (read-only, full, unreachable) ends the pass, not the loop: it is logged
    in one line and the pass is retried after ``retry_delay``; what is stored stays served.
    """
    failures = 0
    while not stop.is_set():
        try:
            summary = asyncio.run(update(settings, storage, worker=name))
            if summary.sources:
                totals = summary.to_json()
                log.info(
                    "update: %s new, %s updated, %s failed",
                    totals["new"],
                    totals["updated"],
                    totals["failed"],
                )
            if on_pass:
                on_pass(summary)
            wait = idle_time(storage.source_health(), datetime.now(UTC))
            failures = 0
        except StorageError as exc:
            failures += 1
            wait = retry_delay(failures)
            log.error("update pass failed: %s; retrying in %g s", exc, wait.total_seconds())
        except Exception:
            failures += 1
            wait = retry_delay(failures)
            log.exception("update pass failed; retrying in %g s", wait.total_seconds())
        stop.wait(wait.total_seconds())


def die_with_parent(parent: int) -> None:
    """End this process as soon as ``parent`` does, however it ends (``kill -9`` included).

    ``feeds serve`` runs its updater as a child process; the updater must not outlive it, just
    as the thread it replaces did not. On Linux the kernel does it: ``PR_SET_PDEATHSIG``
    (prctl(2)) sends SIGKILL when the parent exits. The parent may already have died before
    that call, so the parent pid is checked once after it. Elsewhere a thread watches the
    parent pid (a child whose parent died is re-parented, so ``getppid`` changes).
    """
    if sys.platform == "linux":
        pr_set_pdeathsig = 1  # <linux/prctl.h>
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def main(argv: list[str]) -> int:
    """``python -m feeds.worker PARENT_PID``: the updater process of ``feeds serve``.

    The configuration comes from ``$FEEDS_CONFIG`` (``feeds serve`` sets it, and has already
    validated and migrated it); SIGTERM or SIGINT stops the loop like ``feeds worker``'s.
    Log lines go to stderr, which is ``feeds serve``'s. Exit status: 128 + the signal's number
    when a signal stopped it (the shell's convention: 143 for SIGTERM), so that ``feeds serve``
    can tell a stop it did not ask for from a crash; 1 for a database that cannot be opened,
    2 for a configuration error (``feeds serve`` restarts it with a backoff).
    """
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m feeds.worker PARENT_PID", file=sys.stderr)
        return 2
    die_with_parent(int(argv[0]))
    # Background work: on a busy machine the kernel gives the web server's requests the CPU
    # first (setpriority(2); 10 is nice(1)'s default step). The updater still gets every
    # idle cycle, and sources are checked minutes apart, so it only falls behind by seconds.
    os.nice(UPDATER_NICENESS)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:  %(name)s: %(message)s")
    stop = threading.Event()
    received: list[int] = []

    def on_signal(number: int, _frame: object) -> None:
        received.append(number)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    try:
        settings = load_settings(Path(os.environ[CONFIG_ENV]) if CONFIG_ENV in os.environ else None)
        storage = Storage.open(settings.database)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except StorageError as exc:
        log.error("%s", exc)
        return 1
    try:
        run_until_stopped(settings, storage, stop)
    finally:
        storage.close()
    return 128 + received[0] if received else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
