"""Fake Telegram Bot API server for tests.

Speaks the wire format documented at https://core.telegram.org/bots/api over
real HTTP on loopback, so code under test can point ``TELEGRAM_API_URL`` at it:

* methods are called as ``GET|POST {url}/bot<token>/<method>``; method names
  are case-insensitive, and parameters come from the query string and a JSON,
  urlencoded or ``multipart/form-data`` body (body wins on conflicts);
* every answer is the Bot API envelope: ``{"ok": true, "result": ...}`` (plus
  an optional ``description``) or ``{"ok": false, "error_code": N,
  "description": "..."}`` sent with the same HTTP status ``N``;
* an unknown or revoked token is ``401 Unauthorized``; an unknown method (with
  a valid token) or a path not shaped like ``/bot<token>/<method>`` is
  ``404 Not Found``;
* flood control is HTTP 429 with ``"parameters": {"retry_after": N}`` in the
  body (see https://core.telegram.org/bots/api#responseparameters).

Implemented methods: ``getMe``, ``setWebhook``, ``deleteWebhook`` and
``getWebhookInfo`` (https://core.telegram.org/bots/api#getting-updates).
Unlike Telegram, ``setWebhook`` accepts ``http://`` URLs on any port so tests
can use loopback receivers. The fake never delivers updates.
"""

from __future__ import annotations

import copy
import email.policy
import http
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.faults import SecondsFaultyFake
from tests.support import secret_scan

__all__ = ["FakeTelegramAPI", "RecordedRequest"]

_DEFAULT_MAX_CONNECTIONS = 40
_MAX_CONNECTIONS_RANGE = range(1, 101)
_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[^/]+)$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

Params = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP call received by the fake.

    ``token`` and ``api_method`` are ``None`` when the path is not shaped like
    ``/bot<token>/<method>``; ``api_method`` keeps the caller's spelling.
    """

    method: str
    path: str
    token: str | None
    api_method: str | None
    headers: dict[str, str]
    params: Params


@dataclass
class _Bot:
    """Server-side state behind one bot token."""

    bot_id: int
    username: str
    first_name: str
    revoked: bool = False
    webhook: Params | None = None
    # Survives deleteWebhook: "If not specified, the previous setting will be used."
    allowed_updates: list[str] | None = None
    last_error: tuple[int, str] | None = None


class _ApiError(Exception):
    """A Bot API error answer: HTTP status == ``error_code``."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(error_code, description)
        self.error_code = error_code
        self.description = description


@dataclass(frozen=True)
class _Ok:
    """A successful answer: ``result`` plus an optional ``description``."""

    result: Any
    description: str | None = None


_Handler = Callable[[_Bot, Params], _Ok]


class FakeTelegramAPI(SecondsFaultyFake[RecordedRequest]):
    """Telegram Bot API stand-in served by uvicorn in a background thread."""

    url_path = ""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._bots: dict[str, _Bot] = {}
        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }
        self._handlers = {name.lower(): handler for name, handler in handlers.items()}
        self._app = Starlette(
            routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])]
        )

    # -- state ---------------------------------------------------------------

    def add_bot(
        self,
        token: str,
        *,
        bot_id: int = 7000001,
        username: str = "switchboard_bot",
        first_name: str = "Switchboard",
    ) -> None:
        """Register (or replace, dropping its webhook) the bot behind ``token``."""
        if not token or "/" in token:
            raise ValueError(f"token must be non-empty and contain no '/': {token!r}")
        bot = _Bot(bot_id=bot_id, username=username, first_name=first_name)
        secret_scan.remember(token)
        with self._lock:
            self._bots[token] = bot

    def revoke(self, token: str) -> None:
        """Make later calls with ``token`` answer ``401 Unauthorized``."""
        with self._lock:
            self._bots[token].revoked = True

    def webhook(self, token: str) -> Params | None:
        """Copy of the bot's webhook settings, or ``None`` if none is set.

        Keys: ``url``, ``secret_token`` (``None`` if unset), ``allowed_updates``
        (a list, or ``None`` if never specified), ``max_connections``,
        ``drop_pending_updates``, ``has_custom_certificate``, ``ip_address``.
        """
        with self._lock:
            bot = self._bots[token]
            if bot.webhook is None:
                return None
            settings = copy.deepcopy(bot.webhook)
            settings["allowed_updates"] = copy.copy(bot.allowed_updates)
            return settings

    def set_webhook_error(self, token: str, date: int, message: str) -> None:
        """Report ``last_error_date``/``last_error_message`` in ``getWebhookInfo``."""
        with self._lock:
            self._bots[token].last_error = (date, message)

    def clear_webhook_error(self, token: str) -> None:
        """Stop reporting a delivery error in ``getWebhookInfo``."""
        with self._lock:
            self._bots[token].last_error = None

    # -- HTTP ----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Record the call, apply injected faults, then dispatch it."""
        match = _PATH_RE.match(request.url.path)
        token = match["token"] if match else None
        api_method = match["method"] if match else None
        params: Params = dict(request.query_params)
        parse_error: str | None = None
        try:
            params.update(await _parse_body(request))
        except _ApiError as exc:
            parse_error = exc.description
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            token=token,
            api_method=api_method,
            headers=dict(request.headers),
            params=params,
        )
        fault = await self._suffer(recorded)
        retry_after, status = fault.rate_limit, fault.status
        if retry_after is not None:
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status_code=429,
            )
        if status is not None:
            return _error(status, http.HTTPStatus(status).phrase)
        if token is None or api_method is None:
            return _error(404, "Not Found")
        with self._lock:
            bot = self._bots.get(token)
            if bot is None or bot.revoked:
                return _error(401, "Unauthorized")
            handler = self._handlers.get(api_method.lower())
            if handler is None:
                return _error(404, "Not Found")
            if parse_error is not None:
                return _error(400, parse_error)
            try:
                ok = handler(bot, params)
            except _ApiError as exc:
                return _error(exc.error_code, exc.description)
            body: Params = {"ok": True, "result": copy.deepcopy(ok.result)}
        if ok.description is not None:
            body["description"] = ok.description
        return JSONResponse(body)

    # -- methods (called with the lock held) ----------------------------------

    def _get_me(self, bot: _Bot, _params: Params) -> _Ok:
        """https://core.telegram.org/bots/api#getme"""
        return _Ok(
            {
                "id": bot.bot_id,
                "is_bot": True,
                "first_name": bot.first_name,
                "username": bot.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    def _set_webhook(self, bot: _Bot, params: Params) -> _Ok:
        """https://core.telegram.org/bots/api#setwebhook"""
        url = params.get("url")
        if url is None or url == "":
            # An empty URL removes the webhook, as deleteWebhook does.
            return self._delete_webhook(bot, params)
        if not isinstance(url, str) or not _is_http_url(url):
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret_token = params.get("secret_token")
        if secret_token == "":
            secret_token = None
        if secret_token is not None and (
            not isinstance(secret_token, str) or not _SECRET_TOKEN_RE.match(secret_token)
        ):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        secret_scan.remember(secret_token)  # issued by Switchboard: it must not show either
        allowed_updates = _parse_allowed_updates(params.get("allowed_updates"))
        max_connections = _parse_int(params.get("max_connections"), "max_connections")
        if max_connections is None:
            max_connections = _DEFAULT_MAX_CONNECTIONS
        if max_connections not in _MAX_CONNECTIONS_RANGE:
            raise _ApiError(400, "Bad Request: bad webhook: max_connections must be 1-100")
        ip_address = params.get("ip_address")
        settings: Params = {
            "url": url,
            "secret_token": secret_token,
            "max_connections": max_connections,
            "drop_pending_updates": _parse_bool(
                params.get("drop_pending_updates"), "drop_pending_updates"
            ),
            "has_custom_certificate": params.get("certificate") not in (None, ""),
            "ip_address": ip_address if isinstance(ip_address, str) and ip_address else None,
        }
        if allowed_updates is not None:
            bot.allowed_updates = allowed_updates
        unchanged = bot.webhook is not None and _same_webhook(bot.webhook, settings)
        bot.webhook = settings
        return _Ok(True, "Webhook is already set" if unchanged else "Webhook was set")

    def _delete_webhook(self, bot: _Bot, params: Params) -> _Ok:
        """https://core.telegram.org/bots/api#deletewebhook"""
        _parse_bool(params.get("drop_pending_updates"), "drop_pending_updates")
        if bot.webhook is None:
            return _Ok(True, "Webhook is already deleted")
        bot.webhook = None
        return _Ok(True, "Webhook was deleted")

    def _get_webhook_info(self, bot: _Bot, _params: Params) -> _Ok:
        """https://core.telegram.org/bots/api#getwebhookinfo"""
        webhook = bot.webhook
        info: Params = {
            "url": webhook["url"] if webhook else "",
            "has_custom_certificate": bool(webhook and webhook["has_custom_certificate"]),
            "pending_update_count": 0,
        }
        if webhook is not None:
            if webhook["ip_address"] is not None:
                info["ip_address"] = webhook["ip_address"]
            info["max_connections"] = webhook["max_connections"]
        if bot.allowed_updates is not None:
            info["allowed_updates"] = list(bot.allowed_updates)
        if bot.last_error is not None:
            info["last_error_date"], info["last_error_message"] = bot.last_error
        return _Ok(info)


# -- helpers -----------------------------------------------------------------


def _error(error_code: int, description: str) -> JSONResponse:
    """Bot API error envelope, sent with HTTP status ``error_code``."""
    return JSONResponse(
        {"ok": False, "error_code": error_code, "description": description},
        status_code=error_code,
    )


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _same_webhook(old: Params, new: Params) -> bool:
    """Whether a setWebhook call repeats the current settings."""
    keys = ("url", "secret_token", "max_connections", "has_custom_certificate", "ip_address")
    return all(old[key] == new[key] for key in keys)


def _parse_bool(value: object, name: str) -> bool:
    """Bot API Boolean: JSON ``true``/``false`` or their form spellings."""
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
        return value.lower() in {"true", "1"}
    raise _ApiError(400, f'Bad Request: field "{name}" must be of type Boolean')


def _parse_int(value: object, name: str) -> int | None:
    """Bot API Integer (JSON number or decimal string); ``None`` if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _ApiError(400, f'Bad Request: field "{name}" must be of type Integer')


def _parse_allowed_updates(value: object) -> list[str] | None:
    """A JSON array of strings, or a JSON-encoded string of one; ``None`` if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse allowed updates") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _ApiError(400, "Bad Request: can't parse allowed updates")
    return list(value)


async def _parse_body(request: Request) -> Params:
    """Decode a urlencoded, multipart or JSON request body into parameters."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if not body:
        return {}
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            raise _ApiError(400, "Bad Request: can't parse JSON") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "Bad Request: JSON body must be an object")
        return data
    if content_type.startswith("multipart/form-data"):
        return _parse_multipart(body, content_type)
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise _ApiError(400, "Bad Request: can't parse form data") from None


def _parse_multipart(body: bytes, content_type: str) -> Params:
    """Decode the fields of a ``multipart/form-data`` body (files as text)."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    message = BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        raise _ApiError(400, "Bad Request: can't parse form data")
    fields: Params = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields
