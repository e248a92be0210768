"""Point a provider's webhooks at Switchboard after a channel connects (contract §7).

Each configurer is idempotent (it sets, never appends), so a retried or repeated run is
harmless. Failures are written on the channel, where the API and dashboard show them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.crypto import decrypt_json
from shared.db import session_scope
from shared.models import Channel, Connection
from shared.providers.errors import ProviderError
from shared.providers.telegram import TelegramClient
from shared.settings import Settings, get_settings
from shared.webhook_urls import webhook_urls

log = logging.getLogger(__name__)

SETUP_FAILED = "Could not point {provider} at Switchboard: {error}"

Configurer = Callable[[Settings, str, dict[str, Any]], None]


def _telegram(settings: Settings, url: str, credentials: dict[str, Any]) -> None:
    client = TelegramClient(settings.telegram_api_url, credentials["bot_token"])
    client.set_webhook(url, secret_token=credentials["webhook_secret"])


# Slack and Discord have no API for this: the user pastes the URL the channel shows.
CONFIGURERS: dict[str, Configurer] = {
    "telegram": _telegram,
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
        credentials = decrypt_json(settings.secret, connection.credentials_encrypted)
    try:
        CONFIGURERS[provider](settings, url, credentials)
    except ProviderError as exc:
        _record(channel_id, SETUP_FAILED.format(provider=provider, error=exc.message))
        raise
    _record(channel_id, None)


def _record(channel_id: str, error: str | None) -> None:
    with session_scope() as session:
        channel = session.get(Channel, channel_id)
        if channel is None:
            return
        stale = channel.error_message is not None and channel.error_message.startswith(
            "Could not point"
        )
        if error is not None or stale:
            channel.error_message = error
