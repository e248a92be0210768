"""The URLs providers call for a channel, from PUBLIC_BASE_URL."""

from __future__ import annotations

from shared.models import Channel


def webhook_urls(channel: Channel, public_base_url: str) -> tuple[str, dict[str, str] | None]:
    """The channel's main webhook URL and, for Discord's two endpoints, both by name."""
    base = f"{public_base_url}/webhooks/{channel.provider}/{channel.id}"
    if channel.provider == "discord":
        return f"{base}/events", {
            "events": f"{base}/events",
            "interactions": f"{base}/interactions",
        }
    return base, None
