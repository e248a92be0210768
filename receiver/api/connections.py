"""`/v1/instances/{iid}/connections`: provider accounts, their sync state, and on-demand syncs.

Credentials are write-only: only their masked hints are ever shown. New credentials are checked
with the provider before anything is saved (shared.providers.accounts); a refusal is a 400.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from receiver.api.connectors import with_webhook_secret
from receiver.api.credentials import (
    carried_over,
    parse_credentials,
    provider_problems,
    store_checked,
)
from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance, in_instance
from receiver.api.pages import listing
from receiver.api.problems import ProblemError
from receiver.api.responses import (
    ConnectionList,
    ConnectionOut,
    RemoteChannelList,
    RemoteChannelPage,
    SyncQueued,
    Validation,
)
from receiver.api.schemas import (
    ChannelSelection,
    ConnectionFilters,
    ConnectionIn,
    ConnectionUpdate,
    RemoteChannelFilters,
)
from receiver.api.serialize import connection_out, remote_channel_out
from shared.crypto import decrypt_json
from shared.ids import new_id
from shared.models import Channel, Connection, RemoteChannel, utcnow
from shared.providers.accounts import CHECKS, Account
from shared.providers.errors import FinalError, ProviderError
from workers.actors import configure_webhook, request_sync
from workers.sync import show_accepted, show_refused
from workers.webhook_setup import CONFIGURERS


def find_connection(call: Call[Any, Any]) -> Connection:
    connection_id = call.path["connection_id"]
    return in_instance(call, Connection, connection_id, "CONNECTION_NOT_FOUND", "connection")


def list_(call: Call[NoBody, ConnectionFilters]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(Connection).where(Connection.instance_id == call.instance_id)
    if call.params.platform is not None:
        query = query.where(Connection.platform == call.params.platform)
    return listing(call.session, query, Connection.id, call.params, "connections", connection_out)


def read(call: Call[NoBody]) -> dict[str, Any]:
    return connection_out(find_connection(call))


def create(call: Call[ConnectionIn]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    platform = call.body.platform
    credentials = _checked(call, platform, call.body.credentials)
    connection = Connection(
        id=new_id("conn"),
        instance_id=call.instance_id,
        platform=platform,
        settings={**call.body.settings.model_dump(), "sync_all": True},
    )
    store_checked(call, connection, with_webhook_secret(platform, credentials[0]), credentials[1])
    connection.name = call.body.name or connection.name
    call.session.add(connection)
    call.session.flush()
    call.audit(
        "connection.create", "connection", connection.id, call.instance_id, platform=platform
    )
    connection_id = connection.id
    call.after_commit.append(lambda: request_sync(connection_id))  # list its remote channels
    return connection_out(connection)


def update(call: Call[ConnectionUpdate]) -> dict[str, Any]:
    """Replace the fields given. New credentials are checked first; the channels using the
    connection are then pointed at Switchboard again and a sync follows."""
    connection = find_connection(call)
    body = call.body
    if body.credentials is not None:
        credentials, account = _checked(call, connection.platform, body.credentials)
        previous = decrypt_json(call.settings.secret, connection.credentials_encrypted)
        store_checked(call, connection, carried_over(previous, credentials), account)
        _after_new_credentials(call, connection)
    if body.name is not None:
        connection.name = body.name
    if body.settings is not None:
        changes = body.settings.model_dump(exclude_none=True)
        connection.settings = {**(connection.settings or {}), **changes}
    call.audit(
        "connection.update",
        "connection",
        connection.id,
        call.instance_id,
        fields=sorted(body.model_fields_set),  # names only: never the credentials themselves
    )
    call.session.flush()
    return connection_out(connection)


def delete(call: Call[NoBody]) -> Response:
    connection = find_connection(call)
    query = select(Channel.id).where(Channel.connection_id == connection.id).order_by(Channel.id)
    in_use = list(call.session.scalars(query))
    if in_use:
        raise ProblemError(
            409,
            "CONNECTION_IN_USE",
            "Channels still use this connection; delete them or connect them elsewhere first",
            channel_ids=in_use,
        )
    call.audit("connection.delete", "connection", connection.id, call.instance_id)
    call.session.delete(connection)  # its remote channels go with it (ON DELETE CASCADE)
    return Response(status_code=204)


def validate(call: Call[NoBody]) -> dict[str, Any]:
    """Check the stored credentials now; the connection shows the verdict either way."""
    connection = find_connection(call)
    credentials = decrypt_json(call.settings.secret, connection.credentials_encrypted)
    now = utcnow()
    try:
        account = CHECKS[connection.platform](call.settings, credentials)
    except ProviderError as exc:
        if isinstance(exc, FinalError):
            show_refused(call.session, connection, exc, now)
        else:  # not the credentials' fault: shown, but the status stands
            connection.error = exc.as_dict()
        return {"valid": False, "error": exc.as_dict()}
    show_accepted(call.session, connection, now)
    connection.account = {**(connection.account or {}), **account.details}
    call.session.flush()
    return {"valid": True, "connection": connection_out(connection)}


def _checked(
    call: Call[Any, Any], platform: str, document: dict[str, Any]
) -> tuple[dict[str, Any], Account]:
    credentials = parse_credentials(platform, document, ("credentials",))
    plain = credentials.model_dump(exclude_none=True)
    with provider_problems():
        return plain, CHECKS[platform](call.settings, plain)


def _after_new_credentials(call: Call[Any, Any], connection: Connection) -> None:
    query = select(Channel.id).where(
        Channel.connection_id == connection.id, Channel.provider.in_(CONFIGURERS)
    )
    channel_ids = list(call.session.scalars(query))
    connection_id = connection.id

    def follow_up() -> None:
        for channel_id in channel_ids:
            configure_webhook.send(channel_id)
        request_sync(connection_id)

    call.after_commit.append(follow_up)


def remote_channels(call: Call[NoBody, RemoteChannelFilters]) -> dict[str, Any]:
    """What the last sync found, by the provider's id (which the cursor is)."""
    connection = find_connection(call)
    query = select(RemoteChannel).where(RemoteChannel.connection_id == connection.id)
    if call.params.sync_enabled is not None:
        query = query.where(RemoteChannel.sync_enabled == call.params.sync_enabled)
    return listing(
        call.session, query, RemoteChannel.remote_id, call.params, "channels", remote_channel_out
    )


def select_channels(call: Call[ChannelSelection]) -> dict[str, Any]:
    """Which remote channels to follow; syncs keep this choice for channels that stay."""
    connection = find_connection(call)
    chosen = set(call.body.channel_ids)
    query = select(RemoteChannel).where(RemoteChannel.connection_id == connection.id)
    remotes = list(call.session.scalars(query.order_by(RemoteChannel.remote_id)))
    unknown = chosen - {r.remote_id for r in remotes}
    if unknown:
        raise ProblemError(
            422,
            "VALIDATION_ERROR",
            f"Not channels of this connection: {', '.join(sorted(unknown))}",
        )
    for remote in remotes:
        remote.sync_enabled = call.body.sync_all or remote.remote_id in chosen
    # Channels a later sync finds are followed only if the user follows everything.
    connection.settings = {**(connection.settings or {}), "sync_all": call.body.sync_all}
    call.audit(
        "connection.channels",
        "connection",
        connection.id,
        call.instance_id,
        channel_ids=sorted(chosen),
        sync_all=call.body.sync_all,
    )
    return {"channels": [remote_channel_out(r) for r in remotes], "count": len(remotes)}  # all


def sync(call: Call[NoBody]) -> dict[str, Any]:
    connection_id = find_connection(call).id
    call.audit("connection.sync", "connection", connection_id, call.instance_id)
    # Enqueued after the commit; a sync already queued or running is not doubled.
    call.after_commit.append(lambda: request_sync(connection_id))
    return {"connection_id": connection_id, "status": "queued"}


BASE = "/v1/instances/{instance_id}/connections"
ONE = f"{BASE}/{{connection_id}}"
routes = [
    ApiRoute(
        BASE,
        "GET",
        list_,
        scope="connections:read",
        query=ConnectionFilters,
        response=ConnectionList,
    ),
    ApiRoute(
        BASE,
        "POST",
        create,
        scope="connections:write",
        body=ConnectionIn,
        response=ConnectionOut,
        status=201,
    ),
    ApiRoute(ONE, "GET", read, scope="connections:read", response=ConnectionOut),
    ApiRoute(
        ONE,
        "PUT",
        update,
        scope="connections:write",
        body=ConnectionUpdate,
        response=ConnectionOut,
    ),
    ApiRoute(ONE, "DELETE", delete, scope="connections:write", response=None),
    ApiRoute(ONE + "/validate", "POST", validate, scope="connections:write", response=Validation),
    ApiRoute(
        ONE + "/channels",
        "GET",
        remote_channels,
        scope="connections:read",
        query=RemoteChannelFilters,
        response=RemoteChannelPage,
    ),
    ApiRoute(
        ONE + "/channels",
        "PUT",
        select_channels,
        scope="connections:write",
        body=ChannelSelection,
        response=RemoteChannelList,
    ),
    ApiRoute(
        ONE + "/sync", "POST", sync, scope="connections:write", response=SyncQueued, status=202
    ),
]
