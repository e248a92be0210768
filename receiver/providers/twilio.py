"""Twilio webhooks: inbound messages and message and call status callbacks.

`X-Twilio-Signature` is base64(HMAC-SHA1(auth token, URL + params)), where URL is the public URL
exactly as Twilio called it (raw path and query, never re-encoded) and params are the form fields
sorted by name, each name followed by its values, sorted and deduplicated, as Twilio's own SDK
does (https://www.twilio.com/docs/usage/webhooks/webhooks-security). JSON bodies are not in the
signature: the URL carries `bodySHA256`, the hex SHA-256 of the raw body. Twilio signs whichever
of `https://host/…` and `https://host:443/…` it was given, so both are accepted. The answer is
TwiML: a JSON answer would be Twilio error 12300.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from receiver.providers.base import (
    Handled,
    Inbound,
    Malformed,
    Refused,
    Reply,
    parse_json_object,
)
from shared.events import NormalizedEvent, body_hash, plausible_time, type_part

SIGNATURE_HEADER = "x-twilio-signature"
EMPTY_TWIML = Reply(200, b'<?xml version="1.0" encoding="UTF-8"?><Response/>', "text/xml")
_DEFAULT_PORTS = {"https": 443, "http": 80}


def verify(inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None:  # noqa: ARG001
    auth_token = credentials.get("auth_token")
    presented = inbound.headers.get(SIGNATURE_HEADER)
    if not auth_token or not presented:
        raise Refused("missing Twilio signature")
    url = inbound.public_url
    body_sha256 = _query_value(inbound.query_string, "bodySHA256")
    if body_sha256 is not None:
        params: list[tuple[str, str]] = []
        actual = hashlib.sha256(inbound.body).hexdigest()
        body_ok = hmac.compare_digest(actual.encode(), body_sha256.encode())
    else:
        params, body_ok = _form(inbound.body), True
    # Every candidate is computed and compared, so timing does not tell which one matched.
    matches = [
        hmac.compare_digest(_signature(auth_token, candidate, params), presented.encode())
        for candidate in _url_variants(url)
    ]
    if not (any(matches) and body_ok):
        raise Refused("bad Twilio signature")


def _signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> bytes:
    data = url
    for name in sorted({name for name, _ in params}):
        for value in sorted({v for n, v in params if n == name}):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest)


def _url_variants(url: str) -> tuple[str, str]:
    """The URL without and with its scheme's default port, whichever way it was given."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port not in (None, default) or default is None:
        return url, url
    bare = urlunsplit(parts._replace(netloc=_netloc(parts.username, parts.password, host)))
    port = _netloc(parts.username, parts.password, f"{host}:{default}")
    return bare, urlunsplit(parts._replace(netloc=port))


def _netloc(user: str | None, password: str | None, host: str) -> str:
    if user is None:
        return host
    return f"{user}:{password}@{host}" if password is not None else f"{user}@{host}"


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("Twilio form body is not UTF-8") from None
    return parse_qsl(text, keep_blank_values=True)


def _query_value(query_string: bytes, name: str) -> str | None:
    values = parse_qs(query_string.decode("latin-1")).get(name)
    return values[-1] if values else None


def normalize(inbound: Inbound) -> Handled:
    if _query_value(inbound.query_string, "bodySHA256") is not None:
        payload = parse_json_object(inbound.body)
        fields = {k: v for k, v in payload.items() if isinstance(v, str)}
        kind, dedup_key = _classify(fields)
        # JSON callbacks (newer products) need not carry a SID; their bytes identify them.
        kind, dedup_key = (kind, dedup_key) if dedup_key else ("event", body_hash(inbound.body))
    else:
        pairs = _form(inbound.body)
        fields, payload = dict(pairs), _payload(pairs)
        kind, dedup_key = _classify(fields)
        if dedup_key is None:
            raise Malformed("Twilio webhook without a MessageSid or CallSid")
    return Handled(
        NormalizedEvent(
            type=f"twilio.{kind}",
            dedup_key=dedup_key,
            payload=payload,
            occurred_at=_occurred_at(fields.get("Timestamp")),
        ),
        EMPTY_TWIML,
    )


def _classify(fields: Mapping[str, str]) -> tuple[str, str | None]:
    """(`message.inbound` | `message.<status>` | `call.<status>`, dedup key)."""
    if message_sid := fields.get("MessageSid") or fields.get("SmsSid"):
        status = fields.get("MessageStatus")
        if status is None:  # an inbound message carries SmsStatus=received, no MessageStatus
            return "message.inbound", f"{message_sid}:inbound"
        return f"message.{type_part(status)}", f"{message_sid}:{status}"[:200]
    if call_sid := fields.get("CallSid"):
        status = fields.get("CallStatus", "unknown")
        return f"call.{type_part(status)}", f"{call_sid}:{status}"[:200]
    return "unknown", None


def _payload(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields as an object; a repeated field keeps all its values, in order."""
    payload: dict[str, Any] = {}
    for name, value in pairs:
        if name not in payload:
            payload[name] = value
        elif isinstance(payload[name], list):
            payload[name].append(value)
        else:
            payload[name] = [payload[name], value]
    return payload


def _occurred_at(value: str | None) -> datetime | None:
    """Call status callbacks carry an RFC 2822 `Timestamp`; messages carry no time."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return plausible_time(when)
