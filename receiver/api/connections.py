"""`/v1/instances/{iid}/connections`: provider accounts, their sync state, and on-demand syncs.

Credentials are write-only: only their masked hints are ever shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.routing import Route

from receiver.api.endpoint import Call, NoBody, endpoint
from receiver.api.instances import get_instance
from receiver.api.problems import ProblemError
from receiver.api.schemas import ChannelSelection
from receiver.api.serialize import connection_out, remote_channel_out
from shared.models import Connection, RemoteChannel
from workers.actors import request_sync


def find_connection(call: Call[Any]) -> Connection:
    connection = call.session.get(Connection, call.path["connection_id"])
    if connection is None or connection.instance_id != call.instance_id:
        raise ProblemError(404, "CONNECTION_NOT_FOUND", "No such connection in this instance")
    return connection


def list_(call: Call[NoBody]) -> dict[str, Any]:
    get_instance(call, call.instance_id)
    query = select(Connection).where(Connection.instance_id == call.instance_id)
    connections = [connection_out(c) for c in call.session.scalars(query.order_by(Connection.id))]
    return {"connections": connections, "count": len(connections)}


def read(call: Call[NoBody]) -> dict[str, Any]:
    return connection_out(find_connection(call))


def remote_channels(call: Call[NoBody]) -> dict[str, Any]:
    connection = find_connection(call)
    query = select(RemoteChannel).where(RemoteChannel.connection_id == connection.id)
    remotes = [
        remote_channel_out(r) for r in call.session.scalars(query.order_by(RemoteChannel.name))
    ]
    return {"channels": remotes, "count": len(remotes)}


def select_channels(call: Call[ChannelSelection]) -> dict[str, Any]:
    """Which remote channels to follow; syncs keep this choice for channels that stay."""
    connection = find_connection(call)
    chosen = set(call.body.channel_ids)
    query = select(RemoteChannel).where(RemoteChannel.connection_id == connection.id)
    remotes = list(call.session.scalars(query.order_by(RemoteChannel.name)))
    unknown = chosen - {r.remote_id for r in remotes}
    if unknown:
        raise ProblemError(
            422,
            "VALIDATION_ERROR",
            f"Not channels of this connection: {', '.join(sorted(unknown))}",
        )
    for remote in remotes:
        remote.sync_enabled = call.body.sync_all or remote.remote_id in chosen
    call.audit(
        "connection.channels",
        "connection",
        connection.id,
        call.instance_id,
        channel_ids=sorted(chosen),
        sync_all=call.body.sync_all,
    )
    return {"channels": [remote_channel_out(r) for r in remotes], "count": len(remotes)}


def sync(call: Call[NoBody]) -> dict[str, Any]:
    connection_id = find_connection(call).id
    call.audit("connection.sync", "connection", connection_id, call.instance_id)
    # Enqueued after the commit; a sync already queued or running is not doubled.
    call.after_commit.append(lambda: request_sync(connection_id))
    return {"connection_id": connection_id, "status": "queued"}


BASE = "/v1/instances/{instance_id}/connections"
routes = [
    Route(BASE, endpoint(list_, scope="connections:read"), methods=["GET"]),
    Route(f"{BASE}/{{connection_id}}", endpoint(read, scope="connections:read"), methods=["GET"]),
    Route(
        f"{BASE}/{{connection_id}}/channels",
        endpoint(remote_channels, scope="connections:read"),
        methods=["GET"],
    ),
    Route(
        f"{BASE}/{{connection_id}}/channels",
        endpoint(select_channels, scope="connections:write", body=ChannelSelection),
        methods=["PUT"],
    ),
    Route(
        f"{BASE}/{{connection_id}}/sync",
        endpoint(sync, scope="connections:write", status=202),
        methods=["POST"],
    ),
]
