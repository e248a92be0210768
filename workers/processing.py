"""Turn stored events into channel state, a batch per transaction.

Idempotent: only `pending` events are taken, and each is marked processed in the same
transaction as its effect, so a redelivered message finds nothing left to do. Channel rows are
locked in id order, so two workers touching the same channels never deadlock, and each channel
is written once per batch however many of its events the batch holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.metrics import EVENT_LAG_SECONDS, EVENTS_PROCESSED, PROCESSING_SECONDS
from shared.models import Channel, Connection, Event, utcnow
from workers.effects import Effect, apply
from workers.effects import discord as discord_effects
from workers.effects import slack as slack_effects
from workers.effects import telegram as telegram_effects
from workers.effects import twilio as twilio_effects
from workers.effects import whapi as whapi_effects

log = logging.getLogger(__name__)

EffectOf = Callable[[str, dict[str, Any]], Effect]
EFFECTS: dict[str, EffectOf] = {
    "slack": slack_effects.effect_of,
    "discord": discord_effects.effect_of,
    "telegram": telegram_effects.effect_of,
    "whapi": whapi_effects.effect_of,
    "twilio": twilio_effects.effect_of,
}


@PROCESSING_SECONDS.time()
def process_events(event_ids: list[str]) -> int:
    """Apply the pending events among `event_ids`; returns how many were processed."""
    with session_scope() as session:
        events = _claim(session, event_ids)
        if not events:
            return 0
        channels = _lock_channels(session, {e.channel_id for e in events})
        connections = _connections(session, channels.values())
        for event in events:
            channel = channels[event.channel_id]
            _process_one(event, channel, connections.get(channel.connection_id or ""))
        return len(events)


def _claim(session: Session, event_ids: list[str]) -> list[Event]:
    query = (
        select(Event)
        .where(Event.id.in_(event_ids), Event.status == "pending")
        .order_by(Event.occurred_at, Event.id)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def _lock_channels(session: Session, channel_ids: set[str]) -> dict[str, Channel]:
    query = (
        select(Channel).where(Channel.id.in_(channel_ids)).order_by(Channel.id).with_for_update()
    )
    return {channel.id: channel for channel in session.scalars(query)}


def _connections(session: Session, channels: Any) -> dict[str, Connection]:
    ids = {c.connection_id for c in channels if c.connection_id}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Connection).where(Connection.id.in_(ids)))}


def _process_one(event: Event, channel: Channel, connection: Connection | None) -> None:
    event.attempts += 1
    event.processed_at = utcnow()
    if not channel.enabled:
        event.status = "ignored"
    else:
        event.status = _apply_effect(event, channel, connection)
    EVENTS_PROCESSED.labels(event.provider, event.status).inc()
    EVENT_LAG_SECONDS.labels(event.provider).observe(_seconds_since(event.received_at))


def _apply_effect(event: Event, channel: Channel, connection: Connection | None) -> str:
    effect_of = EFFECTS.get(event.provider)
    if effect_of is None:
        return "processed"
    try:
        effect = effect_of(event.type, event.payload)
    except Exception as exc:
        # Effects are pure functions of the payload: retrying cannot help, and one such event
        # must not hold back the rest of its batch. It stays visible, with its error.
        log.exception("event %s: no effect could be derived", event.id)
        event.error = f"{type(exc).__name__}: effect could not be derived"
        return "failed"
    apply(channel, connection, effect, event.occurred_at)
    return "processed"


def _seconds_since(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone
    return max(0.0, (utcnow() - aware).total_seconds())
