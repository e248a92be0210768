"""Discord events → channel effects (contract §6).

https://discord.com/developers/docs/events/webhook-events#event-types
"""

from __future__ import annotations

from typing import Any

from workers.effects import ALIVE, Effect


def effect_of(event_type: str, payload: dict[str, Any]) -> Effect:  # noqa: ARG001
    if event_type == "discord.event.APPLICATION_AUTHORIZED":
        return Effect(status="connected")
    if event_type == "discord.event.APPLICATION_DEAUTHORIZED":
        # Not in the contract's table; a user removing the app is a disconnect all the same.
        return Effect(status="disconnected", message="The Discord app was deauthorized")
    return ALIVE
