"""`/v1/instances/{instance_id}/channels`: create, list, read, update, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import listing
from receiver.api.problems import ProblemError
from receiver.api.responses import ChannelList, ChannelOut
from receiver.api.schemas import ChannelFilters, ChannelIn, ChannelPatch
from receiver.api.serialize import channel_out
from shared.channel_types import PROVIDER_OF_TYPE
from shared.event_deletion import delete_channel_events
from shared.ids import new_id
from shared.models import Channel, utcnow


def find_channel(call: Call[Any, Any], channel_id: str) -> Channel:
    return in_instance(call, Channel, channel_id, "CHANNEL_NOT_FOUND", "channel")


def record(call: Call[Any, Any], action: str, channel: Channel, **details: Any) -> None:
    call.audit(action, "channel", channel.id, channel.instance_id, **details)


def new_channel(call: Call[Any, Any], channel_type: str, **fields: Any) -> Channel:
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


def list_(call: Call[NoBody, ChannelFilters]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(Channel).where(Channel.instance_id == call.instance_id)
    filters = call.params
    if filters.status is not None:
        query = query.where(Channel.status == filters.status)
    if filters.channel_type is not None:
        query = query.where(Channel.channel_type == filters.channel_type)
    if filters.provider is not None:
        query = query.where(Channel.provider == filters.provider)
    return listing(
        call.session,
        query,
        Channel.id,
        filters,
        "channels",
        lambda c: channel_out(c, call.settings),
    )


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
    delete_channel_events(call.session, channel.id)
    call.session.delete(channel)
    return Response(status_code=204)


BASE = "/v1/instances/{instance_id}/channels"
ONE = BASE + "/{channel_id}"
routes = [
    ApiRoute(
        BASE,
        "POST",
        create,
        scope="channels:write",
        body=ChannelIn,
        response=ChannelOut,
        status=201,
    ),
    ApiRoute(BASE, "GET", list_, scope="channels:read", query=ChannelFilters, response=ChannelList),
    ApiRoute(ONE, "GET", read, scope="channels:read", response=ChannelOut),
    ApiRoute(ONE, "PATCH", update, scope="channels:write", body=ChannelPatch, response=ChannelOut),
    ApiRoute(ONE, "DELETE", delete, scope="channels:write", response=None),
]
