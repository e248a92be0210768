"""Request shapes: bodies and query strings. The same models validate requests and document
them in /openapi.json; answers are in receiver.api.responses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from shared.api_tokens import Scope
from shared.storable_text import is_storable

ChannelType = Literal["whatsapp", "sms", "voice", "slack", "discord", "telegram"]
Provider = Literal["whapi", "twilio", "slack", "discord", "telegram"]
ChannelStatus = Literal[
    "pending", "connecting", "awaiting_scan", "connected", "disconnected", "error", "disabled"
]
EventStatus = Literal["pending", "processed", "failed", "ignored"]
DeadLetterKind = Literal["sync", "webhook_setup", "event"]
DeadLetterStatus = Literal["dead", "redriven"]


class Storable(BaseModel):
    """Unknown fields are refused, and text must be something PostgreSQL can store."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        if not is_storable(data):
            raise ValueError("text must be valid Unicode without NUL characters")
        return data


class Strict(Storable):
    """Request bodies: JSON types as they are (`0` is not `false`, `"5"` is not `5`)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(Storable):
    """Query strings: every value arrives as text, so numbers are read from it."""


def _iso_time(value: Any) -> Any:
    """ISO 8601 only (pydantic alone would also read `0.5` as a Unix time); UTC if no offset."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-21T08:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


IsoTime = Annotated[datetime, BeforeValidator(_iso_time)]


class InstanceIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class ChannelIn(Strict):
    channel_type: ChannelType
    provider: Provider | None = None
    external_identifier: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ChannelPatch(Strict):
    external_identifier: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] | None = None
    enabled: bool | None = None


# Secrets travel in HTTP headers: visible ASCII only.
SECRET = r"^[\x21-\x7e]+$"


class DiscordCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=200, pattern=SECRET)
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    application_id: str = Field(pattern=r"^[0-9]{1,20}$")
    guild_id: str = Field(pattern=r"^[0-9]{1,20}$")


class TelegramCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=200, pattern=r"^[0-9]+:[A-Za-z0-9_-]+$")


class SlackCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=500, pattern=SECRET)
    signing_secret: str = Field(min_length=1, max_length=500, pattern=SECRET)


class WhapiCredentials(Strict):
    token: str = Field(min_length=1, max_length=500, pattern=SECRET)
    # A channel on another Whapi gate; wins over WHAPI_GATE_URL.
    api_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s]+$")


class TwilioCredentials(Strict):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=1, max_length=200, pattern=SECRET)


# Each platform's credentials (contract §4), as a connection or a connect accepts them.
CREDENTIALS: dict[str, type[Strict]] = {
    "slack": SlackCredentials,
    "discord": DiscordCredentials,
    "whapi": WhapiCredentials,
    "twilio": TwilioCredentials,
    "telegram": TelegramCredentials,
}


# Which credentials apply depends on the channel or the platform, so the models check them once
# that is known (receiver.api.credentials); the document shows the choice.
Credentials = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "description": "The platform's credentials (contract §4)",
            "anyOf": [
                {"$ref": f"#/components/schemas/{model.__name__}"} for model in CREDENTIALS.values()
            ],
        }
    ),
]


class ConnectIn(Strict):
    config: Credentials


class ConnectionSettings(Strict):
    sync_interval_minutes: int = Field(default=240, ge=5, le=7 * 24 * 60)
    sync_enabled: bool = True


class ConnectionSettingsPatch(Strict):
    sync_interval_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    sync_enabled: bool | None = None


class ConnectionIn(Strict):
    platform: Provider
    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: Credentials
    settings: ConnectionSettings = Field(default_factory=ConnectionSettings)


class ConnectionUpdate(Strict):
    """PUT: the fields given replace the stored ones; new credentials are checked first."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: Credentials | None = None
    settings: ConnectionSettingsPatch | None = None


class ChannelSelection(Strict):
    channel_ids: list[str] = Field(default_factory=list, max_length=10_000)
    sync_all: bool = False


class TokenIn(Strict):
    instance_id: str | None = Field(default=None, max_length=40)
    scopes: list[Scope] = Field(min_length=1)
    expires_in: int | None = Field(default=None, ge=60, le=366 * 24 * 3600)  # seconds


# Query strings. Unknown parameters are refused (422) rather than silently ignored.


class Page(Query):
    """Cursor pagination: ids grow with time, so paging by id is stable while rows are added."""

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, min_length=1, max_length=200, description="`next_cursor` of the page before"
    )


class ChannelFilters(Page):
    status: ChannelStatus | None = None
    channel_type: ChannelType | None = None
    provider: Provider | None = None


class ConnectionFilters(Page):
    platform: Provider | None = None


class RemoteChannelFilters(Page):
    sync_enabled: bool | None = None


class InstanceFilters(Page):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class EventFilters(Page):
    channel_id: str | None = Field(default=None, min_length=1, max_length=64)
    status: EventStatus | None = None
    type: str | None = Field(default=None, min_length=1, max_length=100)
    since: IsoTime | None = Field(
        default=None, description="received at or after this time (ISO 8601; UTC if no offset)"
    )


class DeadLetterFilters(Page):
    status: DeadLetterStatus = "dead"
    kind: DeadLetterKind | None = None


class TokenFilters(Page):
    instance_id: str | None = Field(default=None, min_length=1, max_length=64)


class AuditFilters(Page):
    action: str | None = Field(default=None, min_length=1, max_length=100)
