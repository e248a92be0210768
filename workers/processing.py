"""Turn stored events into channel state, a batch per transaction.

Idempotent: only `pending` events are taken (SKIP LOCKED: an event another worker holds is
that worker's), and each is marked in the same transaction as its effect, so a redelivered
message finds nothing left to do.

Cheap per event, and short under lock. SQLAlchemy Core, no ORM, and a fixed handful of
statements per batch however many events it holds (workers.processing_sql): one takes the
pending events and marks them processed; effects are derived with no channel locked yet; then
the batch's channels are locked in id order (two workers touching the same channels never
deadlock), every event is applied in event-time order to a plain copy of its channel, and each
changed channel is written once. Events that failed or were ignored are relabelled; both are
rare, and cost a statement only when they occur.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection as DbConnection
from sqlalchemy import Update

from shared.db import get_engine
from shared.metrics import EVENT_LAG_SECONDS, EVENTS_PROCESSED, PROCESSING_SECONDS
from shared.models import utcnow
from workers.effects import Effect, apply
from workers.effects import discord as discord_effects
from workers.effects import slack as slack_effects
from workers.effects import telegram as telegram_effects
from workers.effects import twilio as twilio_effects
from workers.effects import whapi as whapi_effects
from workers.effects.state import CHANNEL_STATE, CONNECTION_STATE, ChannelState, ConnectionState
from workers.processing_sql import Statements, statements

log = logging.getLogger(__name__)

EffectOf = Callable[[str, dict[str, Any]], Effect]
EFFECTS: dict[str, EffectOf] = {
    "slack": slack_effects.effect_of,
    "discord": discord_effects.effect_of,
    "telegram": telegram_effects.effect_of,
    "whapi": whapi_effects.effect_of,
    "twilio": twilio_effects.effect_of,
}


@dataclass(slots=True)
class Claimed:
    """A pending event this batch holds, and what became of it."""

    id: str
    channel_id: str
    provider: str
    type: str
    payload: dict[str, Any]
    occurred_at: datetime
    received_at: datetime
    effect: Effect | None = None
    error: str | None = None
    status: str = "processed"


@dataclass(frozen=True)
class Changed:
    channels: list[ChannelState]
    connections: list[ConnectionState]


@PROCESSING_SECONDS.time()
def process_events(event_ids: list[str]) -> int:
    """Apply the pending events among `event_ids`; returns how many were processed."""
    if not event_ids:
        return 0
    with get_engine().begin() as conn:
        sql = statements(conn.dialect.name)
        now = utcnow()
        rows = conn.execute(sql.claim, {"ids": list(event_ids), "at": now})
        claimed = [Claimed(*row) for row in rows]
        if not claimed:
            return 0
        claimed.sort(key=lambda e: (e.occurred_at, e.id))  # contract §6: event-time order
        for event in claimed:
            _derive_effect(event)
        # The channels stay locked from here to the commit: keep this part short.
        ids = sorted({e.channel_id for e in claimed})
        states = {
            row[0]: ChannelState(*row) for row in conn.execute(sql.lock_channels, {"ids": ids})
        }
        accounts = _connections(conn, sql, claimed, states)
        changed = _apply_all(claimed, states, accounts)
        _write(conn, sql.write_channel, changed.channels, CHANNEL_STATE, now)
        _write(conn, sql.write_connection, changed.connections, CONNECTION_STATE, now)
        _relabel(conn, sql, claimed)
    _count(claimed, now)
    return len(claimed)


def _derive_effect(event: Claimed) -> None:
    effect_of = EFFECTS.get(event.provider)
    if effect_of is None:
        return
    try:
        event.effect = effect_of(event.type, event.payload)
    except Exception as exc:
        # Effects are pure functions of the payload: retrying cannot help, and one such event
        # must not hold back the rest of its batch. It stays visible, with its error.
        log.exception("event %s: no effect could be derived", event.id)
        event.error = f"{type(exc).__name__}: effect could not be derived"
        event.status = "failed"


def _relabel(conn: DbConnection, sql: Statements, claimed: list[Claimed]) -> None:
    """Claimed events were marked `processed`; those that were not get their own status."""
    failed = [{"_id": e.id, "error": e.error} for e in claimed if e.status == "failed"]
    if failed:
        conn.execute(sql.fail, failed)
    ignored = [e.id for e in claimed if e.status == "ignored"]
    if ignored:
        conn.execute(sql.relabel, {"ids": ignored, "status": "ignored"})


def _connections(
    conn: DbConnection, sql: Statements, claimed: Iterable[Claimed], states: dict[str, ChannelState]
) -> dict[str, ConnectionState]:
    """The connections an effect may change: usually none, and then no query."""
    ids = {
        state.connection_id
        for e in claimed
        if e.effect is not None
        and e.effect.connection_error is not None
        and (state := states.get(e.channel_id)) is not None
        and state.connection_id is not None
    }
    if not ids:
        return {}
    rows = conn.execute(sql.connections, {"ids": sorted(ids)})
    return {row[0]: ConnectionState(*row) for row in rows}


def _apply_all(
    claimed: Iterable[Claimed],
    states: dict[str, ChannelState],
    accounts: dict[str, ConnectionState],
) -> Changed:
    """Apply each event to its channel's copy, in order; return the copies that changed."""
    before = {cid: state.state() for cid, state in states.items()}
    accounts_before = {cid: account.state() for cid, account in accounts.items()}
    for event in claimed:
        channel = states.get(event.channel_id)
        if channel is None or not channel.enabled:
            event.status = "ignored"  # a disabled channel's events change nothing
        elif event.effect is not None:
            apply(
                channel, accounts.get(channel.connection_id or ""), event.effect, event.occurred_at
            )
    return Changed(
        [state for cid, state in states.items() if state.state() != before[cid]],
        [account for cid, account in accounts.items() if account.state() != accounts_before[cid]],
    )


def _write(
    conn: DbConnection,
    statement: Update,
    rows: Iterable[ChannelState | ConnectionState],
    names: tuple[str, ...],
    now: datetime,
) -> None:
    """All changed rows in one executemany (psycopg pipelines it: one round trip)."""
    params = [
        {"_id": row.id, "updated_at": now, **dict(zip(names, row.state(), strict=True))}
        for row in rows
    ]
    if params:
        conn.execute(statement, params)


def _count(claimed: list[Claimed], now: datetime) -> None:
    """Metrics, after the commit: one increment per (provider, status) of the batch."""
    for (provider, status), n in Counter((e.provider, e.status) for e in claimed).items():
        EVENTS_PROCESSED.labels(provider, status).inc(n)
    lags = {
        provider: EVENT_LAG_SECONDS.labels(provider) for provider in {e.provider for e in claimed}
    }
    for event in claimed:
        lags[event.provider].observe(_seconds_between(event.received_at, now))


def _seconds_between(start: datetime, end: datetime) -> float:
    aware = start if start.tzinfo else start.replace(tzinfo=UTC)  # SQLite drops the zone
    return max(0.0, (end - aware).total_seconds())
