"""`/v1/instances/{iid}/audit`: who changed what in an instance, oldest first (`?action=`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance
from receiver.api.pages import listing
from receiver.api.responses import AuditList
from receiver.api.schemas import AuditFilters
from receiver.api.serialize import audit_out
from shared.models import AuditEntry


def list_(call: Call[NoBody, AuditFilters]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(AuditEntry).where(AuditEntry.instance_id == call.instance_id)
    if call.params.action is not None:
        query = query.where(AuditEntry.action == call.params.action)
    return listing(call.session, query, AuditEntry.id, call.params, "entries", audit_out)


routes = [
    ApiRoute(
        "/v1/instances/{instance_id}/audit",
        "GET",
        list_,
        scope=None,
        query=AuditFilters,
        response=AuditList,
    )
]
