"""`/v1/instances/{iid}/dead-letters`: background work that failed for good, and redrives.

Listing needs `events:read`. A redrive needs the write scope of what it redoes: a sync
`connections:write`, a webhook setup `channels:write`, an event `events:write`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import listing
from receiver.api.problems import ProblemError
from receiver.api.responses import DeadLetterList, DeadLetterOut
from receiver.api.schemas import DeadLetterFilters
from receiver.api.serialize import dead_letter_out
from shared.models import DeadLetter
from workers.dead_letters import redrive

WRITE_SCOPE = {"sync": "connections:write", "webhook_setup": "channels:write"}


def list_(call: Call[NoBody, DeadLetterFilters]) -> dict[str, Any]:
    """Open letters by default (`?status=dead`); `?status=redriven` shows the closed ones."""
    get_instance(call, call.instance_id)
    filters = call.params
    query = select(DeadLetter).where(
        DeadLetter.instance_id == call.instance_id, DeadLetter.status == filters.status
    )
    if filters.kind is not None:
        query = query.where(DeadLetter.kind == filters.kind)
    return listing(call.session, query, DeadLetter.id, filters, "dead_letters", dead_letter_out)


def _find(call: Call[Any, Any]) -> DeadLetter:
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
ONE = BASE + "/{dead_letter_id}"
routes = [
    ApiRoute(
        BASE, "GET", list_, scope="events:read", query=DeadLetterFilters, response=DeadLetterList
    ),
    ApiRoute(ONE, "GET", read, scope="events:read", response=DeadLetterOut),
    # The scope depends on the letter's kind: checked by the handler (WRITE_SCOPE).
    ApiRoute(ONE + "/redrive", "POST", redrive_one, scope=None, response=DeadLetterOut, status=202),
]
