"""Signing and building Slack webhooks the way Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
        "Content-Type": "application/json",
    }


def event_callback(event_id: str, event: dict[str, Any], event_time: int | None = None) -> bytes:
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()) if event_time is None else event_time,
        }
    ).encode()


def message(text: str = "hello") -> dict[str, Any]:
    return {"type": "message", "channel": "C0001", "user": "U0001", "text": text, "ts": "1.0"}
