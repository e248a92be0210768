"""Point a provider's webhooks at Switchboard after a channel connects (contract §7).

Each configurer is idempotent (it sets, never appends), so a retried or repeated run is
harmless. Failures are written on the channel, where the API and dashboard show them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.crypto import decrypt_json, encrypt_json
from shared.db import session_scope
from shared.models import Channel, Connection
from shared.providers.errors import ProviderError, RequestRejected
from shared.providers.telegram import TelegramClient
from shared.providers.twilio import TwilioClient
from shared.providers.whapi import WEBHOOK_EVENTS, WhapiClient
from shared.settings import Settings, get_settings
from shared.webhook_tokens import settled
from shared.webhook_urls import webhook_urls

log = logging.getLogger(__name__)

SETUP_FAILED = "Could not point {provider} at Switchboard: {error}"
WHAPI_TOKEN_HEADER = "X-Webhook-Token"


@dataclass(frozen=True)
class SetupTarget:
    channel_id: str
    url: str
    external_identifier: str | None


# Returns the webhook token the provider now sends, for providers that send one.
Configurer = Callable[[Settings, SetupTarget, dict[str, Any]], str | None]


def _telegram(settings: Settings, target: SetupTarget, credentials: dict[str, Any]) -> None:
    client = TelegramClient(settings.telegram_api_url, credentials["bot_token"])
    client.set_webhook(target.url, secret_token=credentials["webhook_secret"])


def _whapi(settings: Settings, target: SetupTarget, credentials: dict[str, Any]) -> str:
    """Replace only Switchboard's entry (matched by URL): the user's other webhooks stay."""
    client = WhapiClient(
        credentials.get("api_url") or settings.whapi_gate_url, credentials["token"]
    )
    token: str = credentials["webhook_tokens"][-1]
    ours = {
        "url": target.url,
        "mode": "body",
        "headers": {WHAPI_TOKEN_HEADER: token},
        "events": [{"type": kind, "method": method} for kind, method in WEBHOOK_EVENTS],
    }
    current = client.settings()
    webhooks = current.get("webhooks") if isinstance(current.get("webhooks"), list) else []
    others = [w for w in webhooks or [] if not (isinstance(w, dict) and w.get("url") == target.url)]
    if current.get("callback_persist") is True and webhooks == [*others, ours]:
        return token  # already pointed here: nothing to change
    client.patch_settings({"webhooks": [*others, ours], "callback_persist": True})
    return token


def _twilio(settings: Settings, target: SetupTarget, credentials: dict[str, Any]) -> None:
    if not target.external_identifier:
        raise RequestRejected("the channel names no number: set its external_identifier")
    client = TwilioClient(
        settings.twilio_api_url, credentials["account_sid"], credentials["auth_token"]
    )
    number_sid = client.number_sid(target.external_identifier)
    # Not VoiceUrl: that answers calls, and pointing it here would hang them up.
    client.update_number(
        number_sid,
        SmsUrl=target.url,
        SmsMethod="POST",
        StatusCallback=target.url,
        StatusCallbackMethod="POST",
    )


# Slack and Discord have no API for this: the user pastes the URL the channel shows.
CONFIGURERS: dict[str, Configurer] = {
    "telegram": _telegram,
    "whapi": _whapi,
    "twilio": _twilio,
}


def configure_webhook(channel_id: str) -> None:
    """Raises the provider's error when it is worth retrying; records every failure."""
    settings = get_settings()
    with session_scope() as session:
        channel = session.get(Channel, channel_id)
        connection = session.get(Connection, channel.connection_id) if channel else None
        if channel is None or connection is None or channel.provider not in CONFIGURERS:
            return  # deleted or disconnected meanwhile: nothing to point anywhere
        provider = channel.provider
        url, _ = webhook_urls(channel, settings.public_base_url)
        target = SetupTarget(channel.id, url, channel.external_identifier)
        credentials = decrypt_json(settings.secret, connection.credentials_encrypted)
    try:
        sent_token = CONFIGURERS[provider](settings, target, credentials)
    except ProviderError as exc:
        _record(channel_id, SETUP_FAILED.format(provider=provider, error=exc.message))
        raise
    _record(channel_id, None, sent_token)


def _record(channel_id: str, error: str | None, sent_token: str | None = None) -> None:
    settings = get_settings()
    with session_scope() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            return
        stale = channel.error_message is not None and channel.error_message.startswith(
            "Could not point"
        )
        if error is not None or stale:
            channel.error_message = error
        connection = session.get(Connection, channel.connection_id or "")
        if sent_token is not None and connection is not None:
            # The provider now sends the new token: older ones stop being accepted.
            credentials = decrypt_json(settings.secret, connection.credentials_encrypted)
            connection.credentials_encrypted = encrypt_json(
                settings.secret, settled(credentials, sent_token)
            )
