"""Fake Whapi.Cloud Gate API server for tests.

Speaks the Gate API wire format (https://whapi.readme.io/reference) over real
HTTP on loopback, so code under test can point its Whapi base URL at
``FakeWhapiAPI.url``:

* auth is ``Authorization: Bearer <channel token>``; a missing, unknown or
  revoked token is 401. Unknown paths are 404 and wrong methods 405, before auth;
* errors are ``{"error": {"code": N, "message": ..., "details": ...}}``
  (``details`` optional) with HTTP status ``N``, Whapi's ``ResponseError``
  (https://whapi.cloud/docs/whatsapp/api/errors); rate limiting is 429 with a
  ``Retry-After`` header;
* ``GET /health?wakeup=`` reports ``status`` ``{"code", "text"}`` with the codes of
  https://support.whapi.cloud/help-desk/receiving/webhooks/incoming-webhooks-format/account-and-device-status
  and ``user`` once a phone is linked. ``wakeup`` defaults to true; calls that
  wake the channel are counted so tests can prove polling never does;
* ``GET /users/login`` answers a fresh QR (PNG data URL and ``rowdata``) on
  every call while unlinked, 409 once linked;
* ``GET``/``PATCH /settings``: a PATCH replaces each top-level key it names
  (``webhooks`` as a whole list) and answers the full settings. Webhook modes
  and event types follow
  https://support.whapi.cloud/help-desk/receiving/webhooks/detailed-webhook-settings;
  unlike Whapi, ``http://`` webhook URLs are accepted for loopback receivers;
* ``GET /groups?count=&offset=`` pages through the groups of the linked phone.

The fake never delivers webhooks.
"""

from __future__ import annotations

import copy
import http
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.faults import SecondsFaultyFake
from tests.support import secret_scan

__all__ = ["FakeWhapiAPI", "RecordedRequest"]

Params = dict[str, Any]

VERSION = "1.8.3"
STATUS_CODES = {"INIT": 1, "LAUNCH": 2, "QR": 3, "AUTH": 4, "ERROR": 5}
# A real 1x1 PNG, so clients that decode the QR image get valid bytes.
QR_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
    "AAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
QR_EXPIRE_SECONDS = 20

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The webhook event types of "Our webhooks (Tracked events)".
_EVENT_TYPES = frozenset(
    "messages statuses chats contacts groups presences channel users labels calls service".split()
)
_EVENT_METHODS = frozenset({"post", "put", "patch", "delete"})
_WEBHOOK_MODES = frozenset({"body", "path", "method"})
_MAX_WEBHOOK_HEADERS = 5
# Every top-level key PATCH /settings accepts; a value must have its default's type.
_DEFAULT_SETTINGS: Params = {
    "callback_backoff_delay_ms": 3000,
    "max_callback_backoff_delay_ms": 900000,
    "callback_persist": True,
    "pass_through": True,
    "sent_status": False,
    "webhooks": [],
    "media": {"auto_download": ["image", "document"], "init_avatars": False},
    "offline_mode": False,
    "full_history": False,
}
_JSON_TYPES = {bool: "boolean", int: "integer", dict: "object"}


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP call received by the fake; ``headers`` have lower-cased names and
    ``json`` is the decoded body (``None`` if absent or not JSON)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any | None


@dataclass
class _Channel:
    """Server-side state behind one channel token."""

    channel_id: str
    start_at: int
    status: tuple[int, str]
    user: dict[str, str] | None = None
    settings: Params = field(default_factory=lambda: copy.deepcopy(_DEFAULT_SETTINGS))
    groups: dict[str, Params] = field(default_factory=dict)
    last_qr: str | None = None
    wakeups: int = 0
    revoked: bool = False


class _ApiError(ValueError):
    """A Whapi error answer; ``message`` defaults to the HTTP reason phrase. A
    ``ValueError`` so that state setters can reuse the request validators."""

    def __init__(self, code: int, details: str | None = None, message: str | None = None) -> None:
        self.code = code
        self.message = message or http.HTTPStatus(code).phrase
        super().__init__(details or self.message)
        self.details = details


_Handler = Callable[[_Channel, dict[str, str], Any], Params]


class FakeWhapiAPI(SecondsFaultyFake[RecordedRequest]):
    """Whapi.Cloud Gate API stand-in served by uvicorn in a background thread."""

    url_path = ""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._routes: dict[str, dict[str, _Handler]] = {
            "/health": {"GET": self._health},
            "/users/login": {"GET": self._login},
            "/settings": {"GET": self._get_settings, "PATCH": self._patch_settings},
            "/groups": {"GET": self._groups},
        }
        self._app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_ALL_METHODS)])

    # -- state ---------------------------------------------------------------

    def add_channel(
        self, token: str, *, channel_id: str = "MANTIS-M72HC", authenticated: bool = False
    ) -> None:
        """Register (or reset) the channel behind ``token``; linked to the default
        user when ``authenticated``, else waiting for a QR scan."""
        if not token:
            raise ValueError("token must be non-empty")
        channel = _Channel(channel_id=channel_id, start_at=int(time.time()), status=(3, "QR"))
        secret_scan.remember(token)
        with self._lock:
            self._channels[token] = channel
        if authenticated:
            self.authenticate(token)

    def revoke(self, token: str) -> None:
        """Make later calls with ``token`` answer 401."""
        with self._lock:
            self._channels[token].revoked = True

    def authenticate(
        self, token: str, user_id: str = "61371989950", name: str = "Jonathan"
    ) -> None:
        """Link a phone, as a QR scan would: status AUTH, ``/users/login`` 409."""
        self._link(token, {"id": user_id, "name": name})

    def logout(self, token: str) -> None:
        """Unlink the phone: status QR, ``/users/login`` issues QR codes again."""
        self._link(token, None)

    def _link(self, token: str, user: dict[str, str] | None) -> None:
        with self._lock:
            channel = self._channels[token]
            channel.user = user
            channel.status = (4, "AUTH") if user else (3, "QR")

    def set_status(self, token: str, text: str, code: int | None = None) -> None:
        """Report ``{"code", "text"}`` in ``/health``; ``code`` defaults to the
        documented one for ``text``. Does not link or unlink the phone."""
        if code is None:
            if text not in STATUS_CODES:
                raise ValueError(f"no known code for status {text!r}; pass code=")
            code = STATUS_CODES[text]
        with self._lock:
            self._channels[token].status = (code, text)

    def settings(self, token: str) -> Params:
        """Deep copy of the channel's settings object."""
        with self._lock:
            return copy.deepcopy(self._channels[token].settings)

    def set_settings(self, token: str, settings: Params) -> None:
        """Replace the settings with the defaults updated by ``settings``,
        validated as ``PATCH /settings`` would (``ValueError`` if invalid)."""
        merged = _merge_settings(_DEFAULT_SETTINGS, settings)
        with self._lock:
            self._channels[token].settings = merged

    def add_group(
        self, token: str, group_id: str, name: str, participants: list[Params] | None = None
    ) -> None:
        """Add (or replace) a group of the linked phone, e.g. with participants
        ``[{"id": "61371989950", "rank": "creator"}]``."""
        if not group_id.endswith("@g.us"):
            raise ValueError(f"group ids end in '@g.us': {group_id!r}")
        group: Params = {
            "id": group_id,
            "name": name,
            "type": "group",
            "timestamp": int(time.time()),
            "participants": copy.deepcopy(participants or []),
        }
        with self._lock:
            self._channels[token].groups[group_id] = group

    def remove_group(self, token: str, group_id: str) -> None:
        with self._lock:
            del self._channels[token].groups[group_id]

    def rename_group(self, token: str, group_id: str, name: str) -> None:
        with self._lock:
            self._channels[token].groups[group_id]["name"] = name

    def last_qr(self, token: str) -> str | None:
        """The ``rowdata`` of the latest QR issued for the channel, if any."""
        with self._lock:
            return self._channels[token].last_qr

    def wakeups(self, token: str) -> int:
        """How many ``/health`` or ``/users/login`` calls did not pass ``wakeup=false``."""
        with self._lock:
            return self._channels[token].wakeups

    # -- HTTP ----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Record the call, apply injected faults, then dispatch it."""
        body = await request.body()
        payload, parse_error = _parse_json(body)
        query = dict(request.query_params)
        path = request.url.path
        recorded = RecordedRequest(request.method, path, query, dict(request.headers), payload)
        fault = await self._suffer(recorded)
        retry_after, status = fault.rate_limit, fault.status
        if retry_after is not None:
            limited = _ApiError(429, f"Rate limit exceeded, retry after {retry_after} seconds")
            return _error(limited, headers={"Retry-After": str(retry_after)})
        if status is not None:
            return _error(_ApiError(status))
        try:
            with self._lock:
                handler = self._route(request.method, path)
                channel = self._channel_for(request.headers.get("authorization"))
                if parse_error is not None:
                    raise _ApiError(400, parse_error)
                result = handler(channel, query, payload)
        except _ApiError as exc:
            return _error(exc)
        return JSONResponse(result)

    def _route(self, method: str, path: str) -> _Handler:
        methods = self._routes.get(path)
        if methods is None:
            raise _ApiError(404, f"No route for {path}")
        handler = methods.get(method)
        if handler is None:
            raise _ApiError(405, f"{method} is not allowed on {path}")
        return handler

    def _channel_for(self, authorization: str | None) -> _Channel:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _ApiError(401, "Missing bearer token")
        channel = self._channels.get(token.strip())
        if channel is None or channel.revoked:
            raise _ApiError(401, "Invalid or revoked token")
        return channel

    # -- endpoints (called with the lock held) --------------------------------

    def _health(self, channel: _Channel, query: dict[str, str], _body: Any) -> Params:
        """https://whapi.readme.io/reference/checkhealth"""
        self._note_wakeup(channel, query)
        code, text = channel.status
        health: Params = {
            "channel_id": channel.channel_id,
            "start_at": channel.start_at,
            "uptime": max(0, int(time.time()) - channel.start_at),
            "status": {"code": code, "text": text},
            "version": VERSION,
        }
        if channel.user is not None:
            health["user"] = dict(channel.user)
        return health

    def _login(self, channel: _Channel, query: dict[str, str], _body: Any) -> Params:
        """https://whapi.readme.io/reference/loginuser"""
        for name in ("size", "width"):
            _query_int(query, name, default=1, minimum=1)
        self._note_wakeup(channel, query)
        if channel.user is not None:
            raise _ApiError(409, message="Channel already authenticated")
        # A QR's rowdata is "<ref>,<keys...>" prefixed by its version; each call renews it.
        channel.last_qr = f"2@{secrets.token_urlsafe(33)},{secrets.token_urlsafe(24)}"
        return {
            "status": "OK",
            "base64": f"data:image/png;base64,{QR_PNG_BASE64}",
            "rowdata": channel.last_qr,
            "expire": QR_EXPIRE_SECONDS,
        }

    def _get_settings(self, channel: _Channel, _query: dict[str, str], _body: Any) -> Params:
        """https://whapi.readme.io/reference/getchannelsettings"""
        return copy.deepcopy(channel.settings)

    def _patch_settings(self, channel: _Channel, _query: dict[str, str], body: Any) -> Params:
        """https://whapi.readme.io/reference/updatechannelsettings"""
        channel.settings = _merge_settings(channel.settings, body)
        return copy.deepcopy(channel.settings)

    def _groups(self, channel: _Channel, query: dict[str, str], _body: Any) -> Params:
        """https://whapi.readme.io/reference/getgroups"""
        count = _query_int(query, "count", default=100, minimum=1, maximum=500)
        offset = _query_int(query, "offset", default=0, minimum=0)
        groups = list(channel.groups.values())
        page = copy.deepcopy(groups[offset : offset + count])
        return {"groups": page, "count": len(page), "total": len(groups), "offset": offset}

    @staticmethod
    def _note_wakeup(channel: _Channel, query: dict[str, str]) -> None:
        wakeup = query.get("wakeup", "true").lower()
        if wakeup not in {"true", "false"}:
            raise _ApiError(400, "wakeup must be true or false")
        if wakeup == "true":
            channel.wakeups += 1


# -- helpers -------------------------------------------------------------------


def _error(exc: _ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    """Whapi ``ResponseError`` envelope, sent with HTTP status ``code``."""
    error: Params = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        error["details"] = exc.details
    return JSONResponse({"error": error}, status_code=exc.code, headers=headers)


def _parse_json(body: bytes) -> tuple[Any | None, str | None]:
    """The decoded body (``None`` if empty) and a parse error, if any."""
    if not body:
        return None, None
    try:
        return json.loads(body), None
    except ValueError:
        return None, "Request body is not valid JSON"


def _query_int(
    query: dict[str, str], name: str, *, default: int, minimum: int, maximum: int | None = None
) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _ApiError(400, f"{name} must be an integer") from None
    if number < minimum or (maximum is not None and number > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise _ApiError(400, f"{name} must be >= {minimum}{upper}")
    return number


def _merge_settings(current: Params, patch: object) -> Params:
    """``current`` with each top-level key of ``patch`` replaced, validated."""
    if not isinstance(patch, dict):
        raise _ApiError(400, "Request body must be a JSON object")
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if key not in _DEFAULT_SETTINGS:
            raise _ApiError(400, f"Unknown setting {key!r}")
        if key == "webhooks":
            merged[key] = _parse_webhooks(value)
            continue
        expected = type(_DEFAULT_SETTINGS[key])
        if type(value) is not expected:  # exact: bool must not pass for int
            raise _ApiError(400, f"{key} must be of JSON type {_JSON_TYPES[expected]}")
        merged[key] = copy.deepcopy(value)
    return merged


def _parse_webhooks(value: object) -> list[Params]:
    if not isinstance(value, list):
        raise _ApiError(400, "webhooks must be an array")
    return [_parse_webhook(f"webhooks[{i}]", item) for i, item in enumerate(value)]


def _parse_webhook(where: str, item: object) -> Params:
    """One webhook, with Whapi's defaults filled in (``mode`` body, no events)."""
    if not isinstance(item, dict):
        raise _ApiError(400, f"{where} must be an object")
    unknown = sorted(set(item) - {"url", "events", "mode", "headers"})
    if unknown:
        raise _ApiError(400, f"{where} has unknown fields {unknown}")
    url = item.get("url")
    headers = item.get("headers")
    if isinstance(headers, dict):  # Switchboard's webhook token travels in a header
        secret_scan.remember(*(v for v in headers.values() if isinstance(v, str)))
    if not isinstance(url, str) or not _is_http_url(url):
        raise _ApiError(400, f"{where}.url must be an http(s) URL")
    return {
        "url": url,
        "events": _parse_events(where, item.get("events", [])),
        "mode": _one_of(f"{where}.mode", item.get("mode", "body"), _WEBHOOK_MODES),
        "headers": _parse_headers(where, item.get("headers", {})),
    }


def _parse_events(where: str, value: object) -> list[Params]:
    if not isinstance(value, list):
        raise _ApiError(400, f"{where}.events must be an array")
    events: list[Params] = []
    for i, event in enumerate(value):
        at = f"{where}.events[{i}]"
        if not isinstance(event, dict) or set(event) != {"type", "method"}:
            raise _ApiError(400, f"{at} must be an object with exactly type and method")
        type_ = _one_of(f"{at}.type", event["type"], _EVENT_TYPES)
        method = _one_of(f"{at}.method", event["method"], _EVENT_METHODS)
        events.append({"type": type_, "method": method})
    return events


def _one_of(where: str, value: object, allowed: frozenset[str]) -> str:
    # isinstance first: an unhashable JSON value must be a 400, not a crash.
    if not isinstance(value, str) or value not in allowed:
        raise _ApiError(400, f"{where} must be one of {sorted(allowed)}")
    return value


def _parse_headers(where: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _ApiError(400, f"{where}.headers must map strings to strings")
    if len(value) > _MAX_WEBHOOK_HEADERS:
        raise _ApiError(400, f"{where}.headers allows at most {_MAX_WEBHOOK_HEADERS} entries")
    return dict(value)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)
