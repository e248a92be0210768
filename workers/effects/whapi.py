"""Whapi events → channel effects (contract §6).

A `channel` event reports the channel's health (`health.status.text`,
https://whapi.readme.io/reference/checkhealth) or, as a patch, a new QR code to scan; `users`
post/delete is the WhatsApp account logging in/out; everything else proves the channel alive.
"""

from __future__ import annotations

from typing import Any

from workers.effects import ALIVE, Effect

_HEALTH = {
    "AUTH": Effect(status="connected"),
    "QR": Effect(status="awaiting_scan"),
    "INIT": Effect(status="connecting"),
    "LAUNCH": Effect(status="connecting"),
    "NOT_INIT": Effect(status="connecting"),
    "STOP": Effect(status="disconnected", message="The Whapi channel was stopped"),
}
_ERRORS = frozenset({"ERROR", "SYNC_ERROR"})


def effect_of(event_type: str, payload: dict[str, Any]) -> Effect:
    if event_type == "whapi.users.post":
        return Effect(status="connected")
    if event_type == "whapi.users.delete":
        return Effect(status="disconnected", message="The WhatsApp account logged out")
    if event_type.startswith("whapi.channel."):
        return _channel(event_type, payload)
    return ALIVE


def _channel(event_type: str, payload: dict[str, Any]) -> Effect:
    if (qr := qr_of(payload)) is not None:
        return Effect(status="awaiting_scan", qr=qr)
    text = _health_text(payload)
    if text in _ERRORS:
        return Effect(status="error", message=text)
    if text in _HEALTH:
        return _HEALTH[text]
    return Effect(status="connected") if event_type == "whapi.channel.post" else ALIVE


def _health_text(payload: dict[str, Any]) -> str | None:
    health = payload.get("health")
    status = health.get("status") if isinstance(health, dict) else None
    text = status.get("text") if isinstance(status, dict) else None
    return text if isinstance(text, str) else None


def qr_of(payload: dict[str, Any]) -> dict[str, str] | None:
    """A QR code carried by a channel event: `qr` at the top or inside `channel`/`health`."""
    holders = [payload, payload.get("channel"), payload.get("health")]
    for holder in holders:
        qr = holder.get("qr") if isinstance(holder, dict) else None
        if isinstance(qr, str) and qr:
            return {"qr_data": qr}
        if isinstance(qr, dict) and isinstance(qr.get("rowdata"), str):
            found = {"qr_data": qr["rowdata"]}
            if isinstance(qr.get("base64"), str):
                found["qr_image_base64"] = qr["base64"].split(",", 1)[-1]
            return found
    return None
