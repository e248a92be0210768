"""Twilio events → channel effects (contract §6).

Every callback proves the number works; a failed or undelivered status with an `ErrorCode`
(https://www.twilio.com/docs/api/errors) is shown on the channel without changing its status,
since one undeliverable recipient does not make the channel unusable.
"""

from __future__ import annotations

from typing import Any

from workers.effects import ALIVE, Effect

_FAILED_STATUSES = frozenset({"failed", "undelivered"})


def effect_of(event_type: str, payload: dict[str, Any]) -> Effect:  # noqa: ARG001
    status = payload.get("MessageStatus") or payload.get("CallStatus")
    code = payload.get("ErrorCode")
    if status in _FAILED_STATUSES and code:
        return Effect(alive=True, note=f"Twilio error {code}: the last message was {status}")
    return ALIVE
