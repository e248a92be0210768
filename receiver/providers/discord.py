"""Discord: Webhook Events (`/events`) and Interactions (`/interactions`), two URLs per channel.

Both are signed the same way: Ed25519 over `X-Signature-Timestamp` + raw body, with the
application's public key, hex in `X-Signature-Ed25519`
(https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers).
Discord probes endpoints with bad signatures and removes those that accept them, so malformed
hex, wrong lengths and missing headers are all plain refusals.
Events: https://discord.com/developers/docs/events/webhook-events (type 0 PING → 204; type 1 →
an event, 204). Interactions: type 1 PING → `{"type": 1}`; others are acknowledged with
`{"type": 5}` (deferred response), https://discord.com/developers/docs/interactions/receiving-and-responding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from receiver.providers.base import Handled, Inbound, Malformed, Refused, Reply, parse_json_object
from shared.events import NormalizedEvent, body_hash, plausible_time, type_part

PUBLIC_KEY_BYTES, SIGNATURE_BYTES = 32, 64

# Interaction types (https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-type).
INTERACTION_TYPES = {
    1: "ping",
    2: "application_command",
    3: "message_component",
    4: "autocomplete",
    5: "modal_submit",
}
PONG = Reply.json({"type": 1})
DEFERRED = Reply.json({"type": 5})
NO_CONTENT = Reply(204)


def verify(inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None:  # noqa: ARG001
    key = _hex(credentials.get("public_key"), PUBLIC_KEY_BYTES)
    signature = _hex(inbound.headers.get("x-signature-ed25519"), SIGNATURE_BYTES)
    timestamp = inbound.headers.get("x-signature-timestamp")
    if key is None or signature is None or not timestamp:
        raise Refused("missing or malformed Discord signature")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, timestamp.encode() + inbound.body)
    except (InvalidSignature, ValueError):
        raise Refused("bad Discord signature") from None


def _hex(value: Any, length: int) -> bytes | None:
    if not isinstance(value, str) or len(value) != 2 * length:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def normalize(inbound: Inbound) -> Handled:
    payload = parse_json_object(inbound.body)
    if inbound.url_kind == "interactions":
        return _interaction(payload)
    return _webhook_event(payload, inbound.body)


def _interaction(payload: dict[str, Any]) -> Handled:
    kind = payload.get("type")
    if kind == 1:
        return Handled(None, PONG)
    interaction_id = payload.get("id")
    if isinstance(kind, bool) or not isinstance(kind, int) or not isinstance(interaction_id, str):
        raise Malformed("Discord interaction without type or id")
    name = INTERACTION_TYPES.get(kind, f"type_{kind}")
    # The interaction token lets its holder answer as the bot for 15 minutes: a credential,
    # never stored. The dict is ours, parsed from the body just now.
    payload.pop("token", None)
    event = NormalizedEvent(f"discord.interaction.{name}", interaction_id[:200], payload)
    return Handled(event, DEFERRED)


def _webhook_event(payload: dict[str, Any], body: bytes) -> Handled:
    kind = payload.get("type")
    if kind == 0:
        return Handled(None, NO_CONTENT)
    event = payload.get("event")
    if kind != 1 or not isinstance(event, dict):
        raise Malformed("Discord webhook event without an event")
    return Handled(
        NormalizedEvent(
            type=f"discord.event.{type_part(event.get('type'))}",
            # Webhook events carry no id; Discord's retries resend the same bytes.
            dedup_key=body_hash(body),
            payload=payload,
            occurred_at=_iso(event.get("timestamp")),
        ),
        NO_CONTENT,
    )


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return plausible_time(when)
