"""A batch writes each channel once, and ends where processing its events one by one would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, select

from shared import db
from shared.models import Channel, Connection, Event, Instance
from tests.unit.rows import INSTANCE_ID, add_in_order, instance, slack_channel, slack_event
from workers import processing

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CHANNELS = ("ch_a", "ch_b", "ch_c")
# (provider, type, payload): a slice of contract §6 with every kind of effect in it.
KINDS: list[tuple[str, str, dict[str, Any]]] = [
    ("slack", "slack.event_callback.message", {"event": {"type": "message"}}),
    ("slack", "slack.event_callback.app_uninstalled", {"event": {"type": "app_uninstalled"}}),
    ("slack", "slack.app_rate_limited", {"type": "app_rate_limited"}),
    ("whapi", "whapi.channel.post", {"health": {"status": {"text": "AUTH"}}}),
    ("whapi", "whapi.channel.post", {"health": {"status": {"text": "ERROR"}}}),
    ("whapi", "whapi.channel.patch", {"qr": "2@code"}),
    ("whapi", "whapi.users.delete", {}),
    ("twilio", "twilio.message.failed", {"MessageStatus": "failed", "ErrorCode": "30003"}),
    ("discord", "discord.event.APPLICATION_AUTHORIZED", {}),
    ("telegram", "telegram.message", {"message": {"text": "hi"}}),
]
STATUSES = ("pending", "connecting", "connected", "disconnected", "error")

events_strategy = st.lists(
    st.tuples(
        st.sampled_from(CHANNELS),
        st.integers(0, len(KINDS) - 1),
        st.integers(0, 5),  # seconds after T0: ties are common
    ),
    min_size=1,
    max_size=25,
)
start_strategy = st.tuples(st.sampled_from(STATUSES), st.none() | st.integers(0, 5))


def _reset(start: tuple[str, int | None], events: list[tuple[str, int, int]]) -> list[str]:
    """Fresh channels in the `start` state, and `events` stored pending; returns their ids."""
    status, changed = start
    ids = [f"evt_{n:03d}" for n in range(len(events))]
    connection = Connection(
        id="conn_1", instance_id=INSTANCE_ID, platform="slack", name="x", credentials_encrypted=""
    )
    channels = [
        slack_channel(
            channel_id,
            connection_id="conn_1",
            status=status,
            status_changed_at=None if changed is None else T0 + timedelta(seconds=changed),
        )
        for channel_id in CHANNELS
    ]
    stored = [
        slack_event(
            event_id,
            channel_id,
            T0,
            provider=KINDS[kind][0],
            type=KINDS[kind][1],
            payload=KINDS[kind][2],
            occurred_at=T0 + timedelta(seconds=second),
        )
        for event_id, (channel_id, kind, second) in zip(ids, events, strict=True)
    ]
    with db.session_scope() as session:
        for model in (Event, Channel, Connection, Instance):
            session.execute(delete(model))
        add_in_order(session, [instance()], [connection], channels, stored)
    return ids


def _state() -> dict[str, Any]:
    with db.session_scope() as session:
        channels = {
            c.id: (
                c.status,
                c.error_message,
                c.last_event_at,
                c.status_changed_at,
                c.last_alive_at,
                c.note_at,
                c.qr,
            )
            for c in session.scalars(select(Channel))
        }
        connection = session.get(Connection, "conn_1")
        assert connection is not None
        events = {e.id: (e.status, e.attempts) for e in session.scalars(select(Event))}
        return {"channels": channels, "connection": (connection.status, connection.error), **events}


@contextmanager
def _channel_writes() -> Iterator[list[int]]:
    """Counts channel rows written by UPDATE statements (executemany parameter sets)."""
    writes: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if statement.startswith("UPDATE channels"):
            writes.append(len(params) if many else 1)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.usefixtures("database")
def test_one_batch_writes_a_busy_channel_once() -> None:
    ids = _reset(("pending", None), [("ch_a", 0, second % 6) for second in range(50)])
    with _channel_writes() as writes:
        assert processing.process_events(ids) == 50
    assert sum(writes) == 1
    channel = _state()["channels"]["ch_a"]
    assert channel[0] == "connected" and channel[2] == T0 + timedelta(seconds=5)


@pytest.mark.usefixtures("database")
@settings(
    max_examples=60,
    deadline=None,
    # Each example resets the tables itself; the fixture only provides the database.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(start=start_strategy, events=events_strategy)
def test_a_batch_ends_where_one_by_one_processing_does(
    start: tuple[str, int | None], events: list[tuple[str, int, int]]
) -> None:
    ids = _reset(start, events)
    in_order = sorted(range(len(events)), key=lambda n: (events[n][2], ids[n]))
    for n in in_order:
        assert processing.process_events([ids[n]]) == 1
    one_by_one = _state()

    _reset(start, events)
    with _channel_writes() as writes:
        assert processing.process_events(ids) == len(events)
    assert _state() == one_by_one
    assert sum(writes) <= len({channel for channel, _, _ in events})


@pytest.mark.usefixtures("database")
def test_a_disabled_channels_events_are_ignored_and_change_nothing() -> None:
    ids = _reset(("pending", None), [("ch_a", 0, 1), ("ch_b", 0, 1)])
    with db.session_scope() as session:
        channel = session.get(Channel, "ch_b")
        assert channel is not None
        channel.enabled = False
    before = _state()["channels"]["ch_b"]
    assert processing.process_events(ids) == 2
    after = _state()
    assert after["evt_000"] == ("processed", 1) and after["evt_001"] == ("ignored", 1)
    assert after["channels"]["ch_b"] == before
    assert after["channels"]["ch_a"][0] == "connected"
