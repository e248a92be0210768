"""`/v1/instances/{iid}/events`: the accepted webhooks, inspected and replayed.

A replay puts the event back to `pending` and enqueues it: processing is idempotent and status
changes are ordered by each event's own time, so replaying an old event never rolls a channel
back. Replaying closes the event's open dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import one_page
from receiver.api.problems import ProblemError
from receiver.api.serialize import event_out
from shared.models import Event
from workers.dead_letters import replay_event

EVENT_STATUSES = ("pending", "processed", "failed", "ignored")


def list_(call: Call[NoBody]) -> dict[str, Any]:
    """Oldest first, so `since` and the cursor read the stream forward; payloads omitted."""
    get_instance(call, call.instance_id)
    query = select(Event).where(Event.instance_id == call.instance_id)
    if channel_id := call.query.get("channel_id"):
        query = query.where(Event.channel_id == channel_id)
    if type_ := call.query.get("type"):
        query = query.where(Event.type == type_)
    if (status := call.query.get("status")) is not None:
        if status not in EVENT_STATUSES:
            raise ProblemError(
                422, "VALIDATION_ERROR", f"status must be one of {', '.join(EVENT_STATUSES)}"
            )
        query = query.where(Event.status == status)
    if (since := call.query.get("since")) is not None:
        query = query.where(Event.received_at >= _instant(since))
    page, next_cursor = one_page(call.session, query, Event.id, call.query)
    return {"events": [event_out(e) for e in page], "count": len(page), "next_cursor": next_cursor}


def _instant(raw: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ProblemError(
            422, "VALIDATION_ERROR", "since must be an ISO 8601 time, e.g. 2026-11-21T08:00:00Z"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _find(call: Call[Any]) -> Event:
    return in_instance(call, Event, call.path["event_id"], "EVENT_NOT_FOUND", "event")


def read(call: Call[NoBody]) -> dict[str, Any]:
    return event_out(_find(call), with_payload=True)


def replay(call: Call[NoBody]) -> dict[str, Any]:
    event = _find(call)
    call.after_commit.append(replay_event(call.session, event))
    call.audit("event.replay", "event", event.id, call.instance_id)
    return event_out(event)


BASE = "/v1/instances/{instance_id}/events"
routes = [
    Route(BASE, endpoint(list_, scope="events:read"), methods=["GET"]),
    Route(f"{BASE}/{{event_id}}", endpoint(read, scope="events:read"), methods=["GET"]),
    Route(
        f"{BASE}/{{event_id}}/replay",
        endpoint(replay, scope="events:write", status=202),
        methods=["POST"],
    ),
]
