"""`POST …/channels/{channel}/connect`: validate credentials now, store them encrypted.

`{channel}` is a channel id, or a channel type the instance has at most one of (created here
when missing). The provider's connector (receiver.api.connectors) validates the credentials.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from receiver.api.channels import find_channel, new_channel, record
from receiver.api.connectors import CONNECTORS, Connected
from receiver.api.credentials import (
    ISSUED_SECRETS,
    carried_over,
    parse_credentials,
    provider_problems,
    store_checked,
)
from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance
from receiver.api.problems import ProblemError
from receiver.api.responses import ConnectAnswer, ReconnectAnswer
from receiver.api.schemas import ConnectIn, ConnectionSettings
from receiver.api.serialize import channel_out
from shared.channel_types import CHANNEL_TYPES
from shared.crypto import decrypt_json
from shared.ids import new_id
from shared.models import Channel, Connection, utcnow
from shared.providers.errors import FinalError
from shared.webhook_tokens import rotated
from workers.actors import configure_webhook, request_sync
from workers.sync import show_refused
from workers.webhook_setup import CONFIGURERS


def resolve_channel(call: Call[Any, Any], ref: str, *, create: bool = True) -> Channel:
    if ref not in CHANNEL_TYPES:
        return find_channel(call, ref)
    get_instance(call, call.instance_id)
    query = select(Channel).where(
        Channel.instance_id == call.instance_id, Channel.channel_type == ref
    )
    matches = list(call.session.scalars(query.limit(2)))
    if len(matches) > 1:
        raise ProblemError(
            409, "AMBIGUOUS_CHANNEL", f"The instance has several {ref} channels; use an id"
        )
    if matches:
        return matches[0]
    if not create:
        raise ProblemError(404, "CHANNEL_NOT_FOUND", f"The instance has no {ref} channel")
    return new_channel(call, ref)


def connect(call: Call[ConnectIn]) -> dict[str, Any]:
    channel = _enabled(resolve_channel(call, call.path["channel"]))
    credentials = parse_credentials(channel.provider, call.body.config)
    with provider_problems():
        connected = CONNECTORS[channel.provider](credentials, call.settings, channel)
    answer = _link(call, channel, connected, "channel.connect")
    return {**answer, "status": channel.status, "message": connected.message}


def reconnect(call: Call[NoBody]) -> dict[str, Any]:
    """Check the stored credentials again now and point the provider here again.

    Refused credentials are an answer, not an error: `success` is false, and the connection
    and its channels show why.
    """
    channel = _enabled(resolve_channel(call, call.path["channel"], create=False))
    connection = (
        call.session.get(Connection, channel.connection_id) if channel.connection_id else None
    )
    if connection is None:
        raise ProblemError(409, "NOT_CONNECTED", "Connect the channel before reconnecting it")
    stored = decrypt_json(call.settings.secret, connection.credentials_encrypted)
    users = {k: v for k, v in stored.items() if k not in ISSUED_SECRETS}
    credentials = parse_credentials(channel.provider, users)
    with provider_problems():
        try:
            connected = CONNECTORS[channel.provider](credentials, call.settings, channel)
        except FinalError as exc:
            show_refused(call.session, connection, exc, utcnow())
            record(call, "channel.reconnect", channel, refused=exc.code)
            out = channel_out(channel, call.settings)
            return {"success": False, "channel": out, "connected": False, "error": exc.as_dict()}
    answer = _link(call, channel, connected, "channel.reconnect")
    connected_now = channel.status == "connected"
    return {**answer, "success": True, "connected": connected_now, "message": connected.message}


def _enabled(channel: Channel) -> Channel:
    if not channel.enabled:
        raise ProblemError(409, "CHANNEL_DISABLED", "Enable the channel before connecting it")
    return channel


def _link(
    call: Call[Any, Any], channel: Channel, connected: Connected, action: str
) -> dict[str, Any]:
    """Store what the provider confirmed, then point it here and sync, once committed."""
    connection = _store_connection(call, channel, connected)
    now = utcnow()
    channel.connection_id = connection.id
    if connected.identifier_is_authoritative or not channel.external_identifier:
        channel.external_identifier = connected.external_identifier
    channel.status, channel.error_message, channel.status_changed_at = connected.status, None, now
    if connected.qr is not None:
        channel.qr = {**asdict(connected.qr), "received_at": now.isoformat()}
    record(call, action, channel, connection_id=connection.id, provider=channel.provider)
    call.session.flush()
    if channel.provider in CONFIGURERS:
        channel_id = channel.id
        call.after_commit.append(lambda: configure_webhook.send(channel_id))
    connection_id = connection.id
    call.after_commit.append(lambda: request_sync(connection_id))  # list its remote channels
    answer: dict[str, Any] = {"channel": channel_out(channel, call.settings)}
    if connected.qr is not None:
        answer.update(asdict(connected.qr))
    return answer


def _store_connection(call: Call[Any, Any], channel: Channel, connected: Connected) -> Connection:
    connection = (
        call.session.get(Connection, channel.connection_id) if channel.connection_id else None
    )
    if connection is None:
        connection = Connection(
            id=new_id("conn"),
            instance_id=channel.instance_id,
            platform=channel.provider,
            settings=ConnectionSettings().model_dump(),
        )
        call.session.add(connection)
    credentials = _carried_over(call, connection, channel, connected.credentials)
    store_checked(call, connection, credentials, connected.account)
    call.session.flush()
    return connection


def _carried_over(
    call: Call[Any, Any], connection: Connection, channel: Channel, credentials: dict[str, Any]
) -> dict[str, Any]:
    """New credentials, plus the webhook secrets a provider may still be sending."""
    previous = (
        decrypt_json(call.settings.secret, connection.credentials_encrypted)
        if connection.credentials_encrypted
        else {}
    )
    credentials = carried_over(previous, credentials)
    if channel.provider == "whapi":
        # Each connect rotates the Whapi token; the old one is accepted until Whapi has the new.
        credentials = rotated(call.settings.secret, channel.id, credentials)
    return credentials


ONE = "/v1/instances/{instance_id}/channels/{channel}"
routes = [
    ApiRoute(
        ONE + "/connect",
        "POST",
        connect,
        scope="channels:write",
        body=ConnectIn,
        response=ConnectAnswer,
    ),
    ApiRoute(
        ONE + "/reconnect", "POST", reconnect, scope="channels:write", response=ReconnectAnswer
    ),
]
