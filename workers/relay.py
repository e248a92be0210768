"""The relay: re-enqueue stored events still pending after a lease.

The receiver enqueues every event it stores, but a broker can lose messages (Redis restarted
empty, a worker killed after taking a message). The event store is the source of truth; the
relay makes sure every pending event reaches a worker eventually. Processing is idempotent,
so a duplicate message costs a query and nothing else.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from shared.db import session_scope
from shared.models import Event, utcnow
from shared.settings import get_settings
from workers.actors import process_events

BATCH = 1000
MESSAGE_SIZE = 100
# One tick takes batches until one comes back short, for this long at most: a large backlog
# (a broker restarted empty) comes back at the database's pace, not a batch per tick.
TICK_BUDGET_SECONDS = 2.0


def relay_once() -> int:
    """Re-enqueue the pending events enqueued longer ago than the lease; returns how many."""
    # Fixed for the tick: the events it relays get a newer lease and are not taken again.
    overdue_before = utcnow() - timedelta(seconds=get_settings().relay_lease_seconds)
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    relayed = 0
    while True:
        taken = _relay_batch(overdue_before)
        relayed += taken
        if taken < BATCH or time.monotonic() >= deadline:
            return relayed


def _relay_batch(overdue_before: datetime) -> int:
    """Lease and send up to BATCH overdue events, oldest first."""
    now = utcnow()
    overdue = or_(Event.enqueued_at.is_(None), Event.enqueued_at < overdue_before)
    with session_scope() as session:
        query = (
            select(Event.id)
            .where(Event.status == "pending", overdue)
            .order_by(Event.received_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(Event).where(Event.id.in_(ids)).values(enqueued_at=now))
    # Sent after the commit: a worker fast enough to beat the commit would find the events
    # still locked, skip them, and leave them waiting out a lease.
    for start in range(0, len(ids), MESSAGE_SIZE):
        try:
            process_events.send(ids[start : start + MESSAGE_SIZE])
        except Exception:
            # The broker is down: give back the leases of those not sent, so the next tick
            # retries them instead of leaving them to wait out a lease for nothing.
            _release(ids[start:])
            raise
    return len(ids)


def _release(ids: list[str]) -> None:
    with session_scope() as session:
        session.execute(update(Event).where(Event.id.in_(ids)).values(enqueued_at=None))
