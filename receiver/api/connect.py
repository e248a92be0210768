"""`POST …/channels/{channel}/connect`: validate credentials now, store them encrypted.

`{channel}` is a channel id, or a channel type the instance has at most one of (created here
when missing). Each provider has a connector: credentials in, what the provider said out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from starlette.routing import Route

from receiver.api.channels import find_channel, new_channel, record
from receiver.api.endpoint import Call, endpoint
from receiver.api.instances import get_instance
from receiver.api.problems import ProblemError, validation_problem
from receiver.api.schemas import (
    ConnectIn,
    DiscordCredentials,
    SlackCredentials,
    TelegramCredentials,
)
from receiver.api.serialize import channel_out
from shared.channel_types import CHANNEL_TYPES
from shared.crypto import decrypt_json, encrypt_json
from shared.ids import new_id
from shared.models import Channel, Connection, utcnow
from shared.providers.discord import DiscordClient
from shared.providers.errors import ProviderError
from shared.providers.slack import SlackClient
from shared.providers.telegram import TelegramClient
from shared.settings import Settings
from workers.actors import configure_webhook
from workers.webhook_setup import CONFIGURERS


@dataclass(frozen=True)
class Connected:
    """What a provider confirmed about the credentials."""

    name: str
    credentials: dict[str, Any]
    hint: dict[str, str]
    account: dict[str, Any]
    external_identifier: str | None
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


def mask(secret: str) -> str:
    """`xoxb-…abcd`: enough to recognise a credential, never enough to use it."""
    prefix = secret.split("-", 1)[0] + "-" if "-" in secret[:6] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


def connect_slack(credentials: SlackCredentials, settings: Settings) -> Connected:
    identity = SlackClient(settings.slack_api_url, credentials.bot_token).auth_test()
    return Connected(
        name=identity.team or identity.team_id,
        credentials=credentials.model_dump(),
        hint={"bot_token": mask(credentials.bot_token)},
        account={
            "team_id": identity.team_id,
            "team": identity.team,
            "bot_user_id": identity.bot_user_id,
            "scopes": list(identity.scopes),
        },
        external_identifier=identity.team_id,
        message=(
            f"Slack workspace {identity.team or identity.team_id} connected. Paste the "
            "webhook URL into your Slack app's Event Subscriptions."
        ),
    )


def connect_telegram(credentials: TelegramCredentials, settings: Settings) -> Connected:
    bot = TelegramClient(settings.telegram_api_url, credentials.bot_token).get_me()
    return Connected(
        name=f"@{bot.username}",
        # Telegram echoes this secret in a header of every update (setWebhook's secret_token).
        credentials={**credentials.model_dump(), "webhook_secret": secrets.token_urlsafe(32)},
        hint={"bot_token": f"{credentials.bot_token.split(':', 1)[0]}:…"},
        account={"bot_id": bot.id, "username": bot.username},
        external_identifier=bot.username,
        message=f"Telegram bot @{bot.username} connected; its webhook is being pointed here.",
    )


def connect_discord(credentials: DiscordCredentials, settings: Settings) -> Connected:
    client = DiscordClient(settings.discord_api_url, credentials.bot_token)
    bot = client.me()
    client.guild_channels(credentials.guild_id)  # the bot must be in the guild it is given
    return Connected(
        name=bot.username,
        credentials=credentials.model_dump(),
        hint={"bot_token": mask(credentials.bot_token)},
        account={"bot_id": bot.id, "username": bot.username, "guild_id": credentials.guild_id},
        external_identifier=credentials.guild_id,
        message=(
            f"Discord bot {bot.username} connected. In the Developer Portal, paste "
            "webhook_urls.interactions as the Interactions Endpoint URL and "
            "webhook_urls.events as the Webhook Events URL."
        ),
    )


Connector = tuple[type[BaseModel], Callable[[Any, Settings], Connected]]
CONNECTORS: dict[str, Connector] = {
    "slack": (SlackCredentials, connect_slack),
    "discord": (DiscordCredentials, connect_discord),
    "telegram": (TelegramCredentials, connect_telegram),
}


def resolve_channel(call: Call[Any], ref: str) -> Channel:
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
    return matches[0] if matches else new_channel(call, ref)


def connect(call: Call[ConnectIn]) -> dict[str, Any]:
    channel = resolve_channel(call, call.path["channel"])
    if not channel.enabled:
        raise ProblemError(409, "CHANNEL_DISABLED", "Enable the channel before connecting it")
    connector = CONNECTORS.get(channel.provider)
    if connector is None:
        raise ProblemError(
            422, "INVALID_CHANNEL", f"Connecting {channel.provider} is not supported yet"
        )
    schema, validate = connector
    try:
        credentials = schema.model_validate(call.body.config)
    except ValidationError as exc:
        raise validation_problem(exc) from None
    try:
        connected = validate(credentials, call.settings)
    except ProviderError as exc:
        raise ProblemError(
            400, exc.code, "The provider refused the credentials", exc.message, error=exc.as_dict()
        ) from None
    connection = _store_connection(call, channel, connected)
    now = utcnow()
    channel.connection_id = connection.id
    channel.external_identifier = channel.external_identifier or connected.external_identifier
    channel.status, channel.error_message, channel.status_changed_at = "connected", None, now
    record(call, "channel.connect", channel, connection_id=connection.id, provider=channel.provider)
    call.session.flush()
    if channel.provider in CONFIGURERS:
        channel_id = channel.id
        call.after_commit.append(lambda: configure_webhook.send(channel_id))
    return {
        "channel": channel_out(channel, call.settings),
        "status": channel.status,
        "message": connected.message,
        **connected.extra,
    }


def _store_connection(call: Call[Any], channel: Channel, connected: Connected) -> Connection:
    connection = (
        call.session.get(Connection, channel.connection_id) if channel.connection_id else None
    )
    if connection is None:
        connection = Connection(
            id=new_id("conn"),
            instance_id=channel.instance_id,
            platform=channel.provider,
            settings={"sync_interval_minutes": 240, "sync_enabled": True},
        )
        call.session.add(connection)
    now = utcnow()
    credentials = connected.credentials
    if connection.credentials_encrypted and "webhook_secret" in credentials:
        # A channel's webhook secret survives reconnects: the provider may still be using it.
        previous = decrypt_json(call.settings.secret, connection.credentials_encrypted)
        credentials = {**credentials, "webhook_secret": previous.get("webhook_secret")}
    connection.name = connected.name
    connection.credentials_encrypted = encrypt_json(call.settings.secret, credentials)
    connection.credentials_hint = connected.hint
    connection.account = connected.account
    connection.status, connection.error = "connected", None
    connection.validated_at = now
    call.session.flush()
    return connection


routes = [
    Route(
        "/v1/instances/{instance_id}/channels/{channel}/connect",
        endpoint(connect, scope="channels:write", body=ConnectIn),
        methods=["POST"],
    ),
]
