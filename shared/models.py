"""The data model: one `metadata`, typed SQLAlchemy 2 declarative classes.

Times are stored as UTC and always come back timezone-aware (SQLite would otherwise hand back
naive datetimes). Secrets live only in the `*_encrypted` columns, and API tokens only as hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSONType,
    }


class Instance(Base):
    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Connection(Base):
    """Credentials for one provider account, encrypted, and its sync state."""

    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    credentials_hint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    account: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="connected")
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    last_sync: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    channel_count: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A sync holds this lease while it runs: claimed with one conditional UPDATE, so two
    # workers never sync one connection at once, and a crashed sync frees it when it expires.
    sync_lease_until: Mapped[datetime | None]
    sync_lease_owner: Mapped[str | None] = mapped_column(String(40))  # the sync message's id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RemoteChannel(Base):
    """A conversation, group or number a sync found in a connection's account."""

    __tablename__ = "remote_channels"
    __table_args__ = (UniqueConstraint("connection_id", "remote_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    connection_id: Mapped[str] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    remote_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    member_count: Mapped[int | None] = mapped_column(Integer)
    sync_enabled: Mapped[bool] = mapped_column(Boolean, default=True)  # the user's choice
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Channel(Base):
    """One messaging endpoint of an instance, and where it stands."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    channel_type: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    external_identifier: Mapped[str | None] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    error_message: Mapped[str | None] = mapped_column(Text)
    last_event_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime | None]
    # Internal, for ordering events by their own time (workers.effects): the latest proof the
    # channel works, and the time of the event `error_message` came from.
    last_alive_at: Mapped[datetime | None]
    note_at: Mapped[datetime | None]
    # The latest QR code to scan (Whapi): `qr_data`, `qr_image_base64`?, `received_at`.
    qr: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Event(Base):
    """One accepted webhook: the durable event store."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("provider", "channel_id", "dedup_key"),
        Index("ix_events_instance_received", "instance_id", "received_at"),
        Index("ix_events_channel_received", "channel_id", "received_at"),
        Index("ix_events_status_enqueued", "status", "enqueued_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # No foreign keys: each would be a check, locking the referenced row, for every webhook the
    # receiver stores. Deleting a channel or instance deletes its events (shared.event_deletion).
    instance_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(120))
    dedup_key: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    occurred_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    enqueued_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]


class DeadLetter(Base):
    """Background work that failed for good: kept until someone redrives it.

    One open letter per (kind, subject): the same work failing again updates it.
    """

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_instance_status", "instance_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))  # sync | webhook_setup | event
    subject_id: Mapped[str] = mapped_column(String(40))  # connection, channel or event id
    actor: Mapped[str] = mapped_column(String(60))
    error: Mapped[dict[str, Any]]  # {code, message}: never a secret
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failures: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="dead")  # dead | redriven
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
    redriven_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who changed what, when. Never a secret value."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_instance_created", "instance_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(String(40))
    token_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
