"""Resources as the API shows them. Credentials never appear here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.channel_types import CAPABILITIES
from shared.models import Channel, Instance
from shared.settings import Settings
from shared.webhook_urls import webhook_urls


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def instance_out(instance: Instance) -> dict[str, Any]:
    return {"id": instance.id, "name": instance.name, "created_at": iso(instance.created_at)}


def channel_out(channel: Channel, settings: Settings) -> dict[str, Any]:
    url, urls = webhook_urls(channel, settings.public_base_url)
    out: dict[str, Any] = {
        "id": channel.id,
        "instance_id": channel.instance_id,
        "channel_type": channel.channel_type,
        "provider": channel.provider,
        "connection_id": channel.connection_id,
        "external_identifier": channel.external_identifier,
        "config": channel.config,
        "enabled": channel.enabled,
        "status": channel.status,
        "error_message": channel.error_message,
        "last_event_at": iso(channel.last_event_at),
        "status_changed_at": iso(channel.status_changed_at),
        "webhook_url": url,
        "capabilities": CAPABILITIES[channel.channel_type],
        "created_at": iso(channel.created_at),
        "updated_at": iso(channel.updated_at),
    }
    if urls is not None:
        out["webhook_urls"] = urls
    return out
