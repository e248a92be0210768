"""Plain copies of the channel and connection state a batch of events changes.

A batch reads each channel it touches once, `apply`s all its events to this copy, and writes
the channel back once if anything changed: however many of a channel's events the batch holds,
its row is written at most once. Plain slotted objects, not ORM rows: the hot path needs no
identity map, no change tracking and no per-attribute instrumentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

# The columns `apply` may change (see workers.effects.ChannelLike), in this order.
CHANNEL_STATE = (
    "status",
    "error_message",
    "last_event_at",
    "status_changed_at",
    "last_alive_at",
    "note_at",
    "qr",
)
CONNECTION_STATE = ("status", "error")
# Read by name, so the values always line up with the columns they are written to.
_channel_values = attrgetter(*CHANNEL_STATE)
_connection_values = attrgetter(*CONNECTION_STATE)


@dataclass(slots=True)
class ChannelState:
    id: str
    enabled: bool
    connection_id: str | None
    status: str
    error_message: str | None
    last_event_at: datetime | None
    status_changed_at: datetime | None
    last_alive_at: datetime | None
    note_at: datetime | None
    qr: dict[str, Any] | None

    def state(self) -> tuple[Any, ...]:
        """The values of CHANNEL_STATE: what to compare, and what to write."""
        values: tuple[Any, ...] = _channel_values(self)
        return values


@dataclass(slots=True)
class ConnectionState:
    id: str
    status: str
    error: dict[str, Any] | None
    validated_at: datetime | None  # read, never written: `apply` compares event times with it

    def state(self) -> tuple[Any, ...]:
        """The values of CONNECTION_STATE."""
        values: tuple[Any, ...] = _connection_values(self)
        return values
