"""What the dashboard reads, limited to what the viewer's token reaches."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import defer
from starlette.datastructures import QueryParams

from receiver.dashboard.access import Viewer
from shared.channel_types import CHANNEL_TYPES, STATUSES
from shared.models import Channel, Connection, Event, Instance

RECENT_EVENTS = 20


@dataclass(frozen=True)
class Filters:
    """The overview's filters. Unknown values are dropped rather than refused: it is a page."""

    instance_id: str | None = None
    status: str | None = None
    channel_type: str | None = None

    @classmethod
    def from_query(cls, query: QueryParams) -> Filters:
        status, channel_type = query.get("status"), query.get("channel_type")
        return cls(
            instance_id=query.get("instance") or None,
            status=status if status in STATUSES else None,
            channel_type=channel_type if channel_type in CHANNEL_TYPES else None,
        )

    def query_string(self) -> str:
        pairs = {
            "instance": self.instance_id,
            "status": self.status,
            "channel_type": self.channel_type,
        }
        return urlencode({k: v for k, v in pairs.items() if v})


def instances(viewer: Viewer) -> list[Instance]:
    query = select(Instance).order_by(Instance.name, Instance.id)
    if not viewer.principal.is_org_wide:
        query = query.where(Instance.id == viewer.principal.instance_id)
    return list(viewer.db.scalars(query))


def channels(viewer: Viewer, instance_id: str, filters: Filters) -> list[Channel]:
    query = select(Channel).where(Channel.instance_id == instance_id)
    if filters.status:
        query = query.where(Channel.status == filters.status)
    if filters.channel_type:
        query = query.where(Channel.channel_type == filters.channel_type)
    return list(viewer.db.scalars(query.order_by(Channel.channel_type, Channel.id)))


def connections(viewer: Viewer, instance_id: str) -> list[Connection]:
    query = select(Connection).where(Connection.instance_id == instance_id)
    return list(viewer.db.scalars(query.order_by(Connection.platform, Connection.id)))


def instance(viewer: Viewer, instance_id: str) -> Instance | None:
    return viewer.db.get(Instance, instance_id) if viewer.reaches(instance_id) else None


def channel(viewer: Viewer, instance_id: str, channel_id: str) -> Channel | None:
    """The channel, if the viewer reaches its instance; another instance's is as absent."""
    if not viewer.reaches(instance_id):
        return None
    found = viewer.db.get(Channel, channel_id)
    return found if found is not None and found.instance_id == instance_id else None


def connection_of(viewer: Viewer, channel: Channel) -> Connection | None:
    return viewer.db.get(Connection, channel.connection_id) if channel.connection_id else None


def recent_events(viewer: Viewer, channel_id: str) -> list[Event]:
    query = (
        select(Event)
        .options(defer(Event.payload))  # payloads can be large, and the page never shows them
        .where(Event.channel_id == channel_id)
        .order_by(Event.received_at.desc(), Event.id.desc())
        .limit(RECENT_EVENTS)
    )
    return list(viewer.db.scalars(query))


@dataclass(frozen=True)
class Account:
    """The signed-in token as the header shows it: its id (not secret) and its instance."""

    token_id: str
    instance_name: str | None


def account(viewer: Viewer) -> Account:
    instance_id = viewer.principal.instance_id
    instance = viewer.db.get(Instance, instance_id) if instance_id else None
    name = instance.name if instance else instance_id
    return Account(viewer.principal.token_id, name)
