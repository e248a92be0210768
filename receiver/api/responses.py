"""Answers as /openapi.json documents them. Every answer is validated against its model before
it is sent (receiver.api.endpoint), so the document cannot drift from what the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from receiver.api.schemas import (
    ChannelStatus,
    ChannelType,
    DeadLetterKind,
    DeadLetterStatus,
    EventStatus,
    Provider,
)
from shared.api_tokens import Scope


class Out(BaseModel):
    # Extra keys would be undocumented: refusing them turns drift into a failing test.
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Out):
    """A provider's verdict, in the contract's connection error codes."""

    code: str
    message: str
    required_scopes: list[str] | None = None


class ValidationIssue(Out):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; some problems carry more members (e.g. `channel_ids`)."""

    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(examples=["CHANNEL_NOT_FOUND", "VALIDATION_ERROR"])
    detail: str | None = None
    errors: list[ValidationIssue] | None = None


class Listing(Out):
    count: int = Field(description="items on this page")
    next_cursor: str | None = Field(description="pass as `?cursor=` for the next page; null: last")


class InstanceOut(Out):
    id: str
    name: str
    created_at: datetime


class InstanceList(Listing):
    instances: list[InstanceOut]


class Capabilities(Out):
    threads: bool
    codeBlocks: bool  # camelCase: the contract's names
    syntaxHighlighting: bool
    fileAttachments: bool
    reactions: bool
    maxMessageLength: int
    mentionFormat: str


class CapabilitiesByType(Out):
    """What each channel type can do, keyed by channel type."""

    whatsapp: Capabilities
    sms: Capabilities
    voice: Capabilities
    slack: Capabilities
    discord: Capabilities
    telegram: Capabilities


class PendingQR(Out):
    qr_data: str
    qr_image_base64: str | None = None
    received_at: datetime


class WebhookUrls(Out):
    events: str
    interactions: str


class ChannelOut(Out):
    id: str
    instance_id: str
    channel_type: ChannelType
    provider: Provider
    connection_id: str | None
    external_identifier: str | None
    config: dict[str, Any]
    enabled: bool
    status: ChannelStatus
    error_message: str | None
    last_event_at: datetime | None
    status_changed_at: datetime | None = Field(
        description="event time of the latest status reported (or set by Switchboard); "
        "a channel revived to `connected` by a later event keeps it"
    )
    webhook_url: str = Field(description="where the provider sends this channel's webhooks")
    webhook_urls: WebhookUrls | None = Field(
        default=None, description="Discord only: its two endpoints by name"
    )
    capabilities: Capabilities
    qr: PendingQR | None = Field(default=None, description="Whapi only: the code to scan")
    created_at: datetime
    updated_at: datetime | None


class ChannelList(Listing):
    channels: list[ChannelOut]


class ConnectAnswer(Out):
    channel: ChannelOut
    status: ChannelStatus
    message: str
    qr_data: str | None = Field(default=None, description="Whapi: the code to scan")
    qr_image_base64: str | None = Field(default=None, description="Whapi: the code as a PNG")


class ReconnectAnswer(Out):
    success: bool
    channel: ChannelOut
    connected: bool
    message: str | None = None
    error: ErrorDetail | None = Field(default=None, description="why the provider refused")
    qr_data: str | None = None
    qr_image_base64: str | None = None


class ConnectionOut(Out):
    id: str
    instance_id: str
    platform: Provider
    name: str | None
    status: str = Field(examples=["connected", "error"])
    error: ErrorDetail | None
    last_sync: datetime | None
    validated_at: datetime | None
    channel_count: int
    settings: dict[str, Any]
    credentials_hint: dict[str, str] = Field(
        description='each credential masked, e.g. `{"bot_token": "xoxb-…abcd"}`'
    )
    syncing: bool
    created_at: datetime
    updated_at: datetime | None


class ConnectionList(Listing):
    connections: list[ConnectionOut]


class Validation(Out):
    valid: bool
    connection: ConnectionOut | None = None
    error: ErrorDetail | None = None


class RemoteChannelOut(Out):
    id: str
    name: str
    is_private: bool
    member_count: int | None
    sync_enabled: bool


class RemoteChannelList(Out):
    """Every remote channel of the connection, as the selection left them."""

    channels: list[RemoteChannelOut]
    count: int


class RemoteChannelPage(Listing):
    channels: list[RemoteChannelOut]


class SyncQueued(Out):
    connection_id: str
    status: str = Field(examples=["queued"])


class EventOut(Out):
    id: str
    instance_id: str
    channel_id: str
    provider: Provider
    type: str
    dedup_key: str
    received_at: datetime
    occurred_at: datetime | None
    status: EventStatus
    attempts: int
    error: str | None
    processed_at: datetime | None
    payload: Any = Field(default=None, description="single events only; credentials removed")


class EventList(Listing):
    events: list[EventOut]


class DeadLetterOut(Out):
    id: str
    instance_id: str | None
    kind: DeadLetterKind
    subject_id: str
    actor: str
    error: ErrorDetail | None
    attempts: int
    failures: int
    status: DeadLetterStatus
    failed_at: datetime
    redriven_at: datetime | None


class DeadLetterList(Listing):
    dead_letters: list[DeadLetterOut]


class TokenOut(Out):
    id: str
    instance_id: str | None = Field(description="null: org-wide")
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class IssuedToken(TokenOut):
    token: str = Field(description="the token itself: shown once, never again")


class TokenList(Listing):
    tokens: list[TokenOut]


class AuditEntryOut(Out):
    id: str
    instance_id: str | None
    token_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    created_at: datetime


class AuditList(Listing):
    entries: list[AuditEntryOut]
