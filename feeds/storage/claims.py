"""Row claiming: a worker takes due sources under a lease, so many workers share them.

What it does: ``claim`` picks up to N sources that are due (the SQL twin of
``feeds.schedule.is_due``: enabled, not gone, ``next_check_at`` unset or past) and not held
by a live lease, and marks them ``leased_until = now + lease``, ``leased_by = worker`` — in
ONE statement, ``UPDATE … WHERE id IN (SELECT … LIMIT N) RETURNING *``:

- PostgreSQL: the sub-select says ``FOR UPDATE SKIP LOCKED``, so concurrent claims never
  wait for each other and never take the same row; a row another claim updated meanwhile is
  re-checked against the WHERE clause (READ COMMITTED), so a fresh lease is never taken.
- SQLite: a data-changing statement takes the database's write lock before it reads
  anything, so the statement is a short write transaction (BEGIN IMMEDIATE semantics); the
  busy timeout (``engine``) makes other processes wait for it rather than fail.

``Storage.record_update`` clears the lease when it stores the fetch's outcome (and a new
``next_check_at``), so the source is no longer due. A worker that dies keeps its lease
until ``leased_until``; then the source is due and unleased again and another worker takes
it — sooner when the dead worker ran on the same host: ``feeds.leases`` finds such
orphans (their pid is gone) and ``release`` gives them back. A live worker ``renew``s the
leases of the sources it is still working on, so slow work is never taken over. ``now``
comes from the caller's clock (workers' clocks are assumed in step, as for every schedule
decision).

What it does not do: decide the next check (``feeds.schedule``) or fetch anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, false, or_, select, true, update

from feeds.models import SourceHealth, SourceStatus
from feeds.storage import rows
from feeds.storage.schema import sources


def claim(
    connection: Connection, worker: str, now: datetime, lease: timedelta, limit: int
) -> tuple[SourceHealth, ...]:
    """Lease up to ``limit`` due, unleased sources to ``worker``; their health, due first."""
    candidates = (
        select(sources.c.id)
        .where(
            sources.c.enabled == true(),
            sources.c.paused == false(),  # disabled by an operator (admin API)
            sources.c.status != SourceStatus.GONE.value,
            or_(sources.c.next_check_at.is_(None), sources.c.next_check_at <= now),
            or_(sources.c.leased_until.is_(None), sources.c.leased_until <= now),
        )
        .order_by(sources.c.next_check_at.asc().nulls_first(), sources.c.id)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(sources)
        .where(sources.c.id.in_(candidates.scalar_subquery()))
        .values(leased_until=now + lease, leased_by=worker)
        .returning(*sources.c)
    )
    claimed = [rows.health(row) for row in connection.execute(statement).mappings()]
    return tuple(sorted(claimed, key=_due_order))


def renew(connection: Connection, worker: str, ids: list[str], until: datetime) -> None:
    """Extend to ``until`` the leases ``worker`` still holds on ``ids`` (a lease it lost, or
    one ended by storing the outcome, is left alone)."""
    connection.execute(
        update(sources)
        .where(and_(sources.c.id.in_(ids), sources.c.leased_by == worker))
        .values(leased_until=until)
    )


def release(connection: Connection, worker: str, ids: list[str]) -> None:
    """Give back leases ``worker`` holds on ``ids`` (work it will not do after all)."""
    connection.execute(
        update(sources)
        .where(and_(sources.c.id.in_(ids), sources.c.leased_by == worker))
        .values(leased_until=None, leased_by=None)
    )


def _due_order(health: SourceHealth) -> tuple[bool, datetime | None, str]:
    return (health.next_check_at is not None, health.next_check_at, health.source_id)


def holders(connection: Connection, now: datetime) -> dict[str, list[str]]:
    """Who holds a live lease now, and on which sources."""
    held: dict[str, list[str]] = {}
    query = select(sources.c.leased_by, sources.c.id).where(
        sources.c.leased_until > now, sources.c.leased_by.is_not(None)
    )
    for holder, source_id in connection.execute(query):
        held.setdefault(holder, []).append(source_id)
    return held
