"""Request and response shapes. The same pydantic models validate requests and document them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api_tokens import Scope

ChannelType = Literal["whatsapp", "sms", "voice", "slack", "discord", "telegram"]
Provider = Literal["whapi", "twilio", "slack", "discord", "telegram"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstanceIn(Strict):
    name: str = Field(min_length=1, max_length=200)


class InstanceOut(BaseModel):
    id: str
    name: str
    created_at: datetime


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


class ConnectIn(Strict):
    config: dict[str, Any]


class DiscordCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=200)
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    application_id: str = Field(pattern=r"^[0-9]{1,20}$")
    guild_id: str = Field(pattern=r"^[0-9]{1,20}$")


class TelegramCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=200, pattern=r"^[0-9]+:[A-Za-z0-9_-]+$")


class SlackCredentials(Strict):
    bot_token: str = Field(min_length=1, max_length=500)
    signing_secret: str = Field(min_length=1, max_length=500)


class WhapiCredentials(Strict):
    token: str = Field(min_length=1, max_length=500)
    # A channel on another Whapi gate; wins over WHAPI_GATE_URL.
    api_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s]+$")


class TwilioCredentials(Strict):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=1, max_length=200)


# Each platform's credentials (contract §4), as a connection or a connect accepts them.
CREDENTIALS: dict[str, type[Strict]] = {
    "slack": SlackCredentials,
    "discord": DiscordCredentials,
    "whapi": WhapiCredentials,
    "twilio": TwilioCredentials,
    "telegram": TelegramCredentials,
}


class ConnectionSettings(Strict):
    sync_interval_minutes: int = Field(default=240, ge=5, le=7 * 24 * 60)
    sync_enabled: bool = True


class ConnectionSettingsPatch(Strict):
    sync_interval_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)
    sync_enabled: bool | None = None


class ConnectionIn(Strict):
    platform: Provider
    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: dict[str, Any]
    settings: ConnectionSettings = Field(default_factory=ConnectionSettings)


class ConnectionUpdate(Strict):
    """PUT: the fields given replace the stored ones; new credentials are checked first."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    credentials: dict[str, Any] | None = None
    settings: ConnectionSettingsPatch | None = None


class ChannelSelection(Strict):
    channel_ids: list[str] = Field(default_factory=list, max_length=10_000)
    sync_all: bool = False


class TokenIn(Strict):
    instance_id: str | None = Field(default=None, max_length=40)
    scopes: list[Scope] = Field(min_length=1)
    expires_in: int | None = Field(default=None, ge=60, le=366 * 24 * 3600)  # seconds
