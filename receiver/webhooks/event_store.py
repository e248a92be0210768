"""Store a batch of accepted webhooks in one transaction, then enqueue them in one message.

Group commit: every request that arrives while a batch is being written waits for the next
one, so under load one INSERT, one COMMIT and one broker round trip serve many webhooks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.events import NormalizedEvent
from shared.ids import new_id
from shared.models import Channel, Event, utcnow

events_table = Event.__table__
channels_table = Channel.__table__


class Outcome(enum.Enum):
    STORED = "stored"  # new, stored and enqueued
    DUPLICATE = "duplicate"  # stored before; nothing done now
    IGNORED = "ignored"  # stored as ignored: the channel is disabled
    GONE = "gone"  # the channel no longer exists
    UNAVAILABLE = "unavailable"  # not stored, or stored but not enqueued: ask for a retry


@dataclass(frozen=True)
class Accepted:
    channel_id: str
    instance_id: str
    provider: str
    event: NormalizedEvent
    received_at: datetime


def store_batch(
    engine: Engine, items: Sequence[Accepted], enqueue: Callable[[list[str]], None]
) -> list[Outcome]:
    """Outcomes in the order of `items`. Raises only if nothing could be stored."""
    ids = [new_id("evt") for _ in items]
    now = utcnow()
    with engine.begin() as conn:
        enabled = _enabled_channels(conn, {item.channel_id for item in items})
        rows = [
            _row(event_id, item, now, enabled[item.channel_id])
            for event_id, item in zip(ids, items, strict=True)
            if item.channel_id in enabled
        ]
        inserted = (
            set(conn.execute(_insert_ignoring_duplicates(conn), rows).scalars()) if rows else set()
        )
    outcomes = [
        _outcome(event_id, item, enabled, inserted)
        for event_id, item in zip(ids, items, strict=True)
    ]
    to_enqueue = [eid for eid, o in zip(ids, outcomes, strict=True) if o is Outcome.STORED]
    if to_enqueue:
        try:
            enqueue(to_enqueue)
        except Exception:
            # Stored but not enqueued: the relay will enqueue them; the provider retries meanwhile.
            return [Outcome.UNAVAILABLE if o is Outcome.STORED else o for o in outcomes]
    return outcomes


def _enabled_channels(conn: Connection, channel_ids: set[str]) -> dict[str, bool]:
    query = select(channels_table.c.id, channels_table.c.enabled).where(
        channels_table.c.id.in_(channel_ids)
    )
    return {row[0]: bool(row[1]) for row in conn.execute(query)}


def _row(event_id: str, item: Accepted, now: datetime, enabled: bool) -> dict[str, Any]:
    event = item.event
    return {
        "id": event_id,
        "instance_id": item.instance_id,
        "channel_id": item.channel_id,
        "provider": item.provider,
        "type": event.type,
        "dedup_key": event.dedup_key,
        "received_at": item.received_at,
        "occurred_at": event.occurred_at or item.received_at,
        "status": "pending" if enabled else "ignored",
        "attempts": 0,
        "payload": event.payload,
        "enqueued_at": now if enabled else None,
    }


def _insert_ignoring_duplicates(conn: Connection) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(events_table).on_conflict_do_nothing(
        index_elements=["provider", "channel_id", "dedup_key"]
    )
    returning: Insert = statement.returning(events_table.c.id)
    return returning


def _outcome(
    event_id: str, item: Accepted, enabled: dict[str, bool], inserted: set[str]
) -> Outcome:
    if item.channel_id not in enabled:
        return Outcome.GONE
    if event_id not in inserted:
        return Outcome.DUPLICATE
    return Outcome.STORED if enabled[item.channel_id] else Outcome.IGNORED
