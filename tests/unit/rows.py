"""Rows for unit tests that seed the database: one instance, Slack channels and their events.

Each factory fills in what the tests share, so a test spells out only the fields it is about.
The models have no ORM relationships, so `add_in_order` flushes between parents and children.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shared.models import Base, Channel, Event, Instance

INSTANCE_ID = "inst_1"
MESSAGE_EVENT = "slack.event_callback.message"


def instance(**fields: Any) -> Instance:
    return Instance(**{"id": INSTANCE_ID, "name": "x", **fields})


def slack_channel(channel_id: str, **fields: Any) -> Channel:
    return Channel(
        **{
            "id": channel_id,
            "instance_id": INSTANCE_ID,
            "channel_type": "slack",
            "provider": "slack",
            **fields,
        }
    )


def slack_event(event_id: str, channel_id: str, at: datetime, **fields: Any) -> Event:
    """A pending Slack message event received and occurred `at`; its dedup key is its id."""
    return Event(
        **{
            "id": event_id,
            "instance_id": INSTANCE_ID,
            "channel_id": channel_id,
            "provider": "slack",
            "type": MESSAGE_EVENT,
            "dedup_key": event_id,
            "received_at": at,
            "occurred_at": at,
            "payload": {"event": {"type": "message"}},
            **fields,
        }
    )


def add_in_order(session: Session, *groups: Iterable[Base]) -> None:
    """Add each group of rows after the one before it is flushed (parents before children)."""
    for rows in groups:
        session.add_all(rows)
        session.flush()
