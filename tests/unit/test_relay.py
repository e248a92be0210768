"""The relay: what it re-enqueues, and what it gives back when the broker refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shared import db
from shared.models import Event, utcnow
from tests.unit.rows import add_in_order, instance, slack_channel, slack_event
from workers import relay
from workers.actors import process_events

LEASE = timedelta(seconds=60)


def _seed(enqueued: dict[str, timedelta | None], status: str = "pending") -> None:
    """Events by id, enqueued that long ago (None: never)."""
    now = utcnow()
    events = [
        slack_event(
            event_id,
            "ch_1",
            now - timedelta(seconds=300 - n),
            occurred_at=now,
            status=status,
            enqueued_at=None if ago is None else now - ago,
        )
        for n, (event_id, ago) in enumerate(enqueued.items())
    ]
    with db.session_scope() as session:
        add_in_order(session, [instance()], [slack_channel("ch_1", status="connected")], events)


def _leased() -> dict[str, bool]:
    with db.session_scope() as session:
        return {e.id: e.enqueued_at is not None for e in session.scalars(select(Event))}


@pytest.fixture
def sent(database: None, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    assert database is None
    messages: list[list[str]] = []
    monkeypatch.setattr(process_events, "send", messages.append)
    return messages


def test_only_events_past_their_lease_are_enqueued_again(sent: list[list[str]]) -> None:
    _seed({"ev_never": None, "ev_old": 2 * LEASE, "ev_fresh": LEASE / 2})
    assert relay.relay_once() == 2
    assert sent == [["ev_never", "ev_old"]]
    assert relay.relay_once() == 0, "relayed events have a new lease"


def test_processed_events_are_left_alone(sent: list[list[str]]) -> None:
    _seed({"ev_done": None}, status="processed")
    assert relay.relay_once() == 0
    assert sent == []


def test_a_broker_failure_gives_the_unsent_leases_back(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database is None
    _seed({"ev_1": None, "ev_2": None, "ev_3": None})
    sent: list[list[str]] = []

    def send(ids: list[str]) -> None:
        if sent:
            raise ConnectionError("the broker is down")
        sent.append(ids)

    monkeypatch.setattr(relay, "MESSAGE_SIZE", 1)
    monkeypatch.setattr(process_events, "send", send)
    with pytest.raises(ConnectionError):
        relay.relay_once()
    assert sent == [["ev_1"]]
    assert _leased() == {"ev_1": True, "ev_2": False, "ev_3": False}


def test_a_backlog_larger_than_a_batch_is_relayed_in_one_tick(
    sent: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    backlog = [f"ev_{n}" for n in range(7)]
    _seed(dict.fromkeys(backlog))
    monkeypatch.setattr(relay, "BATCH", 3)
    monkeypatch.setattr(relay, "MESSAGE_SIZE", 2)
    assert relay.relay_once() == 7
    assert [event_id for message in sent for event_id in message] == backlog, "each once, in order"
    assert relay.relay_once() == 0


def test_a_tick_stops_taking_batches_when_its_time_is_up(
    sent: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(dict.fromkeys(f"ev_{n}" for n in range(5)))
    monkeypatch.setattr(relay, "BATCH", 2)
    monkeypatch.setattr(relay, "TICK_BUDGET_SECONDS", 0)
    assert relay.relay_once() == 2, "one batch, then the budget is spent"
    assert relay.relay_once() == 2
    assert relay.relay_once() == 1
    assert sent == [["ev_0", "ev_1"], ["ev_2", "ev_3"], ["ev_4"]]
