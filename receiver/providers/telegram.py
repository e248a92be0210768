"""Telegram Bot API webhooks.

Telegram does not sign updates; `setWebhook`'s `secret_token` comes back in the
`X-Telegram-Bot-Api-Secret-Token` header of every call (https://core.telegram.org/bots/api#setwebhook),
compared here in constant time. Each update carries a unique, increasing `update_id`, and
exactly one optional field naming its kind (https://core.telegram.org/bots/api#update).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from receiver.providers.base import Handled, Inbound, Malformed, Refused, parse_json_object
from shared.events import NormalizedEvent, epoch_to_datetime, type_part

SECRET_HEADER = "x-telegram-bot-api-secret-token"

# Where each kind of update keeps its own time (seconds since the epoch).
_TIME_FIELDS = ("edit_date", "date")


def verify(inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None:  # noqa: ARG001
    expected = credentials.get("webhook_secret")
    presented = inbound.headers.get(SECRET_HEADER)
    if not expected or presented is None:
        raise Refused("missing Telegram secret token")
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise Refused("wrong Telegram secret token")


def normalize(inbound: Inbound) -> Handled:
    update = parse_json_object(inbound.body)
    update_id = update.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise Malformed("Telegram update without an integer update_id")
    kind = next((key for key in update if key != "update_id"), "unknown")
    body = update.get(kind)
    return Handled(
        NormalizedEvent(
            type=f"telegram.{type_part(kind)}",
            dedup_key=str(update_id),
            payload=update,
            occurred_at=_occurred_at(body),
        )
    )


def _occurred_at(body: Any) -> datetime | None:
    if not isinstance(body, dict):
        return None
    for name in _TIME_FIELDS:
        if (when := epoch_to_datetime(body.get(name))) is not None:
            return when
    return None
