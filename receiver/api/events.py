"""`/v1/instances/{iid}/events`: the accepted webhooks, inspected and replayed.

A replay puts the event back to `pending` and enqueues it: processing is idempotent and status
changes are ordered by each event's own time, so replaying an old event never rolls a channel
back. Replaying closes the event's open dead letter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import listing
from receiver.api.responses import EventList, EventOut
from receiver.api.schemas import EventFilters
from receiver.api.serialize import event_out
from shared.models import Event
from workers.dead_letters import replay_event


def list_(call: Call[NoBody, EventFilters]) -> dict[str, Any]:
    """Oldest first, so `since` and the cursor read the stream forward; payloads omitted."""
    get_instance(call, call.instance_id)
    query = select(Event).where(Event.instance_id == call.instance_id)
    filters = call.params
    if filters.channel_id is not None:
        query = query.where(Event.channel_id == filters.channel_id)
    if filters.type is not None:
        query = query.where(Event.type == filters.type)
    if filters.status is not None:
        query = query.where(Event.status == filters.status)
    if filters.since is not None:
        query = query.where(Event.received_at >= filters.since)
    return listing(call.session, query, Event.id, filters, "events", event_out)


def _find(call: Call[Any, Any]) -> Event:
    return in_instance(call, Event, call.path["event_id"], "EVENT_NOT_FOUND", "event")


def read(call: Call[NoBody]) -> dict[str, Any]:
    return event_out(_find(call), with_payload=True)


def replay(call: Call[NoBody]) -> dict[str, Any]:
    event = _find(call)
    call.after_commit.append(replay_event(call.session, event))
    call.audit("event.replay", "event", event.id, call.instance_id)
    return event_out(event)


BASE = "/v1/instances/{instance_id}/events"
ONE = BASE + "/{event_id}"
routes = [
    ApiRoute(BASE, "GET", list_, scope="events:read", query=EventFilters, response=EventList),
    ApiRoute(ONE, "GET", read, scope="events:read", response=EventOut),
    ApiRoute(ONE + "/replay", "POST", replay, scope="events:write", response=EventOut, status=202),
]
