"""Worker processing on a real (SQLite) database: idempotent, and one bad event stays alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared import db
from shared.models import Channel, Event
from tests.unit.rows import add_in_order, instance, slack_channel, slack_event
from workers import processing
from workers.effects import ALIVE, Effect


def _seed(event_types: list[str]) -> list[str]:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [f"evt_{n}" for n in range(len(event_types))]
    events = [
        slack_event(event_id, "ch_1", when, type=kind, payload={})
        for event_id, kind in zip(ids, event_types, strict=True)
    ]
    with db.session_scope() as session:
        add_in_order(session, [instance()], [slack_channel("ch_1")], events)
    return ids


def _statuses() -> dict[str, tuple[str, int, str | None]]:
    with db.session_scope() as session:
        return {e.id: (e.status, e.attempts, e.error) for e in session.query(Event)}


@pytest.mark.usefixtures("database")
def test_processing_twice_has_the_effect_of_once() -> None:
    ids = _seed(["slack.event_callback.message"] * 3)
    assert processing.process_events(ids) == 3
    assert processing.process_events(ids) == 0
    assert {s[:2] for s in _statuses().values()} == {("processed", 1)}


@pytest.mark.usefixtures("database")
def test_an_event_whose_effect_fails_does_not_hold_back_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def effect_of(event_type: str, _payload: dict[str, Any]) -> Effect:
        if event_type == "slack.poison":
            raise ValueError("unexpected payload")
        return ALIVE

    monkeypatch.setitem(processing.EFFECTS, "slack", effect_of)
    ids = _seed(["slack.event_callback.message", "slack.poison", "slack.event_callback.message"])
    assert processing.process_events(ids) == 3
    statuses = _statuses()
    assert statuses["evt_1"][0] == "failed" and "ValueError" in (statuses["evt_1"][2] or "")
    assert statuses["evt_0"][0] == statuses["evt_2"][0] == "processed"
    with db.session_scope() as session:
        assert session.get(Channel, "ch_1").status == "connected"  # type: ignore[union-attr]
