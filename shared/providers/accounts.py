"""Checking a provider account's credentials: one cheap call (or two) per platform.

Used wherever credentials arrive or are re-checked (connect, the connections API's create,
update and validate) so that all of them accept and refuse exactly the same things. A check
raises the provider's error (shared.providers.errors); it never lists the account's channels,
which is a sync's job (workers.sync_providers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.providers.discord import DiscordClient
from shared.providers.errors import AuthExpired
from shared.providers.slack import SlackClient
from shared.providers.telegram import TelegramClient
from shared.providers.twilio import TwilioClient
from shared.providers.whapi import WhapiClient
from shared.settings import Settings


@dataclass(frozen=True)
class Account:
    """What the provider confirmed: a display name, facts worth showing, a masked hint."""

    name: str
    details: dict[str, Any]
    hint: dict[str, str]


def mask(secret: str) -> str:
    """`xoxb-…abcd`: enough to recognise a credential, never enough to use it."""
    prefix = secret.split("-", 1)[0] + "-" if "-" in secret[:6] else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


def check_slack(settings: Settings, credentials: dict[str, Any]) -> Account:
    identity = SlackClient(settings.slack_api_url, credentials["bot_token"]).auth_test()
    details = {
        "team_id": identity.team_id,
        "team": identity.team,
        "bot_user_id": identity.bot_user_id,
        "scopes": list(identity.scopes),
    }
    return Account(identity.team or identity.team_id, details, _hint("bot_token", credentials))


def check_discord(settings: Settings, credentials: dict[str, Any]) -> Account:
    client = DiscordClient(settings.discord_api_url, credentials["bot_token"])
    bot = client.me()
    client.guild_channels(credentials["guild_id"])  # the bot must be in the guild it is given
    details = {"bot_id": bot.id, "username": bot.username, "guild_id": credentials["guild_id"]}
    return Account(bot.username, details, _hint("bot_token", credentials))


def check_whapi(settings: Settings, credentials: dict[str, Any]) -> Account:
    client = WhapiClient(
        credentials.get("api_url") or settings.whapi_gate_url, credentials["token"]
    )
    channel_id = str(client.health().get("channel_id") or "") or None
    return Account(
        channel_id or "Whapi channel", {"channel_id": channel_id}, _hint("token", credentials)
    )


def check_twilio(settings: Settings, credentials: dict[str, Any]) -> Account:
    client = TwilioClient(
        settings.twilio_api_url, credentials["account_sid"], credentials["auth_token"]
    )
    account = client.account()
    if account.status != "active":  # suspended or closed: nothing would be delivered
        raise AuthExpired(f"The Twilio account is {account.status}")
    details = {"account_sid": account.sid, "friendly_name": account.friendly_name}
    return Account(account.friendly_name or account.sid, details, _hint("auth_token", credentials))


def check_telegram(settings: Settings, credentials: dict[str, Any]) -> Account:
    bot = TelegramClient(settings.telegram_api_url, credentials["bot_token"]).get_me()
    # The part before the colon is the bot's public id; the rest is the secret.
    hint = {"bot_token": f"{credentials['bot_token'].split(':', 1)[0]}:…"}
    return Account(f"@{bot.username}", {"bot_id": bot.id, "username": bot.username}, hint)


def _hint(field: str, credentials: dict[str, Any]) -> dict[str, str]:
    return {field: mask(credentials[field])}


CHECKS: dict[str, Callable[[Settings, dict[str, Any]], Account]] = {
    "slack": check_slack,
    "discord": check_discord,
    "whapi": check_whapi,
    "twilio": check_twilio,
    "telegram": check_telegram,
}
