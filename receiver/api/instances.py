"""`/v1/instances`: tenants. Org-wide tokens create and delete; any token reads its own."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.problems import ProblemError
from receiver.api.schemas import InstanceIn
from receiver.api.serialize import instance_out
from shared.ids import new_id
from shared.models import Instance


class InInstance(Protocol):
    @property
    def instance_id(self) -> str | None: ...


Owned = TypeVar("Owned", bound=InInstance)


def in_instance(call: Call[Any], model: type[Owned], object_id: str, code: str, what: str) -> Owned:
    """The `model` row `object_id` of the call's instance; 404 `code` for any other (another
    instance's rows are as invisible as missing ones)."""
    found = call.session.get(model, object_id)
    if found is None or found.instance_id != call.instance_id:
        raise ProblemError(404, code, f"No such {what} in this instance")
    return found


def get_instance(call: Call[Any], instance_id: str) -> Instance:
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


def list_(call: Call[NoBody]) -> dict[str, Any]:
    query = select(Instance).order_by(Instance.id)
    if not call.principal.is_org_wide:
        query = query.where(Instance.id == call.principal.instance_id)
    instances = [instance_out(i) for i in call.session.scalars(query)]
    return {"instances": instances, "count": len(instances)}


def read(call: Call[NoBody]) -> dict[str, Any]:
    return instance_out(get_instance(call, call.instance_id))


def delete(call: Call[NoBody]) -> Response:
    instance = get_instance(call, call.instance_id)
    call.session.delete(instance)
    call.audit("instance.delete", "instance", instance.id, instance.id)
    return Response(status_code=204)


routes = [
    Route(
        "/v1/instances",
        endpoint(create, scope=None, body=InstanceIn, status=201, org_only=True),
        methods=["POST"],
    ),
    Route("/v1/instances", endpoint(list_, scope=None), methods=["GET"]),
    Route("/v1/instances/{instance_id}", endpoint(read, scope=None), methods=["GET"]),
    Route(
        "/v1/instances/{instance_id}",
        endpoint(delete, scope=None, org_only=True),
        methods=["DELETE"],
    ),
]
