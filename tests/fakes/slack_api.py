"""Fake Slack Web API server for tests.

Speaks the wire format documented at https://api.slack.com/web over real HTTP
on loopback, so code under test can point ``SLACK_API_URL`` at it:

* every Slack-level error is HTTP 200 with ``{"ok": false, "error": "..."}``;
* rate limiting is HTTP 429 with a ``Retry-After`` header (seconds) and
  ``{"ok": false, "error": "ratelimited"}``;
* cursor pagination uses ``response_metadata.next_cursor`` (``""`` on the
  last page);
* tokens come from ``Authorization: Bearer ...`` or a ``token`` parameter in
  the query string or a form body (a JSON body must use the header).

Only ``auth.test`` and ``conversations.list`` are implemented; any other
method answers ``unknown_method``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import email.policy
import http
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.faults import SecondsFaultyFake
from tests.support import secret_scan

__all__ = ["FakeSlackAPI", "RecordedRequest"]

_DEFAULT_LIMIT = 100
_MAX_LIMIT = 1000
_CURSOR_PREFIX = "team:"
# conversations.list ``types`` value -> scope needed to list it.
_TYPE_SCOPES = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "mpim": "mpim:read",
    "im": "im:read",
}

Params = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP call received by the fake."""

    method: str
    path: str
    api_method: str
    headers: dict[str, str]
    params: Params
    received_at: float = field(default_factory=time.time)  # wall clock, as rate limits count


@dataclass
class _Workspace:
    """Server-side state behind one bot token."""

    team_id: str
    team: str
    team_url: str
    user: str
    user_id: str
    bot_id: str
    scopes: tuple[str, ...]
    channels: list[dict[str, Any]]
    revoked: bool = False
    refusal: str | None = None  # an error every call answers, e.g. ``account_inactive``


class _ParamsError(Exception):
    """Request body could not be decoded; ``args[0]`` is the Slack error code."""


_Handler = Callable[[_Workspace, Params], Params]


class FakeSlackAPI(SecondsFaultyFake[RecordedRequest]):
    """Slack Web API stand-in served by uvicorn in a background thread."""

    url_path = "/api"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._workspaces: dict[str, _Workspace] = {}
        self._handlers: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "conversations.list": self._conversations_list,
        }
        self._app = Starlette(
            routes=[Route("/api/{method:str}", self._endpoint, methods=["GET", "POST"])]
        )

    # -- state ---------------------------------------------------------------

    def add_workspace(
        self,
        token: str,
        *,
        team_id: str = "T0001",
        team: str = "Acme",
        user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        scopes: Iterable[str] = ("channels:read", "chat:write"),
        channels: list[dict[str, Any]] | None = None,
        user: str = "switchboard",
        team_url: str = "https://acme.slack.com/",
    ) -> None:
        """Register (or replace) the workspace a bot token belongs to."""
        workspace = _Workspace(
            team_id=team_id,
            team=team,
            team_url=team_url,
            user=user,
            user_id=user_id,
            bot_id=bot_id,
            scopes=tuple(scopes),
            channels=_normalise_channels(channels or []),
        )
        secret_scan.remember(token)
        with self._lock:
            self._workspaces[token] = workspace

    def revoke(self, token: str) -> None:
        """Make later calls with ``token`` answer ``token_revoked``."""
        with self._lock:
            self._workspaces[token].revoked = True

    def refuse(self, token: str, error: str) -> None:
        """Make later calls with ``token`` answer ``{"ok": false, "error": error}``, e.g.
        ``account_inactive`` (user or workspace deleted) or ``token_expired``."""
        with self._lock:
            self._workspaces[token].refusal = error

    # -- HTTP ----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Record the call, apply injected faults, then dispatch it."""
        api_method: str = request.path_params["method"]
        params: Params = dict(request.query_params)
        parse_error: str | None = None
        try:
            body = await _parse_body(request)
        except _ParamsError as exc:
            parse_error, body = str(exc), {}
        is_json = request.headers.get("content-type", "").startswith("application/json")
        # Slack only reads a token from form bodies, never from JSON bodies.
        body_token = None if is_json else _as_str(body.get("token"))
        params.update(body)
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            api_method=api_method,
            headers=dict(request.headers),
            params=params,
        )
        fault = await self._suffer(recorded)
        retry_after, status = fault.rate_limit, fault.status
        if retry_after is not None:
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(retry_after)},
            )
        if status is not None:
            return PlainTextResponse(http.HTTPStatus(status).phrase, status_code=status)
        if parse_error is not None:
            return _error(parse_error)
        handler = self._handlers.get(api_method)
        if handler is None:
            return _error("unknown_method")
        token = _bearer_token(request.headers.get("authorization"))
        token = token or body_token or _as_str(request.query_params.get("token"))
        if not token:
            return _error("not_authed")
        with self._lock:
            found = self._workspaces.get(token)
            workspace = copy.deepcopy(found) if found is not None else None
        if workspace is None:
            return _error("invalid_auth")
        if workspace.revoked:
            return _error("token_revoked")
        if workspace.refusal is not None:
            return _error(workspace.refusal)
        return JSONResponse(
            handler(workspace, params), headers={"x-oauth-scopes": ",".join(workspace.scopes)}
        )

    # -- methods -------------------------------------------------------------

    def _auth_test(self, workspace: _Workspace, _params: Params) -> Params:
        """https://api.slack.com/methods/auth.test"""
        return {
            "ok": True,
            "url": workspace.team_url,
            "team": workspace.team,
            "user": workspace.user,
            "team_id": workspace.team_id,
            "user_id": workspace.user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    def _conversations_list(self, workspace: _Workspace, params: Params) -> Params:
        """https://api.slack.com/methods/conversations.list"""
        types = [t.strip() for t in str(params.get("types") or "").split(",") if t.strip()]
        types = types or ["public_channel"]
        if any(t not in _TYPE_SCOPES for t in types):
            return {"ok": False, "error": "invalid_types"}
        for kind in types:
            if _TYPE_SCOPES[kind] not in workspace.scopes:
                return {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": _TYPE_SCOPES[kind],
                    "provided": ",".join(workspace.scopes),
                }
        limit = _parse_limit(params.get("limit"))
        if limit is None:
            return {"ok": False, "error": "invalid_limit"}
        exclude_archived = _truthy(params.get("exclude_archived"))
        channels = [
            c
            for c in workspace.channels
            if _conversation_type(c) in types and not (exclude_archived and c.get("is_archived"))
        ]
        start = _decode_cursor(params.get("cursor"), channels)
        if start is None:
            return {"ok": False, "error": "invalid_cursor"}
        end = start + limit
        next_cursor = _encode_cursor(channels[end]["id"]) if end < len(channels) else ""
        return {
            "ok": True,
            "channels": channels[start:end],
            "response_metadata": {"next_cursor": next_cursor},
        }


# -- helpers -----------------------------------------------------------------


def _error(code: str) -> JSONResponse:
    """Slack-style error: HTTP 200 with ``ok: false``."""
    return JSONResponse({"ok": False, "error": code})


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _truthy(value: object) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def _bearer_token(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


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
            raise _ParamsError("invalid_json") from None
        if not isinstance(data, dict):
            raise _ParamsError("json_not_object")
        return data
    if content_type.startswith("multipart/form-data"):
        return _parse_multipart(body, content_type)
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        raise _ParamsError("invalid_form_data") from None


def _parse_multipart(body: bytes, content_type: str) -> Params:
    """Decode the text fields of a ``multipart/form-data`` body."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    message = BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    if not message.is_multipart():
        raise _ParamsError("invalid_form_data")
    fields: Params = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields


def _parse_limit(value: object) -> int | None:
    """Default 100, capped at 1000; ``None`` if not a positive integer."""
    if value is None or value == "":
        return _DEFAULT_LIMIT
    if isinstance(value, bool):
        return None
    try:
        limit = int(str(value))
    except ValueError:
        return None
    return min(limit, _MAX_LIMIT) if limit > 0 else None


def _encode_cursor(channel_id: str) -> str:
    """Opaque cursor in Slack's style, e.g. ``dGVhbTpDMDYxRkE1UEI=``."""
    return base64.b64encode(f"{_CURSOR_PREFIX}{channel_id}".encode()).decode()


def _decode_cursor(cursor: object, channels: Sequence[Mapping[str, Any]]) -> int | None:
    """Index of the page start a cursor points at; ``None`` if invalid."""
    if cursor is None or cursor == "":
        return 0
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not decoded.startswith(_CURSOR_PREFIX):
        return None
    channel_id = decoded.removeprefix(_CURSOR_PREFIX)
    for index, channel in enumerate(channels):
        if channel["id"] == channel_id:
            return index
    return None


def _conversation_type(channel: Mapping[str, Any]) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    return "private_channel" if channel.get("is_private") else "public_channel"


def _normalise_channels(channels: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copy conversation objects, filling Slack's boolean flags with defaults."""
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for channel in channels:
        conversation = copy.deepcopy(dict(channel))
        channel_id = conversation.get("id")
        if not isinstance(channel_id, str) or not channel_id or channel_id in seen:
            raise ValueError(f"each channel needs a unique string 'id': {channel!r}")
        seen.add(channel_id)
        is_dm = bool(conversation.get("is_im") or conversation.get("is_mpim"))
        conversation.setdefault("is_channel", not is_dm)
        for flag in ("is_group", "is_im", "is_mpim", "is_private", "is_archived"):
            conversation.setdefault(flag, False)
        result.append(conversation)
    return result
