"""`/v1/instances/{instance_id}/channels`: create, list, read, update, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import one_page
from receiver.api.problems import ProblemError
from receiver.api.schemas import ChannelIn, ChannelPatch
from receiver.api.serialize import channel_out
from shared.channel_types import CHANNEL_TYPES, PROVIDER_OF_TYPE, PROVIDERS, STATUSES
from shared.ids import new_id
from shared.models import Channel, utcnow


def find_channel(call: Call[Any], channel_id: str) -> Channel:
    return in_instance(call, Channel, channel_id, "CHANNEL_NOT_FOUND", "channel")


def record(call: Call[Any], action: str, channel: Channel, **details: Any) -> None:
    call.audit(action, "channel", channel.id, channel.instance_id, **details)


def new_channel(call: Call[Any], channel_type: str, **fields: Any) -> Channel:
    channel = Channel(
        id=new_id("ch"),
        instance_id=call.instance_id,
        channel_type=channel_type,
        provider=PROVIDER_OF_TYPE[channel_type],
        status="pending",
        **fields,
    )
    call.session.add(channel)
    call.session.flush()
    record(call, "channel.create", channel, channel_type=channel_type)
    return channel


def create(call: Call[ChannelIn]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    body = call.body
    expected = PROVIDER_OF_TYPE[body.channel_type]
    if body.provider is not None and body.provider != expected:
        raise ProblemError(
            422, "INVALID_CHANNEL", f"{body.channel_type} channels use the {expected} provider"
        )
    channel = new_channel(
        call,
        body.channel_type,
        external_identifier=body.external_identifier,
        config=body.config,
        enabled=body.enabled,
    )
    if not body.enabled:
        channel.status = "disabled"
    return channel_out(channel, call.settings)


def list_(call: Call[NoBody]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(Channel).where(Channel.instance_id == call.instance_id)
    for name, column, allowed in (
        ("status", Channel.status, STATUSES),
        ("channel_type", Channel.channel_type, CHANNEL_TYPES),
        ("provider", Channel.provider, PROVIDERS),
    ):
        value = call.query.get(name)
        if value is not None:
            if value not in allowed:
                raise ProblemError(
                    422, "VALIDATION_ERROR", f"{name} must be one of {', '.join(allowed)}"
                )
            query = query.where(column == value)
    page, next_cursor = one_page(call.session, query, Channel.id, call.query)
    return {
        "channels": [channel_out(c, call.settings) for c in page],
        "count": len(page),
        "next_cursor": next_cursor,
    }


def read(call: Call[NoBody]) -> dict[str, Any]:
    return channel_out(find_channel(call, call.path["channel_id"]), call.settings)


def update(call: Call[ChannelPatch]) -> dict[str, Any]:
    channel = find_channel(call, call.path["channel_id"])
    changes = call.body.model_dump(exclude_unset=True)
    if "external_identifier" in changes:
        channel.external_identifier = call.body.external_identifier
    if call.body.config is not None:
        channel.config = call.body.config
    if call.body.enabled is not None and call.body.enabled != channel.enabled:
        channel.enabled = call.body.enabled
        # Re-enabled channels wait for their next event (or a reconnect) to prove them alive.
        channel.status = "pending" if channel.enabled else "disabled"
        channel.status_changed_at = utcnow()
    record(call, "channel.update", channel, fields=sorted(changes))
    return channel_out(channel, call.settings)


def delete(call: Call[NoBody]) -> Response:
    channel = find_channel(call, call.path["channel_id"])
    record(call, "channel.delete", channel)
    call.session.delete(channel)
    return Response(status_code=204)


BASE = "/v1/instances/{instance_id}/channels"
routes = [
    Route(
        BASE, endpoint(create, scope="channels:write", body=ChannelIn, status=201), methods=["POST"]
    ),
    Route(BASE, endpoint(list_, scope="channels:read"), methods=["GET"]),
    Route(BASE + "/{channel_id}", endpoint(read, scope="channels:read"), methods=["GET"]),
    Route(
        BASE + "/{channel_id}",
        endpoint(update, scope="channels:write", body=ChannelPatch),
        methods=["PATCH"],
    ),
    Route(BASE + "/{channel_id}", endpoint(delete, scope="channels:write"), methods=["DELETE"]),
]
