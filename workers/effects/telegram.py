"""Telegram updates → channel effects (contract §6): every update proves the bot alive."""

from __future__ import annotations

from typing import Any

from workers.effects import ALIVE, Effect


def effect_of(event_type: str, payload: dict[str, Any]) -> Effect:  # noqa: ARG001
    return ALIVE
