"""Slack Events API and interactivity webhooks.

Signature: https://api.slack.com/authentication/verifying-requests-from-slack
`v0=` + hex HMAC-SHA256(signing_secret, `v0:{timestamp}:{raw body}`), timestamp within 5 min.
Events: https://api.slack.com/apis/events-api (JSON); interactivity and slash commands arrive
form-encoded (`payload=<json>` or the command's fields).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from receiver.providers.base import Handled, Inbound, Malformed, Refused, Reply, parse_json_object
from shared.events import NormalizedEvent, body_hash, epoch_to_datetime, type_part

MAX_CLOCK_SKEW = 300  # seconds, as Slack recommends


def signature_is_valid(
    signing_secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> bool:
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify(inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None:
    secret = credentials.get("signing_secret")
    if not secret:
        raise Refused("channel has no Slack signing secret")
    timestamp = inbound.headers.get("x-slack-request-timestamp")
    signature = inbound.headers.get("x-slack-signature")
    if not signature_is_valid(secret, inbound.body, timestamp, signature, now):
        raise Refused("bad or stale Slack signature")


def normalize(inbound: Inbound) -> Handled:
    content_type = inbound.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return Handled(_form_event(inbound.body))
    payload = parse_json_object(inbound.body)
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise Malformed("Slack payload has no type")
    if kind == "url_verification":
        return Handled(None, Reply.json({"challenge": str(payload.get("challenge", ""))}))
    return Handled(_json_event(kind, _without_token(payload), inbound.body))


def _json_event(kind: str, payload: dict[str, Any], body: bytes) -> NormalizedEvent:
    if kind == "event_callback":
        event = payload.get("event")
        event_id = payload.get("event_id")
        if not isinstance(event, dict) or not isinstance(event_id, str) or not event_id:
            raise Malformed("event_callback without event or event_id")
        return NormalizedEvent(
            type=f"slack.event_callback.{type_part(event.get('type'))}",
            dedup_key=event_id[:200],
            payload=payload,
            occurred_at=epoch_to_datetime(payload.get("event_time")),
        )
    if kind == "app_rate_limited":
        # No event_id: Slack sends one per team and minute.
        minute = payload.get("minute_rate_limited")
        return NormalizedEvent(
            type="slack.app_rate_limited",
            dedup_key=f"app_rate_limited:{type_part(payload.get('team_id'))}:{type_part(minute)}",
            payload=payload,
            occurred_at=epoch_to_datetime(minute),
        )
    event_id = payload.get("event_id")
    return NormalizedEvent(
        type=f"slack.{type_part(kind)}",
        dedup_key=event_id[:200] if isinstance(event_id, str) and event_id else body_hash(body),
        payload=payload,
    )


def _form_event(body: bytes) -> NormalizedEvent:
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode(), strict_parsing=True).items()}
    except (UnicodeDecodeError, ValueError):
        raise Malformed("Slack form body cannot be parsed") from None
    if "payload" in form:  # interactivity: block actions, view submissions, shortcuts
        try:
            payload = json.loads(form["payload"])
        except ValueError:
            raise Malformed("Slack interaction payload is not JSON") from None
        if not isinstance(payload, dict):
            raise Malformed("Slack interaction payload is not an object")
        kind = f"slack.interaction.{type_part(payload.get('type'))}"
        return NormalizedEvent(kind, body_hash(body), _without_token(payload))
    if "command" in form:
        return NormalizedEvent("slack.slash_command", body_hash(body), _without_token(form))
    raise Malformed("Slack form body is neither an interaction nor a command")


def _without_token(payload: dict[str, Any]) -> dict[str, Any]:
    # The deprecated verification token is a credential: never store it. The dict is ours,
    # freshly parsed from the body, so it is changed in place.
    payload.pop("token", None)
    return payload
