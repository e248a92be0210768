"""Connection syncs (contract §7): claim the connection, ask the provider, record the answer.

A sync runs under a lease on its connection row, taken by one conditional UPDATE and owned by
the sync message's id: two schedulers enqueueing the same due connection, or an on-demand sync
racing a scheduled one, end in one sync. A retried message keeps its lease (same owner); a
crashed worker's lease simply expires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shared.crypto import decrypt_json
from shared.db import session_scope
from shared.ids import new_id
from shared.metrics import SYNCS as SYNC_OUTCOMES
from shared.models import Channel, Connection, RemoteChannel, utcnow
from shared.providers.errors import FinalError, ProviderError
from shared.settings import get_settings
from workers.effects import apply
from workers.sync_providers import SYNCS, SyncReport

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # longer than any sync; a crashed one is retried after this
DEFAULT_INTERVAL_MINUTES = 240


@dataclass(frozen=True)
class Claim:
    connection_id: str
    owner: str


def interval(connection: Connection) -> timedelta:
    minutes = (connection.settings or {}).get("sync_interval_minutes", DEFAULT_INTERVAL_MINUTES)
    return timedelta(minutes=minutes if isinstance(minutes, int) and minutes > 0 else 240)


def is_due(connection: Connection, now: datetime) -> bool:
    if not (connection.settings or {}).get("sync_enabled", True):
        return False
    return connection.last_sync is None or connection.last_sync <= now - interval(connection)


def claim(connection_id: str, owner: str | None = None, *, due_only: bool = False) -> Claim | None:
    """Take the connection's sync lease; None if another sync holds it (or it is not due)."""
    owner = owner or new_id("sync")
    now = utcnow()
    with session_scope() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or (due_only and not is_due(connection, now)):
            return None
        statement = (
            update(Connection)
            .where(
                Connection.id == connection_id,
                or_(
                    Connection.sync_lease_until.is_(None),
                    Connection.sync_lease_until < now,
                    Connection.sync_lease_owner == owner,
                ),
            )
            .values(sync_lease_until=now + LEASE, sync_lease_owner=owner)
        )
        if due_only:  # checked again in the UPDATE: another scheduler may have just synced it
            due_before = now - interval(connection)
            statement = statement.where(
                or_(Connection.last_sync.is_(None), Connection.last_sync <= due_before)
            )
        taken = session.execute(statement.execution_options(synchronize_session=False))
    return Claim(connection_id, owner) if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def due_connection_ids() -> list[str]:
    now = utcnow()
    with session_scope() as session:
        free = or_(Connection.sync_lease_until.is_(None), Connection.sync_lease_until < now)
        connections = session.scalars(select(Connection).where(free))
        return [c.id for c in connections if is_due(c, now)]


def run(connection_id: str, owner: str) -> bool:
    """Sync under the lease `owner` holds; False if the lease is someone else's.

    Raises the provider's transient error for the caller to retry (the lease is kept); a final
    error is recorded on the connection and its channels and raised too.
    """
    if claim(connection_id, owner) is None:
        return False
    settings = get_settings()
    with session_scope() as session:
        connection = session.get(Connection, connection_id)
        if connection is None:
            return False
        platform = connection.platform
        credentials = decrypt_json(settings.secret, connection.credentials_encrypted)
    try:
        report = SYNCS[platform](settings, credentials)
    except ProviderError as exc:
        SYNC_OUTCOMES.labels(platform, exc.code).inc()
        _record_failure(connection_id, owner, exc)
        raise
    SYNC_OUTCOMES.labels(platform, "ok").inc()
    _record_success(connection_id, owner, report)
    return True


def give_up(connection_id: str, owner: str) -> None:
    """Retries are exhausted: the error stays shown, and the next sync waits a full interval."""
    with session_scope() as session:
        if (connection := _leased(session, connection_id, owner)) is not None:
            connection.last_sync = utcnow()
            _release(connection)


def _record_success(connection_id: str, owner: str, report: SyncReport) -> None:
    now = utcnow()
    with session_scope() as session:
        connection = _leased(session, connection_id, owner)
        if connection is None:
            return
        show_accepted(session, connection, now)
        connection.last_sync = now
        connection.account = {**(connection.account or {}), **report.account}
        follow_new = (connection.settings or {}).get("sync_all", True) is not False
        connection.channel_count = _store_remotes(session, connection_id, report, follow_new)
        if report.channel_effect is not None:
            for channel in _enabled_channels(session, connection_id):
                apply(channel, connection, report.channel_effect, now)
        _release(connection)


def _record_failure(connection_id: str, owner: str, error: ProviderError) -> None:
    now = utcnow()
    with session_scope() as session:
        connection = _leased(session, connection_id, owner)
        if connection is None:
            return
        connection.error = error.as_dict()
        if not isinstance(error, FinalError):
            return  # retried under the same lease
        connection.last_sync = now
        show_refused(session, connection, error, now)
        _release(connection)


def show_refused(
    session: Session, connection: Connection, error: FinalError, now: datetime
) -> None:
    """The provider refused the credentials: the connection and its channels say so."""
    connection.status, connection.error = "error", error.as_dict()
    for channel in _enabled_channels(session, connection.id):
        channel.status, channel.error_message = "error", error.message
        channel.status_changed_at = now


def show_accepted(session: Session, connection: Connection, now: datetime) -> None:
    """The credentials work (again): channels in error because of them are connected again."""
    refused = (connection.error or {}).get("message") if connection.status == "error" else None
    connection.status, connection.error = "connected", None
    connection.validated_at = now
    if refused is None:
        return
    for channel in _enabled_channels(session, connection.id):
        if channel.status == "error" and channel.error_message == refused:
            channel.status, channel.error_message = "connected", None
            channel.status_changed_at = now


def _store_remotes(
    session: Session, connection_id: str, report: SyncReport, follow_new: bool
) -> int:
    """Add new remote channels, rename changed ones, drop vanished ones; keep `sync_enabled`.

    New ones are followed unless the user picked specific channels (`sync_all` false).
    """
    existing = {
        r.remote_id: r
        for r in session.scalars(
            select(RemoteChannel).where(RemoteChannel.connection_id == connection_id)
        )
    }
    seen: set[str] = set()
    for remote in report.remotes:
        seen.add(remote.remote_id)
        row = existing.get(remote.remote_id)
        if row is None:
            row = RemoteChannel(
                id=new_id("rch"),
                connection_id=connection_id,
                remote_id=remote.remote_id,
                sync_enabled=follow_new,
            )
            session.add(row)
            existing[remote.remote_id] = row
        row.name, row.is_private = remote.name[:300], remote.is_private
        row.member_count = remote.member_count
    for remote_id, row in existing.items():
        if remote_id not in seen:
            session.delete(row)
    return len(seen)


def _leased(session: Session, connection_id: str, owner: str) -> Connection | None:
    """The connection, if `owner` still holds its sync lease; None if it was deleted, or the
    lease expired and another sync took over."""
    connection = session.get(Connection, connection_id)
    return connection if connection is not None and connection.sync_lease_owner == owner else None


def _enabled_channels(session: Session, connection_id: str) -> list[Channel]:
    """Locked in id order, as event processing locks them (no deadlock between the two)."""
    query = select(Channel).where(Channel.connection_id == connection_id, Channel.enabled)
    return list(session.scalars(query.order_by(Channel.id).with_for_update()))


def _release(connection: Connection) -> None:
    connection.sync_lease_until = connection.sync_lease_owner = None
