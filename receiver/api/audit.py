"""`/v1/instances/{iid}/audit`: who changed what in an instance, oldest first (`?action=`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.instances import get_instance
from receiver.api.pages import one_page
from receiver.api.serialize import audit_out
from shared.models import AuditEntry


def list_(call: Call[NoBody]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(AuditEntry).where(AuditEntry.instance_id == call.instance_id)
    if action := call.query.get("action"):
        query = query.where(AuditEntry.action == action)
    page, next_cursor = one_page(call.session, query, AuditEntry.id, call.query)
    return {"entries": [audit_out(a) for a in page], "count": len(page), "next_cursor": next_cursor}


routes = [Route("/v1/instances/{instance_id}/audit", endpoint(list_, scope=None), methods=["GET"])]
