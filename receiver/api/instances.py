"""`/v1/instances`: tenants. Org-wide tokens create and delete; any token reads its own."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from starlette.responses import Response

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.pages import listing
from receiver.api.problems import ProblemError
from receiver.api.responses import InstanceList, InstanceOut
from receiver.api.schemas import InstanceFilters, InstanceIn
from receiver.api.serialize import instance_out
from shared.event_deletion import delete_instance_events
from shared.ids import new_id
from shared.models import Instance


class InInstance(Protocol):
    @property
    def instance_id(self) -> str | None: ...


Owned = TypeVar("Owned", bound=InInstance)


def in_instance(
    call: Call[Any, Any], model: type[Owned], object_id: str, code: str, what: str
) -> Owned:
    """The `model` row `object_id` of the call's instance; 404 `code` for any other (another
    instance's rows are as invisible as missing ones)."""
    found = call.session.get(model, object_id)
    if found is None or found.instance_id != call.instance_id:
        raise ProblemError(404, code, f"No such {what} in this instance")
    return found


def get_instance(call: Call[Any, Any], instance_id: str) -> Instance:
    instance = call.session.get(Instance, instance_id)
    if instance is None:
        raise ProblemError(404, "INSTANCE_NOT_FOUND", "No such instance")
    return instance


def create(call: Call[InstanceIn]) -> dict[str, Any]:
    instance = Instance(id=new_id("inst"), name=call.body.name)
    call.session.add(instance)
    call.session.flush()
    call.audit("instance.create", "instance", instance.id, instance.id, name=instance.name)
    return instance_out(instance)


def list_(call: Call[NoBody, InstanceFilters]) -> dict[str, Any]:
    """Every instance for an org-wide token; a scoped token sees its own."""
    query = select(Instance)
    if call.params.name is not None:
        query = query.where(Instance.name == call.params.name)
    if not call.principal.is_org_wide:
        query = query.where(Instance.id == call.principal.instance_id)
    return listing(call.session, query, Instance.id, call.params, "instances", instance_out)


def read(call: Call[NoBody]) -> dict[str, Any]:
    return instance_out(get_instance(call, call.instance_id))


def delete(call: Call[NoBody]) -> Response:
    instance = get_instance(call, call.instance_id)
    delete_instance_events(call.session, instance.id)
    call.session.delete(instance)  # channels, connections and tokens cascade
    call.audit("instance.delete", "instance", instance.id, instance.id)
    return Response(status_code=204)


BASE = "/v1/instances"
routes = [
    ApiRoute(
        BASE,
        "POST",
        create,
        scope=None,
        org_only=True,
        body=InstanceIn,
        response=InstanceOut,
        status=201,
    ),
    ApiRoute(BASE, "GET", list_, scope=None, query=InstanceFilters, response=InstanceList),
    ApiRoute(BASE + "/{instance_id}", "GET", read, scope=None, response=InstanceOut),
    ApiRoute(BASE + "/{instance_id}", "DELETE", delete, scope=None, org_only=True, response=None),
]
