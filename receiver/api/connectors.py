"""Connectors: a provider's credentials in, what the provider confirmed about them out.

Each connector validates synchronously against the provider's API (contract §8), so a bad
credential is refused before anything is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from receiver.api.problems import ProblemError
from receiver.api.schemas import (
    DiscordCredentials,
    SlackCredentials,
    TelegramCredentials,
    TwilioCredentials,
    WhapiCredentials,
)
from shared.models import Channel
from shared.providers.discord import DiscordClient
from shared.providers.errors import AuthExpired
from shared.providers.slack import SlackClient
from shared.providers.telegram import TelegramClient
from shared.providers.twilio import NumberNotFound, TwilioClient
from shared.providers.whapi import LoginQR, WhapiClient
from shared.settings import Settings


@dataclass(frozen=True)
class Connected:
    """What a provider confirmed about the credentials."""

    name: str
    credentials: dict[str, Any]
    hint: dict[str, str]
    account: dict[str, Any]
    external_identifier: str | None
    message: str
    status: str = "connected"
    qr: LoginQR | None = None  # Whapi: the code to scan before the channel is live
    # The provider's own id for the channel replaces whatever the user typed (Whapi checks
    # every webhook body against it).
    identifier_is_authoritative: bool = False


def mask(secret: str) -> str:
    """`xoxb-…abcd`: enough to recognise a credential, never enough to use it."""
    prefix = secret.split("-", 1)[0] + "-" if "-" in secret[:6] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


def connect_slack(credentials: SlackCredentials, settings: Settings, _: Channel) -> Connected:
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


def connect_telegram(credentials: TelegramCredentials, settings: Settings, _: Channel) -> Connected:
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


def connect_discord(credentials: DiscordCredentials, settings: Settings, _: Channel) -> Connected:
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


def connect_whapi(credentials: WhapiCredentials, settings: Settings, _: Channel) -> Connected:
    client = WhapiClient(credentials.api_url or settings.whapi_gate_url, credentials.token)
    whapi_channel = str(client.health().get("channel_id") or "") or None
    qr = client.login_qr()
    name = whapi_channel or "Whapi channel"
    return Connected(
        name=name,
        credentials=credentials.model_dump(exclude_none=True),
        hint={"token": mask(credentials.token)},
        account={"channel_id": whapi_channel},
        external_identifier=whapi_channel,
        identifier_is_authoritative=whapi_channel is not None,
        status="awaiting_scan" if qr else "connected",
        qr=qr,
        message=(
            f"Scan the QR code with WhatsApp to link {name}."
            if qr
            else f"WhatsApp channel {name} connected; its webhook is being pointed here."
        ),
    )


def connect_twilio(
    credentials: TwilioCredentials, settings: Settings, channel: Channel
) -> Connected:
    client = TwilioClient(settings.twilio_api_url, credentials.account_sid, credentials.auth_token)
    account = client.account()
    if account.status != "active":
        raise AuthExpired(f"The Twilio account is {account.status}")
    number = channel.external_identifier or _only_number(client)
    try:
        client.number_sid(number)
    except NumberNotFound:
        raise ProblemError(
            422, "INVALID_CHANNEL", f"The Twilio account has no number {number}"
        ) from None
    return Connected(
        name=account.friendly_name or account.sid,
        credentials=credentials.model_dump(),
        hint={"auth_token": mask(credentials.auth_token)},
        account={"account_sid": account.sid, "friendly_name": account.friendly_name},
        external_identifier=number,
        message=f"Twilio number {number} connected; its webhooks are being pointed here.",
    )


def _only_number(client: TwilioClient) -> str:
    numbers = client.incoming_numbers()
    if len(numbers) != 1:
        raise ProblemError(
            422,
            "INVALID_CHANNEL",
            "Name the Twilio number: set the channel's external_identifier to its PN SID or "
            f"E.164 number (the account has {len(numbers)})",
        )
    return str(numbers[0].get("phone_number") or numbers[0]["sid"])


Connector = tuple[type[BaseModel], Callable[[Any, Settings, Channel], Connected]]
CONNECTORS: dict[str, Connector] = {
    "slack": (SlackCredentials, connect_slack),
    "discord": (DiscordCredentials, connect_discord),
    "telegram": (TelegramCredentials, connect_telegram),
    "whapi": (WhapiCredentials, connect_whapi),
    "twilio": (TwilioCredentials, connect_twilio),
}
