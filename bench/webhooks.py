"""Realistic webhooks of the five providers, signed as each provider signs them.

The same bodies serve two purposes: the freshness and soak benchmarks POST them to a running
receiver, and the drain benchmark runs them through the receiver's own `normalize`, so the
stored backlog holds exactly what the receiver would have stored.

Each channel's events are `alive` (messages, receipts, interactions), now and then a `note`
(Slack rate limiting, a failed Twilio delivery), and at most one `final` event: an explicit
status change later than anything else the channel gets. With that mix a channel's final state
does not depend on the order in which concurrent workers process its events, so it can be
checked exactly (see `expected_status`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from twilio.request_validator import RequestValidator

PROVIDERS = ("slack", "discord", "telegram", "whapi", "twilio")
CHANNEL_TYPES = {
    "slack": "slack",
    "discord": "discord",
    "telegram": "telegram",
    "whapi": "whatsapp",
    "twilio": "sms",
}
# The status each provider's `final` event sets (None: the provider has no such event).
FINAL_STATUS = {
    "slack": "disconnected",
    "discord": "connected",
    "telegram": None,
    "whapi": "connected",
    "twilio": None,
}
TEAM_ID = "T0BENCH01"
DISCORD_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench discord").digest())
DISCORD_PUBLIC_KEY = DISCORD_KEY.public_key().public_bytes_raw().hex()
TEXT = "Deploy {n} of switchboard-api finished on prod-eu-1: 42 checks passed, no alerts."


@dataclass(frozen=True)
class Target:
    """A channel as a provider sees it: where to post, and the secret that proves it."""

    channel_id: str
    instance_id: str
    provider: str
    secret: str  # signing secret, secret token, webhook token or auth token
    external_identifier: str | None = None


@dataclass(frozen=True)
class Webhook:
    path: str
    headers: dict[str, str]
    body: bytes
    url_kind: str = ""


def expected_status(provider: str, has_final: bool) -> str:
    """A channel's status once all its events are processed (it started `pending`)."""
    final = FINAL_STATUS[provider]
    return final if has_final and final is not None else "connected"


def credentials(target: Target, bot_suffix: str) -> dict[str, Any]:
    """What the API would store for the channel's connection (before encryption)."""
    if target.provider == "slack":
        return {"bot_token": f"xoxb-{bot_suffix}", "signing_secret": target.secret}
    if target.provider == "discord":
        return {
            "bot_token": f"bench.{bot_suffix}",
            "public_key": DISCORD_PUBLIC_KEY,
            "application_id": "1100000000000000001",
            "guild_id": "1200000000000000001",
        }
    if target.provider == "telegram":
        return {"bot_token": f"7000001:{bot_suffix}", "webhook_secret": target.secret}
    if target.provider == "whapi":
        return {"token": bot_suffix, "webhook_tokens": [target.secret], "webhook_token_version": 1}
    return {"account_sid": "AC" + "b0" * 16, "auth_token": target.secret}


def build(target: Target, n: int, at: float, kind: str, base_url: str) -> Webhook:
    """Webhook number `n` (unique per run) for `target`, happening at epoch `at`."""
    return _BUILDERS[target.provider](target, n, at, kind, base_url)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _slack(target: Target, n: int, at: float, kind: str, _base_url: str) -> Webhook:
    if kind == "note":
        body = _json(
            {
                "token": "bench-verification-token",
                "type": "app_rate_limited",
                "team_id": TEAM_ID,
                "minute_rate_limited": int(at) // 60 * 60,
                "api_app_id": "A0BENCH01",
            }
        )
    else:
        if kind == "final":
            event: dict[str, Any] = {"type": "app_uninstalled"}
        else:
            ts = f"{int(at)}.{n % 1_000_000:06d}"
            event = {
                "type": "message",
                "user": f"U0USER{n % 13:03d}",
                "text": TEXT.format(n=n),
                "ts": ts,
                "team": TEAM_ID,
                "channel": f"C0BENCH{n % 7:02d}",
                "event_ts": ts,
                "channel_type": "channel",
            }
        body = _json(
            {
                "token": "bench-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0BENCH01",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{n:012d}",
                "event_time": int(at),
                "authorizations": [{"team_id": TEAM_ID, "user_id": "U0BOT", "is_bot": True}],
                "is_ext_shared_channel": False,
            }
        )
    stamp = str(int(at))
    digest = hmac.new(target.secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    return Webhook(f"/webhooks/slack/{target.channel_id}", headers, body)


def _discord(target: Target, n: int, at: float, kind: str, _base_url: str) -> Webhook:
    # `probe`: a webhook event carrying its own time, so its arrival can be seen in the API.
    if kind in ("final", "probe") or n % 2 == 0:
        name = "APPLICATION_AUTHORIZED" if kind == "final" else "ENTITLEMENT_CREATE"
        body = _json(
            {
                "version": 1,
                "application_id": "1100000000000000001",
                "type": 1,
                "event": {
                    "type": name,
                    "timestamp": datetime.fromtimestamp(at, UTC).isoformat(),
                    "data": {"id": str(1300000000000000000 + n), "user_id": "1400000000000000001"},
                },
            }
        )
        url_kind = "events"
    else:
        body = _json(
            {
                "id": str(1500000000000000000 + n),
                "application_id": "1100000000000000001",
                "type": 2,
                "data": {"id": "1600000000000000001", "name": "status", "type": 1},
                "guild_id": "1200000000000000001",
                "channel_id": "1700000000000000001",
                "member": {"user": {"id": "1400000000000000001", "username": "bench"}},
                "token": "interaction-token-never-stored",
                "version": 1,
                "locale": "en-US",
            }
        )
        url_kind = "interactions"
    stamp = str(int(at))
    headers = {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": DISCORD_KEY.sign(stamp.encode() + body).hex(),
        "X-Signature-Timestamp": stamp,
    }
    return Webhook(f"/webhooks/discord/{target.channel_id}/{url_kind}", headers, body, url_kind)


def _telegram(target: Target, n: int, at: float, _kind: str, _base_url: str) -> Webhook:
    body = _json(
        {
            "update_id": n,
            "message": {
                "message_id": n,
                "from": {"id": 10001, "is_bot": False, "first_name": "Ada", "language_code": "en"},
                "chat": {"id": -1000000001, "title": "Ops", "type": "supergroup"},
                "date": int(at),
                "text": TEXT.format(n=n),
            },
        }
    )
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": target.secret}
    return Webhook(f"/webhooks/telegram/{target.channel_id}", headers, body)


def _whapi(target: Target, n: int, at: float, kind: str, _base_url: str) -> Webhook:
    channel = target.external_identifier
    if kind == "final":
        start = int(at) - 3600
        value: dict[str, Any] = {
            "health": {
                "start_at": start,
                "uptime": at - start,
                "status": {"code": 4, "text": "AUTH"},
            },
            "event": {"type": "channel", "event": "post"},
            "channel_id": channel,
        }
    elif n % 3 == 0:
        status = {"id": f"wamid.{n:016x}", "status": "delivered", "timestamp": int(at)}
        value = {
            "statuses": [{**status, "recipient_id": "15550001111", "code": 3}],
            "event": {"type": "statuses", "event": "post"},
            "channel_id": channel,
        }
    else:
        message = {
            "id": f"wamid.{n:016x}",
            "from_me": False,
            "type": "text",
            "chat_id": "15550001111@s.whatsapp.net",
            "timestamp": int(at),
            "source": "mobile",
            "text": {"body": TEXT.format(n=n)},
            "from": "15550001111",
            "from_name": "Ada",
        }
        value = {
            "messages": [message],
            "event": {"type": "messages", "event": "post"},
            "channel_id": channel,
        }
    headers = {"Content-Type": "application/json", "X-Webhook-Token": target.secret}
    return Webhook(f"/webhooks/whapi/{target.channel_id}", headers, _json(value))


def _twilio(target: Target, n: int, _at: float, kind: str, base_url: str) -> Webhook:
    fields = {
        "AccountSid": "AC" + "b0" * 16,
        "MessageSid": f"SM{n:032x}",
        "SmsSid": f"SM{n:032x}",
        "From": "+15550001111",
        "To": target.external_identifier or "+15550002222",
        "ApiVersion": "2010-04-01",
    }
    if kind == "note":
        fields.update(MessageStatus="undelivered", SmsStatus="undelivered", ErrorCode="30003")
    elif n % 2 == 0:
        fields.update(MessageStatus="delivered", SmsStatus="delivered")
    else:
        fields.update(SmsStatus="received", Body=TEXT.format(n=n), NumMedia="0")
    path = f"/webhooks/twilio/{target.channel_id}"
    signature = RequestValidator(target.secret).compute_signature(base_url + path, fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return Webhook(path, headers, urlencode(fields).encode())


_BUILDERS: dict[str, Callable[[Target, int, float, str, str], Webhook]] = {
    "slack": _slack,
    "discord": _discord,
    "telegram": _telegram,
    "whapi": _whapi,
    "twilio": _twilio,
}
