"""The update loop: run ``feeds.update.update`` whenever sources fall due, until stopped.

Used by ``feeds worker`` (in the foreground) and by ``feeds serve`` (in a thread beside the
web server). Stopping is cooperative: the current pass finishes, and every source it is
writing is written whole (each source is one transaction), then the loop returns.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from feeds.config import Settings
from feeds.errors import StorageError
from feeds.models import SourceHealth, UpdateSummary
from feeds.storage import Storage
from feeds.update import update

log = logging.getLogger("feeds.worker")
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
