"""What every provider module offers the webhook endpoint.

A provider module is a plain module satisfying `WebhookProvider`: `verify` proves authenticity
on the raw bytes (raising `Refused`), `normalize` parses and maps the payload into a
`NormalizedEvent` plus the reply the provider expects (raising `Malformed`, or `Refused` when
the parsed body proves it is meant for another channel, as Whapi's `channel_id` can).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from shared.events import NormalizedEvent


class Refused(Exception):
    """The request's authenticity is not proven: 401. The reason is safe to log."""


class Malformed(Exception):
    """Authentic, but the body cannot be understood: 400."""


@dataclass(frozen=True)
class Inbound:
    """A webhook request as received (raw bytes, before any parsing), and whom it is for."""

    channel_id: str
    headers: Mapping[str, str]  # by lower-case name
    body: bytes
    path: str  # raw, as on the wire
    query_string: bytes  # raw, never re-encoded
    url_kind: str = ""  # sub-endpoint for providers with several URLs
    public_base_url: str = ""  # PUBLIC_BASE_URL: what the provider called, behind any proxy
    external_identifier: str | None = None  # the channel's id at the provider, when known

    @property
    def public_url(self) -> str:
        """The URL exactly as the provider called it: raw path and raw query, never rebuilt."""
        query = self.query_string.decode("latin-1")
        return f"{self.public_base_url}{self.path}{'?' + query if query else ''}"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    content: bytes = b""
    media_type: str | None = None

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), "application/json")


@dataclass(frozen=True)
class Handled:
    """What to store (None: a handshake, nothing to store) and what to answer."""

    event: NormalizedEvent | None
    reply: Reply = field(default_factory=Reply)


class WebhookProvider(Protocol):
    def verify(self, inbound: Inbound, credentials: Mapping[str, Any], now: float) -> None: ...

    def normalize(self, inbound: Inbound) -> Handled: ...


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson also refuses valid JSON with a lone surrogate escape; the store replaces those.
        try:
            value = json.loads(body, parse_constant=_not_json)
        except ValueError:  # also UnicodeDecodeError, for bytes that are not text
            raise Malformed("body is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("body is not a JSON object")
    return value


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")  # json.loads would read NaN and Infinity
