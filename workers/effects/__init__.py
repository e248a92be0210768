"""What an event means for its channel, and the one place that applies it.

Provider modules map an event to an `Effect` (pure, no I/O); `apply` enforces the contract's
ordering rules for every provider alike: status changes are ordered by the event's own time,
`last_event_at` only moves forward, and an event that proves the channel alive revives it.

The outcome depends on the events' times, never on the order they are processed in: each part
of the state keeps the time of the event it came from, and only an event at least as new
replaces it. The status is the latest one an event reported (`status_changed_at` its time),
shown as `connected` while it is revivable and a proof of life (`last_alive_at`) is as new;
reviving moves neither time, so an older change processed later still compares with the change
it preceded. `error_message` is that status's message, or a note at least as new (`note_at`);
the QR code is the newest one; a connection error counts unless the connection's credentials
were validated after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
    last_alive_at: datetime | None
    note_at: datetime | None
    qr: dict[str, Any] | None


class ConnectionLike(Protocol):
    status: str
    error: dict[str, Any] | None
    validated_at: datetime | None


def apply(
    channel: ChannelLike, connection: ConnectionLike | None, effect: Effect, occurred_at: datetime
) -> None:
    channel.last_event_at = _latest(channel.last_event_at, occurred_at)
    if effect.alive or effect.status == "connected":
        channel.last_alive_at = _latest(channel.last_alive_at, occurred_at)
    if effect.status is not None and _not_before(occurred_at, channel.status_changed_at):
        _change_status(channel, effect.status, effect.message, occurred_at)
    _revive(channel)
    if effect.note is not None and _not_before(occurred_at, _message_at(channel)):
        channel.error_message, channel.note_at = effect.note, occurred_at
    if effect.qr is not None and _not_before(occurred_at, _qr_at(channel.qr)):
        channel.qr = {**effect.qr, "received_at": occurred_at.isoformat()}
    if (
        effect.connection_error is not None
        and connection is not None
        # Credentials validated after the event work: whatever it reported was fixed since.
        and _not_before(occurred_at, connection.validated_at)
    ):
        connection.status = "error"
        connection.error = effect.connection_error


def _change_status(channel: ChannelLike, status: str, message: str | None, at: datetime) -> None:
    channel.status = status
    channel.status_changed_at = at
    if channel.note_at is None or at > channel.note_at:  # else a note as new stays shown
        channel.error_message, channel.note_at = message, None


def _revive(channel: ChannelLike) -> None:
    """A proof of life as new as the latest status change overrides a revivable status."""
    alive_at = channel.last_alive_at
    if channel.status in REVIVABLE and alive_at is not None:
        if _not_before(alive_at, channel.status_changed_at):
            channel.status = "connected"
            if not _shows_note(channel):  # the message went with the status revived
                channel.error_message = None


def _shows_note(channel: ChannelLike) -> bool:
    """Whether `error_message` is a note as new as the status (an older `note_at` is left over
    from before a status set outside `apply`, by a sync or an API call)."""
    note_at = channel.note_at
    return note_at is not None and _not_before(note_at, channel.status_changed_at)


def _message_at(channel: ChannelLike) -> datetime | None:
    """The time of the event `error_message` came from: a note's, or the status change's."""
    return _latest(channel.note_at, channel.status_changed_at)


def _qr_at(qr: dict[str, Any] | None) -> datetime | None:
    try:
        at = datetime.fromisoformat(qr["received_at"]) if qr else None
    except (KeyError, TypeError, ValueError):
        return None  # no time to order it by: any new code replaces it
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _latest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if current is None or (candidate is not None and candidate > current):
        return candidate
    return current


def _not_before(at: datetime, reference: datetime | None) -> bool:
    return reference is None or at >= reference
