"""Store a batch of accepted webhooks, then enqueue them in one broker message.

Group commit: the webhooks that arrive while a batch is being written wait for the next one
(`receiver.webhooks.ingest`), so under load one statement, one commit and one broker round trip
serve many webhooks.

Two stores share the rules below. `PostgresStore` runs on the event loop (psycopg's async
connection): a batch is one constant statement, prepared once per connection, its rows a single
JSON parameter; the channel check, insert and dedup happen server-side, atomically, in
autocommit. `SqlStore` runs SQLAlchemy in a thread, for SQLite (the embedded mode).
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Connection, Engine, Insert, Table, delete, make_url, select
from sqlalchemy.dialects import sqlite

from shared.events import NormalizedEvent
from shared.ids import new_ids
from shared.models import Channel, Event, utcnow
from shared.storable_text import storable

events_table = cast(Table, Event.__table__)
channels_table = cast(Table, Channel.__table__)


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


# (ids of events whose channel exists, id → status of those stored now): an id with a channel
# but not stored now is a duplicate.
Written = tuple[set[str], dict[str, str]]

Enqueue = Callable[[list[str]], Awaitable[None]]
# Called once the batch is in the database, before it is enqueued: the next batch can go then.
OnStored = Callable[[], object]

# While PostgreSQL is unreachable a batch waits this long for a connection, then is answered 503
# with Retry-After: providers stop waiting after a few seconds (Slack after 3), and a prompt 503
# is retried sooner than a timeout. When the database is up, the one batch being written has the
# one connection, so no batch waits.
CONNECTION_WAIT_SECONDS = 1.0
# A lost connection is redialled with backoff for this long; after that the pool dials afresh
# when a batch next needs one, so the receiver follows a restarted database within a second or
# two instead of after a backoff grown long during the outage.
RECONNECT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 2


class SqlStore:
    """SQLAlchemy in a writer thread: any database, used for SQLite."""

    def __init__(self, engine: Engine, enqueue: Enqueue) -> None:
        self._engine = engine
        self._enqueue = enqueue
        # One batch is written at a time (receiver.webhooks.ingest), so one thread.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    async def __call__(self, items: Sequence[Accepted], on_stored: OnStored) -> list[Outcome]:
        # SQLite would take any text, but the API could not serve it back.
        rows: list[dict[str, Any]] = storable(_rows(items))
        loop = asyncio.get_running_loop()
        written = await loop.run_in_executor(self._executor, self._write, rows)
        on_stored()
        return await _finish(rows, written, self._enqueue)

    def _write(self, rows: list[dict[str, Any]]) -> Written:
        with self._engine.begin() as conn:
            return _write_generic(conn, rows)

    async def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._engine.dispose()


class PostgresStore:
    """psycopg's async connections on the event loop: no thread hand-off per batch."""

    def __init__(self, database_url: str, enqueue: Enqueue) -> None:
        self._pool = AsyncConnectionPool(
            make_url(database_url).set(drivername="postgresql").render_as_string(False),
            # One batch is written at a time (receiver.webhooks.ingest), so one connection.
            min_size=1,
            max_size=1,
            timeout=CONNECTION_WAIT_SECONDS,
            reconnect_timeout=RECONNECT_SECONDS,
            # One statement is atomic on its own: autocommit saves BEGIN and COMMIT round trips.
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            open=False,
        )
        self._enqueue = enqueue

    async def open(self) -> None:
        await self._pool.open()

    async def __call__(self, items: Sequence[Accepted], on_stored: OnStored) -> list[Outcome]:
        rows = _rows(items)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_POSTGRES_BATCH, (_json(rows),))
            result = await cursor.fetchall()
        on_stored()
        written = ({r[0] for r in result}, {r[0]: r[1] for r in result if r[1] is not None})
        return await _finish(rows, written, self._enqueue)

    async def close(self) -> None:
        await self._pool.close()


async def _finish(rows: list[dict[str, Any]], written: Written, enqueue: Enqueue) -> list[Outcome]:
    """Outcomes in the order of `rows`, after enqueueing the newly stored ones."""
    with_channel, stored = written
    outcomes = [_outcome(row["id"], with_channel, stored) for row in rows]
    to_enqueue = [row["id"] for row, o in zip(rows, outcomes, strict=True) if o is Outcome.STORED]
    if to_enqueue:
        try:
            await enqueue(to_enqueue)
        except Exception:
            # Stored but not enqueued: the relay will enqueue them; the provider retries meanwhile.
            return [Outcome.UNAVAILABLE if o is Outcome.STORED else o for o in outcomes]
    return outcomes


def _rows(items: Sequence[Accepted]) -> list[dict[str, Any]]:
    return [_row(i, item) for i, item in zip(new_ids("evt", len(items)), items, strict=True)]


def _row(event_id: str, item: Accepted) -> dict[str, Any]:
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
        "payload": event.payload,
    }


def _outcome(event_id: str, with_channel: set[str], stored: dict[str, str]) -> Outcome:
    if event_id not in with_channel:
        return Outcome.GONE
    status = stored.get(event_id)
    if status is None:
        return Outcome.DUPLICATE
    return Outcome.STORED if status == "pending" else Outcome.IGNORED


_POSTGRES_BATCH = """
WITH incoming AS (
    SELECT r.*, c.enabled
    FROM jsonb_to_recordset(%s::jsonb) AS r(
        id text, instance_id text, channel_id text, provider text, type text,
        dedup_key text, received_at timestamptz, occurred_at timestamptz, payload jsonb)
    JOIN channels AS c ON c.id = r.channel_id
), inserted AS (
    INSERT INTO events (id, instance_id, channel_id, provider, type, dedup_key, received_at,
                        occurred_at, status, attempts, payload, enqueued_at)
    SELECT id, instance_id, channel_id, provider, type, dedup_key, received_at, occurred_at,
           CASE WHEN enabled THEN 'pending' ELSE 'ignored' END, 0, payload,
           CASE WHEN enabled THEN now() END
    FROM incoming
    ON CONFLICT (provider, channel_id, dedup_key) DO NOTHING
    RETURNING id, status
)
SELECT incoming.id, inserted.status FROM incoming LEFT JOIN inserted USING (id)
"""


def _json(rows: list[dict[str, Any]]) -> str:
    """The batch as one JSON text that jsonb accepts: one odd payload must not fail the batch."""
    try:
        text = orjson.dumps(rows).decode()  # datetimes become RFC 3339 strings
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates and integers beyond 64 bits; json takes both.
        return json.dumps(storable(rows), default=datetime.isoformat)
    if "\\u0000" in text:  # one search of the text, rather than a walk of every payload
        return orjson.dumps(storable(rows)).decode()
    return text


def _write_generic(conn: Connection, rows: list[dict[str, Any]]) -> Written:
    enabled = _enabled(conn, {row["channel_id"] for row in rows})
    now = utcnow()
    values = [
        {
            **row,
            "status": "pending" if enabled[row["channel_id"]] else "ignored",
            "attempts": 0,
            "enqueued_at": now if enabled[row["channel_id"]] else None,
        }
        for row in rows
        if row["channel_id"] in enabled
    ]
    if not values:
        return set(), {}
    inserted = set(conn.execute(_insert_ignoring_duplicates(), values).scalars())
    # The insert holds SQLite's write lock, so no deletion commits before this transaction
    # does; a channel deleted since the read above must not keep the events just stored for it
    # (events have no foreign key: shared.event_deletion).
    gone = enabled.keys() - _enabled(conn, set(enabled)).keys()
    if gone:
        conn.execute(
            delete(events_table).where(
                events_table.c.id.in_(inserted), events_table.c.channel_id.in_(gone)
            )
        )
        values = [v for v in values if v["channel_id"] not in gone]
    with_channel = {v["id"] for v in values}
    return with_channel, {v["id"]: v["status"] for v in values if v["id"] in inserted}


def _enabled(conn: Connection, channel_ids: Iterable[str]) -> dict[str, bool]:
    """channel id → enabled, for those of `channel_ids` that exist."""
    query = select(channels_table.c.id, channels_table.c.enabled).where(
        channels_table.c.id.in_(channel_ids)
    )
    return {r[0]: bool(r[1]) for r in conn.execute(query)}


def _insert_ignoring_duplicates() -> Insert:
    statement = sqlite.insert(events_table).on_conflict_do_nothing(
        index_elements=["provider", "channel_id", "dedup_key"]
    )
    returning: Insert = statement.returning(events_table.c.id)
    return returning
