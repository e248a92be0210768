"""The statements a batch of events runs (workers.processing), in SQLAlchemy Core.

On PostgreSQL an id list is one array parameter (`id = ANY(:ids)`), so each statement's text
is the same whatever the batch size: psycopg prepares it once per connection and reuses the
plan. An expanding `IN (…)` would be new text, parsed and planned again, for every size.
SQLite gets the expanding `IN`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, ColumnElement, Select, String, Table, Update, any_, bindparam, select
from sqlalchemy import update as update_
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.models import Channel, Connection, Event
from workers.effects.state import CHANNEL_STATE, CONNECTION_STATE

# None is SQL NULL, as the ORM writes it, not JSON 'null'.
NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

events = cast(Table, Event.__table__)
channels = cast(Table, Channel.__table__)
connections = cast(Table, Connection.__table__)


@dataclass(frozen=True)
class Statements:
    claim: Update  # :ids, :at → the pending events among them, locked and marked processed
    lock_channels: Select[Any]  # :ids → channel state, locked in id order
    connections: Select[Any]  # :ids → connection state, then validated_at
    write_channel: Update  # executemany: :_id and CHANNEL_STATE, updated_at
    write_connection: Update  # executemany: :_id and CONNECTION_STATE, updated_at
    relabel: Update  # :ids, :status: a claimed event's outcome was not `processed`
    fail: Update  # executemany: :_id, :error


@functools.cache
def statements(dialect: str) -> Statements:
    def member(table: Table) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return table.c.id == any_(bindparam("ids", type_=ARRAY(String)))
        return table.c.id.in_(bindparam("ids", expanding=True))

    # Taking and marking the events is one statement (one round trip); an event another
    # worker holds is skipped, not waited for.
    pending = (
        select(events.c.id)
        .where(member(events), events.c.status == "pending")
        .with_for_update(skip_locked=True)
    )
    return Statements(
        claim=update_(events)
        .where(events.c.id.in_(pending))
        .values(status="processed", attempts=events.c.attempts + 1, processed_at=bindparam("at"))
        .returning(
            events.c.id,
            events.c.channel_id,
            events.c.provider,
            events.c.type,
            events.c.payload,
            events.c.occurred_at,
            events.c.received_at,
        ),
        lock_channels=select(
            channels.c.id,
            channels.c.enabled,
            channels.c.connection_id,
            *(channels.c[name] for name in CHANNEL_STATE),
        )
        .where(member(channels))
        .order_by(channels.c.id)
        # NO KEY UPDATE, the lock an UPDATE of non-key columns takes anyway: it excludes other
        # workers, and nothing that needs only a key share.
        .with_for_update(key_share=True),
        connections=select(
            connections.c.id,
            *(connections.c[name] for name in CONNECTION_STATE),
            connections.c.validated_at,
        ).where(member(connections)),
        write_channel=_setter(channels, CHANNEL_STATE),
        write_connection=_setter(connections, CONNECTION_STATE),
        relabel=update_(events)
        .where(member(events))
        .values(status=bindparam("status"), error=None),
        fail=update_(events)
        .where(events.c.id == bindparam("_id"))
        .values(status="failed", error=bindparam("error")),
    )


def _setter(table: Table, names: tuple[str, ...]) -> Update:
    """UPDATE `table` SET each of `names` and updated_at WHERE id = :_id."""
    values = {
        name: bindparam(
            name, type_=NULLABLE_JSON if name in ("qr", "error") else table.c[name].type
        )
        for name in (*names, "updated_at")
    }
    return update_(table).where(table.c.id == bindparam("_id")).values(values)
