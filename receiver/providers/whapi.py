"""Whapi.Cloud (WhatsApp) webhooks.

Whapi does not sign webhooks (https://support.whapi.cloud/help-desk/receiving/webhooks): each
channel gets its own token (shared.webhook_tokens), which Switchboard sets as a custom webhook
header, `X-Webhook-Token`; a user wiring the URL by hand may pass it as `?token=` instead (the
query string never reaches a log line). Every body names its Whapi channel in `channel_id` and
its kind in `event: {type, event}`, e.g. `messages`/`post`, `users`/`delete`
(https://support.whapi.cloud/help-desk/receiving/webhooks/incoming-webhooks-format).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import parse_qs

from receiver.providers.base import Handled, Inbound, Malformed, Refused, parse_json_object
from shared.events import NormalizedEvent, body_hash, epoch_to_datetime, type_part

TOKEN_HEADER = "x-webhook-token"
_MAX_DEDUP_IDS = 20  # beyond this a batch is keyed by its body hash


def verify(inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None:  # noqa: ARG001
    presented = _presented_token(inbound)
    accepted = credentials.get("webhook_tokens")
    if not presented or not isinstance(accepted, list) or not accepted:
        raise Refused("missing Whapi webhook token")
    # Several tokens are accepted only while a rotation is being rolled out; compare them all,
    # so the time taken does not say which one nearly matched.
    matches = [hmac.compare_digest(presented.encode(), str(token).encode()) for token in accepted]
    if not any(matches):
        raise Refused("wrong Whapi webhook token")


def _presented_token(inbound: Inbound) -> str | None:
    header = inbound.headers.get(TOKEN_HEADER)
    if header:
        return header
    if not inbound.query_string:
        return None
    values = parse_qs(inbound.query_string.decode("latin-1")).get("token")
    return values[0] if values else None


def normalize(inbound: Inbound) -> Handled:
    body = parse_json_object(inbound.body)
    if inbound.external_identifier and body.get("channel_id") != inbound.external_identifier:
        raise Refused("Whapi body is for another channel")
    event = body.get("event")
    if not isinstance(event, dict):
        raise Malformed("Whapi webhook without an event")
    kind, action = type_part(event.get("type")), type_part(event.get("event"))
    return Handled(
        NormalizedEvent(
            type=f"whapi.{kind}.{action}",
            dedup_key=_dedup_key(kind, body, inbound.body),
            payload=body,
            occurred_at=_occurred_at(kind, body),
        )
    )


def _dedup_key(kind: str, body: dict[str, Any], raw: bytes) -> str:
    """Message ids, or message id + status for receipts (one message gets several)."""
    items = body.get(kind)
    if kind not in ("messages", "statuses") or not isinstance(items, list):
        return body_hash(raw)
    keys = []
    for item in items[:_MAX_DEDUP_IDS]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return body_hash(raw)
        status = item.get("status") if kind == "statuses" else None
        keys.append(f"{item['id']}:{status}" if status else item["id"])
    if not keys or len(items) > _MAX_DEDUP_IDS:
        return body_hash(raw)
    return f"{kind}:{','.join(keys)}"[:400]


def _occurred_at(kind: str, body: dict[str, Any]) -> datetime | None:
    """The event's own time: the newest item's `timestamp`, or the health report's clock."""
    items = body.get(kind)
    if isinstance(items, list):
        times = [epoch_to_datetime(i.get("timestamp")) for i in items if isinstance(i, dict)]
        return max((t for t in times if t is not None), default=None)
    health = body.get("health")
    if isinstance(health, dict):
        # A health report is stamped by the channel's start time plus its uptime, which is
        # what orders INIT → QR → AUTH when they arrive out of order.
        start, uptime = health.get("start_at"), health.get("uptime")
        if _is_number(start) and _is_number(uptime):
            return epoch_to_datetime(float(start) + float(uptime))
    return None


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
