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


def run_until_stopped(
    settings: Settings,
    storage: Storage,
    stop: threading.Event,
    on_pass: Callable[[UpdateSummary], None] | None = None,
) -> None:
    """Update due sources, sleep until the next is due, repeat until ``stop`` is set."""
    while not stop.is_set():
        try:
            summary = asyncio.run(update(settings, storage))
        except Exception:
            log.exception("update pass failed; retrying later")
        else:
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
        stop.wait(idle_time(storage.source_health(), datetime.now(UTC)).total_seconds())
