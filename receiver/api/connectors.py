"""Connectors: a provider's credentials in, what the provider confirmed about them out.

Each connector validates synchronously against the provider's API (contract §8), so a bad
credential is refused before anything is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from receiver.api.problems import ProblemError
from receiver.api.schemas import (
    DiscordCredentials,
    SlackCredentials,
    TelegramCredentials,
    TwilioCredentials,
    WhapiCredentials,
)
from shared.models import Channel
from shared.providers.accounts import (
    Account,
    check_discord,
    check_slack,
    check_telegram,
    check_twilio,
    check_whapi,
)
from shared.providers.twilio import NumberNotFound, TwilioClient
from shared.providers.whapi import LoginQR, WhapiClient
from shared.settings import Settings


@dataclass(frozen=True)
class Connected:
    """What a provider confirmed about the credentials."""

    account: Account
    credentials: dict[str, Any]
    external_identifier: str | None
    message: str
    status: str = "connected"
    qr: LoginQR | None = None  # Whapi: the code to scan before the channel is live
    # The provider's own id for the channel replaces whatever the user typed (Whapi checks
    # every webhook body against it).
    identifier_is_authoritative: bool = False


def connect_slack(credentials: SlackCredentials, settings: Settings, _: Channel) -> Connected:
    account = check_slack(settings, credentials.model_dump())
    return Connected(
        account=account,
        credentials=credentials.model_dump(),
        external_identifier=account.details["team_id"],
        message=(
            f"Slack workspace {account.name} connected. Paste the webhook URL into your Slack "
            "app's Event Subscriptions."
        ),
    )


def connect_telegram(credentials: TelegramCredentials, settings: Settings, _: Channel) -> Connected:
    account = check_telegram(settings, credentials.model_dump())
    return Connected(
        account=account,
        credentials=with_webhook_secret("telegram", credentials.model_dump()),
        external_identifier=account.details["username"],
        message=f"Telegram bot {account.name} connected; its webhook is being pointed here.",
    )


def connect_discord(credentials: DiscordCredentials, settings: Settings, _: Channel) -> Connected:
    account = check_discord(settings, credentials.model_dump())
    return Connected(
        account=account,
        credentials=credentials.model_dump(),
        external_identifier=credentials.guild_id,
        message=(
            f"Discord bot {account.name} connected. In the Developer Portal, paste "
            "webhook_urls.interactions as the Interactions Endpoint URL and "
            "webhook_urls.events as the Webhook Events URL."
        ),
    )


def connect_whapi(credentials: WhapiCredentials, settings: Settings, _: Channel) -> Connected:
    stored = credentials.model_dump(exclude_none=True)
    account = check_whapi(settings, stored)
    qr = WhapiClient(credentials.api_url or settings.whapi_gate_url, credentials.token).login_qr()
    whapi_channel = account.details["channel_id"]
    return Connected(
        account=account,
        credentials=stored,
        external_identifier=whapi_channel,
        identifier_is_authoritative=whapi_channel is not None,
        status="awaiting_scan" if qr else "connected",
        qr=qr,
        message=(
            f"Scan the QR code with WhatsApp to link {account.name}."
            if qr
            else f"WhatsApp channel {account.name} connected; its webhook is being pointed here."
        ),
    )


def connect_twilio(
    credentials: TwilioCredentials, settings: Settings, channel: Channel
) -> Connected:
    account = check_twilio(settings, credentials.model_dump())
    client = TwilioClient(settings.twilio_api_url, credentials.account_sid, credentials.auth_token)
    number = channel.external_identifier or _only_number(client)
    try:
        client.number_sid(number)
    except NumberNotFound:
        raise ProblemError(
            422, "INVALID_CHANNEL", f"The Twilio account has no number {number}"
        ) from None
    return Connected(
        account=account,
        credentials=credentials.model_dump(),
        external_identifier=number,
        message=f"Twilio number {number} connected; its webhooks are being pointed here.",
    )


def with_webhook_secret(platform: str, credentials: dict[str, Any]) -> dict[str, Any]:
    """Telegram echoes a secret of ours in a header of every update (setWebhook's secret_token)."""
    if platform != "telegram":
        return credentials
    return {**credentials, "webhook_secret": secrets.token_urlsafe(32)}


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


Connector = Callable[[Any, Settings, Channel], Connected]  # takes CREDENTIALS[platform]
CONNECTORS: dict[str, Connector] = {
    "slack": connect_slack,
    "discord": connect_discord,
    "telegram": connect_telegram,
    "whapi": connect_whapi,
    "twilio": connect_twilio,
}
