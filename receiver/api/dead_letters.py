"""`/v1/instances/{iid}/dead-letters`: background work that failed for good, and redrives.

Listing needs `events:read`. A redrive needs the write scope of what it redoes: a sync
`connections:write`, a webhook setup `channels:write`, an event `events:write`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import one_page
from receiver.api.problems import ProblemError
from receiver.api.serialize import dead_letter_out
from shared.models import DeadLetter
from workers.dead_letters import redrive

KINDS = ("sync", "webhook_setup", "event")
STATUSES = ("dead", "redriven")
WRITE_SCOPE = {"sync": "connections:write", "webhook_setup": "channels:write"}


def list_(call: Call[NoBody]) -> dict[str, Any]:
    """Open letters by default (`?status=dead`); `?status=redriven` shows the closed ones."""
    get_instance(call, call.instance_id)
    status = call.query.get("status", "dead")
    kind = call.query.get("kind")
    if status not in STATUSES or (kind is not None and kind not in KINDS):
        raise ProblemError(
            422,
            "VALIDATION_ERROR",
            f"status must be one of {', '.join(STATUSES)}; kind one of {', '.join(KINDS)}",
        )
    query = select(DeadLetter).where(
        DeadLetter.instance_id == call.instance_id, DeadLetter.status == status
    )
    if kind is not None:
        query = query.where(DeadLetter.kind == kind)
    page, next_cursor = one_page(call.session, query, DeadLetter.id, call.query)
    return {
        "dead_letters": [dead_letter_out(d) for d in page],
        "count": len(page),
        "next_cursor": next_cursor,
    }


def _find(call: Call[Any]) -> DeadLetter:
    letter_id = call.path["dead_letter_id"]
    return in_instance(call, DeadLetter, letter_id, "DEAD_LETTER_NOT_FOUND", "dead letter")


def read(call: Call[NoBody]) -> dict[str, Any]:
    return dead_letter_out(_find(call))


def redrive_one(call: Call[NoBody]) -> dict[str, Any]:
    letter = _find(call)
    needed = WRITE_SCOPE.get(letter.kind, "events:write")
    if needed not in call.principal.scopes:
        raise ProblemError(403, "FORBIDDEN", f"The token lacks the {needed} scope")
    if letter.status != "dead":
        raise ProblemError(409, "ALREADY_REDRIVEN", "This dead letter was already redriven")
    follow_up = redrive(call.session, letter)
    if follow_up is not None:
        call.after_commit.append(follow_up)
    call.audit("dead_letter.redrive", letter.kind, letter.subject_id, call.instance_id)
    return dead_letter_out(letter)


BASE = "/v1/instances/{instance_id}/dead-letters"
routes = [
    Route(BASE, endpoint(list_, scope="events:read"), methods=["GET"]),
    Route(f"{BASE}/{{dead_letter_id}}", endpoint(read, scope="events:read"), methods=["GET"]),
    Route(
        f"{BASE}/{{dead_letter_id}}/redrive",
        endpoint(redrive_one, scope=None, status=202),
        methods=["POST"],
    ),
]
