"""What an event means for its channel, and the one place that applies it.

Provider modules map an event to an `Effect` (pure, no I/O); `apply` enforces the contract's
ordering rules for every provider alike: status changes are ordered by the event's own time,
`last_event_at` only moves forward, and an event that proves the channel alive revives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# Statuses an event proving the channel alive moves to `connected` (contract §6).
REVIVABLE = frozenset({"pending", "connecting", "awaiting_scan", "disconnected"})


@dataclass(frozen=True)
class Effect:
    alive: bool = False  # the event proves the channel works
    status: str | None = None  # an explicit status the event implies
    message: str | None = None  # error_message to go with `status`
    note: str | None = None  # error_message without a status change
    connection_error: dict[str, Any] | None = None  # set on the channel's connection
    qr: dict[str, str] | None = None  # a QR code to scan (Whapi), kept for the API


ALIVE = Effect(alive=True)


class ChannelLike(Protocol):
    """What `apply` reads and writes on a channel: a `Channel` row, or a batch's plain copy."""

    status: str
    error_message: str | None
    last_event_at: datetime | None
    status_changed_at: datetime | None
    qr: dict[str, Any] | None


class ConnectionLike(Protocol):
    status: str
    error: dict[str, Any] | None


def apply(
    channel: ChannelLike, connection: ConnectionLike | None, effect: Effect, occurred_at: datetime
) -> None:
    if channel.last_event_at is None or occurred_at > channel.last_event_at:
        channel.last_event_at = occurred_at
    newer = channel.status_changed_at is None or occurred_at >= channel.status_changed_at
    if effect.status is not None and newer:
        _change_status(channel, effect.status, effect.message, occurred_at)
    elif effect.alive and newer and channel.status in REVIVABLE:
        _change_status(channel, "connected", None, occurred_at)
    if effect.qr is not None and newer:
        channel.qr = {**effect.qr, "received_at": occurred_at.isoformat()}
    if effect.note is not None:
        channel.error_message = effect.note
    if effect.connection_error is not None and connection is not None and newer:
        connection.status = "error"
        connection.error = effect.connection_error


def _change_status(channel: ChannelLike, status: str, message: str | None, at: datetime) -> None:
    channel.status = status
    channel.error_message = message
    channel.status_changed_at = at
