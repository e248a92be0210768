"""Fake Discord REST API (v10) server for tests.

Speaks the wire format documented at https://discord.com/developers/docs/reference
over real HTTP on loopback, so code under test can point ``DISCORD_API_URL`` at
``FakeDiscordAPI.url`` (which already ends in ``/api/v10``):

* bots authenticate with ``Authorization: Bot <token>``
  (https://discord.com/developers/docs/reference#authentication); a missing,
  unknown or revoked token is HTTP 401 ``{"message": "401: Unauthorized",
  "code": 0}``;
* Discord requires ``User-Agent: DiscordBot ($url, $versionNumber)``
  (https://discord.com/developers/docs/reference#user-agent). Real Discord
  lets Cloudflare block offenders with an HTML page; the fake instead answers
  HTTP 400 ``{"message": "Bad User-Agent", "code": 0}`` to any request whose
  User-Agent does not start with ``DiscordBot``, before routing or auth;
* errors are ``{"message": ..., "code": N}`` with the JSON error codes of
  https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
  (``10004`` Unknown Guild, ``50001`` Missing Access, ``50013`` Missing
  Permissions);
* rate limits are HTTP 429 with ``Retry-After`` (whole seconds, rounded up),
  ``X-RateLimit-*`` headers and ``{"message", "retry_after", "global"}`` with
  ``retry_after`` in (float) seconds
  (https://discord.com/developers/docs/topics/rate-limits);
* an unknown path is 404 ``{"message": "404: Not Found", "code": 0}`` and a
  known path with the wrong method is 405 ``{"message": "405: Method Not
  Allowed", "code": 0}``.

Implemented endpoints: ``GET /users/@me``
(https://discord.com/developers/docs/resources/user#get-current-user) and
``GET /guilds/{guild.id}/channels``
(https://discord.com/developers/docs/resources/guild#get-guild-channels).
Channels are returned in insertion order with ``guild_id`` filled in.
"""

from __future__ import annotations

import copy
import http
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.faults import FaultyFake
from tests.support import secret_scan

__all__ = ["FakeDiscordAPI", "RecordedRequest"]

_PREFIX = "/api/v10"
_RATE_LIMIT = 5
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_DENIALS = {50001: "Missing Access", 50013: "Missing Permissions"}

Params = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP call received by the fake.

    ``path`` is the full request path (including ``/api/v10``); ``headers``
    have lower-cased names; ``token`` is the ``Bot`` token sent, or ``None``.
    """

    method: str
    path: str
    headers: dict[str, str]
    token: str | None


@dataclass
class _Bot:
    """Server-side state behind one bot token."""

    user_id: str
    username: str
    guilds: dict[str, list[Params]]
    denied: dict[str, int] = field(default_factory=dict)  # guild id -> JSON error code
    revoked: bool = False


@dataclass(frozen=True)
class _RateLimit:
    retry_after: float
    global_: bool


class _ApiError(Exception):
    """A Discord error answer: HTTP ``status`` with ``{"message", "code"}``."""

    def __init__(self, status: int, message: str, code: int = 0) -> None:
        super().__init__(status, message, code)
        self.status = status
        self.message = message
        self.code = code


_Handler = Callable[[_Bot, dict[str, str]], Any]


class FakeDiscordAPI(FaultyFake[RecordedRequest, _RateLimit]):
    """Discord REST API v10 stand-in served by uvicorn in a background thread."""

    url_path = _PREFIX

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._bots: dict[str, _Bot] = {}
        # (path pattern relative to /api/v10, method) -> handler
        self._routes: list[tuple[re.Pattern[str], str, _Handler]] = [
            (re.compile(r"^/users/@me$"), "GET", self._get_current_user),
            (
                re.compile(r"^/guilds/(?P<guild_id>[^/]+)/channels$"),
                "GET",
                self._get_guild_channels,
            ),
        ]
        self._app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=_ALL_METHODS)])

    # -- state ---------------------------------------------------------------

    def add_bot(
        self,
        token: str,
        *,
        user_id: str = "1100000000000000001",
        username: str = "switchboard",
        guilds: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        """Register (or replace) the bot user behind ``token``.

        ``guilds`` maps guild id -> channel objects (``id``, ``type`` — 0 text,
        2 voice, 4 category — ``name``, ``position``, ``parent_id``, ``nsfw``);
        missing keys get defaults and ``guild_id`` is filled in.
        """
        bot = _Bot(
            user_id=user_id,
            username=username,
            guilds={
                guild_id: _normalise_channels(guild_id, channels)
                for guild_id, channels in (guilds or {}).items()
            },
        )
        secret_scan.remember(token)
        with self._lock:
            self._bots[token] = bot

    def revoke(self, token: str) -> None:
        """Make later calls with ``token`` answer ``401 Unauthorized``."""
        with self._lock:
            self._bots[token].revoked = True

    def deny_guild(self, token: str, guild_id: str, code: int = 50001) -> None:
        """Make ``guild_id`` answer 403 to ``token``: ``Missing Access`` (50001) or
        ``Missing Permissions`` (50013)."""
        if code not in _DENIALS:
            raise ValueError(f"code must be one of {sorted(_DENIALS)}, got {code}")
        with self._lock:
            self._bots[token].denied[guild_id] = code

    def rate_limit_next(self, n: int, retry_after: float = 0.5, global_: bool = False) -> None:
        """Answer the next ``n`` calls with HTTP 429 (per-user or global limit)."""
        if retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        self._log.rate_limit(n, _RateLimit(retry_after, global_))

    # -- HTTP ----------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        """Record the call, apply injected faults, then dispatch it."""
        token = _bot_token(request.headers.get("authorization"))
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers=dict(request.headers),
            token=token,
        )
        fault = await self._suffer(recorded)
        limit, status = fault.rate_limit, fault.status
        if limit is not None:
            return _rate_limited(limit)
        if status is not None:
            message = http.HTTPStatus(status).phrase
            return _error(_ApiError(status, message))
        try:
            return JSONResponse(self._dispatch(request, token))
        except _ApiError as exc:
            return _error(exc)

    def _dispatch(self, request: Request, token: str | None) -> Any:
        if not request.headers.get("user-agent", "").startswith("DiscordBot"):
            raise _ApiError(400, "Bad User-Agent")
        path = request.url.path
        if not path.startswith(_PREFIX + "/"):
            raise _ApiError(404, "404: Not Found")
        path = path[len(_PREFIX) :]
        matched = [(m, method, h) for p, method, h in self._routes if (m := p.match(path))]
        if not matched:
            raise _ApiError(404, "404: Not Found")
        allowed = [(m, h) for m, method, h in matched if method == request.method]
        if not allowed:
            raise _ApiError(405, "405: Method Not Allowed")
        match, handler = allowed[0]
        with self._lock:
            bot = self._bots.get(token) if token is not None else None
            if bot is None or bot.revoked:
                raise _ApiError(401, "401: Unauthorized")
            return copy.deepcopy(handler(bot, match.groupdict()))

    # -- endpoints (called with the lock held) ---------------------------------

    def _get_current_user(self, bot: _Bot, _args: dict[str, str]) -> Params:
        """https://discord.com/developers/docs/resources/user#get-current-user"""
        return {
            "id": bot.user_id,
            "username": bot.username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "flags": 0,
        }

    def _get_guild_channels(self, bot: _Bot, args: dict[str, str]) -> list[Params]:
        """https://discord.com/developers/docs/resources/guild#get-guild-channels"""
        guild_id = args["guild_id"]
        code = bot.denied.get(guild_id)
        if code is not None:
            raise _ApiError(403, _DENIALS[code], code)
        channels = bot.guilds.get(guild_id)
        if channels is None:
            raise _ApiError(404, "Unknown Guild", 10004)
        return channels


# -- helpers -----------------------------------------------------------------


def _error(exc: _ApiError) -> JSONResponse:
    """Discord error body ``{"message", "code"}`` with HTTP ``exc.status``."""
    return JSONResponse({"message": exc.message, "code": exc.code}, status_code=exc.status)


def _rate_limited(limit: _RateLimit) -> JSONResponse:
    """https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit"""
    headers = {
        "Retry-After": str(math.ceil(limit.retry_after)),
        "X-RateLimit-Limit": str(_RATE_LIMIT),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + limit.retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{limit.retry_after:.3f}",
        "X-RateLimit-Scope": "global" if limit.global_ else "user",
    }
    if limit.global_:
        headers["X-RateLimit-Global"] = "true"
    return JSONResponse(
        {
            "message": "You are being rate limited.",
            "retry_after": float(limit.retry_after),
            "global": limit.global_,
        },
        status_code=429,
        headers=headers,
    )


def _bot_token(header: str | None) -> str | None:
    """Token from ``Authorization: Bot <token>``; ``None`` for any other scheme."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bot" else None


def _normalise_channels(guild_id: str, channels: list[Params]) -> list[Params]:
    """Copy channel objects, filling in defaults for the documented fields."""
    result: list[Params] = []
    for position, channel in enumerate(channels):
        if "id" not in channel:
            raise ValueError("every channel needs an 'id'")
        full: Params = {
            "id": str(channel["id"]),
            "type": 0,
            "guild_id": guild_id,
            "name": f"channel-{position}",
            "position": position,
            "parent_id": None,
            "nsfw": False,
        }
        full.update(copy.deepcopy(channel))
        full["id"] = str(full["id"])
        result.append(full)
    return result
