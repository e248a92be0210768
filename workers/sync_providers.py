"""What a sync asks each provider (contract §7): are the credentials good, and what is there.

Each function takes the decrypted credentials and returns a `SyncReport`, or raises the
provider's error (shared.providers.errors) for the caller to record or retry. No database here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.providers.discord import DiscordClient
from shared.providers.slack import SlackClient
from shared.providers.telegram import TelegramClient
from shared.providers.twilio import TwilioClient
from shared.providers.whapi import WhapiClient
from shared.settings import Settings
from workers.effects import Effect
from workers.effects import whapi as whapi_effects

# A Telegram delivery error younger than this is shown on the channel.
RECENT_WEBHOOK_ERROR_SECONDS = 3600
_DISCORD_TEXT_CHANNELS = {0, 5, 15}  # text, announcement, forum


@dataclass(frozen=True)
class Remote:
    remote_id: str
    name: str
    is_private: bool = False
    member_count: int | None = None


@dataclass(frozen=True)
class SyncReport:
    remotes: list[Remote]
    account: dict[str, Any] = field(default_factory=dict)
    channel_effect: Effect | None = None  # what the provider says about the channel itself


def sync_slack(settings: Settings, credentials: dict[str, Any]) -> SyncReport:
    client = SlackClient(settings.slack_api_url, credentials["bot_token"])
    identity = client.auth_test()
    private = "groups:read" in identity.scopes
    remotes = [
        Remote(
            str(c["id"]), str(c.get("name", "")), bool(c.get("is_private")), c.get("num_members")
        )
        for c in client.conversations(private=private)
        if "id" in c
    ]
    account = {"team_id": identity.team_id, "team": identity.team, "scopes": list(identity.scopes)}
    return SyncReport(remotes, account)


def sync_discord(settings: Settings, credentials: dict[str, Any]) -> SyncReport:
    client = DiscordClient(settings.discord_api_url, credentials["bot_token"])
    bot = client.me()
    remotes = [
        Remote(str(c["id"]), str(c.get("name", "")))
        for c in client.guild_channels(credentials["guild_id"])
        if "id" in c and c.get("type") in _DISCORD_TEXT_CHANNELS
    ]
    return SyncReport(remotes, {"bot_id": bot.id, "username": bot.username})


def sync_whapi(settings: Settings, credentials: dict[str, Any]) -> SyncReport:
    client = WhapiClient(
        credentials.get("api_url") or settings.whapi_gate_url, credentials["token"]
    )
    health = client.health()  # wakeup=false: polling must not wake a sleeping channel
    remotes = [
        Remote(str(g["id"]), str(g.get("name", "")), True, _count(g.get("participants")))
        for g in client.groups()
        if "id" in g
    ]
    effect = whapi_effects.effect_of("whapi.channel.post", {"health": health})
    return SyncReport(remotes, {"channel_id": health.get("channel_id")}, effect)


def sync_twilio(settings: Settings, credentials: dict[str, Any]) -> SyncReport:
    client = TwilioClient(
        settings.twilio_api_url, credentials["account_sid"], credentials["auth_token"]
    )
    account = client.account()
    remotes = [
        Remote(str(n["sid"]), str(n.get("phone_number") or n.get("friendly_name") or n["sid"]))
        for n in client.incoming_numbers()
        if "sid" in n
    ]
    details = {"account_sid": account.sid, "status": account.status}
    if account.status != "active":  # suspended or closed: nothing will be delivered
        message = f"The Twilio account is {account.status}"
        return SyncReport(remotes, details, Effect(status="disconnected", message=message))
    return SyncReport(remotes, details)


def sync_telegram(settings: Settings, credentials: dict[str, Any]) -> SyncReport:
    client = TelegramClient(settings.telegram_api_url, credentials["bot_token"])
    bot = client.get_me()
    info = client.get_webhook_info()
    effect = None
    error_at = info.get("last_error_date")
    if isinstance(error_at, int) and time.time() - error_at < RECENT_WEBHOOK_ERROR_SECONDS:
        note = f"Telegram could not deliver updates: {info.get('last_error_message', '')}"
        effect = Effect(note=note.strip())
    return SyncReport([], {"bot_id": bot.id, "username": bot.username}, effect)


def _count(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


SYNCS: dict[str, Callable[[Settings, dict[str, Any]], SyncReport]] = {
    "slack": sync_slack,
    "discord": sync_discord,
    "whapi": sync_whapi,
    "twilio": sync_twilio,
    "telegram": sync_telegram,
}
