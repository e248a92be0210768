"""Resources as the API shows them. Credentials never appear here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.channel_types import CAPABILITIES
from shared.models import (
    ApiToken,
    AuditEntry,
    Channel,
    Connection,
    DeadLetter,
    Event,
    Instance,
    RemoteChannel,
)
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
    if channel.provider == "whapi":
        # Only a code still waiting to be scanned is worth showing.
        out["qr"] = channel.qr if channel.status == "awaiting_scan" else None
    return out


def connection_out(connection: Connection) -> dict[str, Any]:
    return {
        "id": connection.id,
        "instance_id": connection.instance_id,
        "platform": connection.platform,
        "name": connection.name,
        "status": connection.status,
        "error": connection.error,
        "last_sync": iso(connection.last_sync),
        "validated_at": iso(connection.validated_at),
        "channel_count": connection.channel_count,
        "settings": connection.settings,
        "credentials_hint": connection.credentials_hint,
        "syncing": connection.sync_lease_owner is not None,
        "created_at": iso(connection.created_at),
        "updated_at": iso(connection.updated_at),
    }


def remote_channel_out(remote: RemoteChannel) -> dict[str, Any]:
    return {
        "id": remote.remote_id,
        "name": remote.name,
        "is_private": remote.is_private,
        "member_count": remote.member_count,
        "sync_enabled": remote.sync_enabled,
    }


def dead_letter_out(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "instance_id": letter.instance_id,
        "kind": letter.kind,
        "subject_id": letter.subject_id,
        "actor": letter.actor,
        "error": letter.error,
        "attempts": letter.attempts,
        "failures": letter.failures,
        "status": letter.status,
        "failed_at": iso(letter.failed_at),
        "redriven_at": iso(letter.redriven_at),
    }


def event_out(event: Event, *, with_payload: bool = False) -> dict[str, Any]:
    """Payloads were stripped of credentials when stored (receiver.providers); lists omit them."""
    out: dict[str, Any] = {
        "id": event.id,
        "instance_id": event.instance_id,
        "channel_id": event.channel_id,
        "provider": event.provider,
        "type": event.type,
        "dedup_key": event.dedup_key,
        "received_at": iso(event.received_at),
        "occurred_at": iso(event.occurred_at),
        "status": event.status,
        "attempts": event.attempts,
        "error": event.error,
        "processed_at": iso(event.processed_at),
    }
    if with_payload:
        out["payload"] = event.payload
    return out


def token_out(token: ApiToken) -> dict[str, Any]:
    """Never the token itself, nor its hash."""
    return {
        "id": token.id,
        "instance_id": token.instance_id,
        "scopes": list(token.scopes),
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
    }


def audit_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "instance_id": entry.instance_id,
        "token_id": entry.token_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "created_at": iso(entry.created_at),
    }
