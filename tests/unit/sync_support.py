"""What worker tests (syncs, webhook setup) share: one connection (`conn_1`) with one channel
(`ch_1`), and their rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared import db, settings
from shared.crypto import encrypt_json
from shared.models import Channel, Connection, RemoteChannel
from tests.unit.rows import INSTANCE_ID, add_in_order, instance


def seed(
    platform: str,
    channel_type: str,
    credentials: dict[str, Any],
    external_identifier: str | None = None,
) -> None:
    secret = settings.get_settings().secret
    connection = Connection(
        id="conn_1",
        instance_id=INSTANCE_ID,
        platform=platform,
        name=platform,
        credentials_encrypted=encrypt_json(secret, credentials),
        settings={"sync_interval_minutes": 240, "sync_enabled": True},
    )
    channel = Channel(
        id="ch_1",
        instance_id=INSTANCE_ID,
        channel_type=channel_type,
        provider=platform,
        connection_id="conn_1",
        external_identifier=external_identifier,
        status="connected",
    )
    with db.session_scope() as session:
        add_in_order(session, [instance()], [connection], [channel])


def state() -> tuple[Connection, Channel]:
    with db.session_scope() as session:
        connection, channel = session.get(Connection, "conn_1"), session.get(Channel, "ch_1")
        assert connection is not None and channel is not None
        session.expunge_all()
        return connection, channel


def remotes() -> dict[str, RemoteChannel]:
    """The connection's remote channels by remote id."""
    with db.session_scope() as session:
        rows = session.scalars(select(RemoteChannel).where(RemoteChannel.connection_id == "conn_1"))
        found = {row.remote_id: row for row in rows}
        session.expunge_all()
        return found
