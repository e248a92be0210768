"""Discord REST API client (https://discord.com/developers/docs/reference).

Discord needs `User-Agent: DiscordBot ($url, $version)` on every request, answers errors as
`{"message", "code"}` (10004 Unknown Guild, 50001 Missing Access, 50013 Missing Permissions)
and rate limits as 429 with `retry_after` in the body, in seconds, as a float
(https://discord.com/developers/docs/topics/rate-limits). Clients that keep sending invalid
requests get restricted, so 401s are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.providers.errors import (
    InsufficientPermissions,
    InvalidCredentials,
    PlatformError,
    ProviderError,
    RateLimited,
)
from shared.providers.http import retry_after, send, shared_client

USER_AGENT = "DiscordBot (https://github.com/switchboard-dev/switchboard, 0.1.0)"
_NO_ACCESS = {50001: "Missing Access", 50013: "Missing Permissions"}


@dataclass(frozen=True)
class DiscordBot:
    id: str
    username: str


class DiscordClient:
    def __init__(self, api_url: str, bot_token: str, client: httpx.Client | None = None) -> None:
        self._api_url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Bot {bot_token}", "User-Agent": USER_AGENT}
        self._budget = ("discord", bot_token)
        self._client = client or shared_client()

    def me(self) -> DiscordBot:
        user = self._get("/users/@me")
        return DiscordBot(id=str(user.get("id", "")), username=str(user.get("username", "")))

    def guild_channels(self, guild_id: str) -> list[dict[str, Any]]:
        channels = self._get(f"/guilds/{guild_id}/channels")
        return [c for c in channels if isinstance(c, dict)] if isinstance(channels, list) else []

    def _get(self, path: str) -> Any:
        url = self._api_url + path
        response, body = send(
            self._client, f"Discord {path}", "GET", url, headers=self._headers, budget=self._budget
        )
        if response.is_success and body is not None:
            return body
        # Errors usually carry JSON; a proxy's 429 or 5xx page may not, and is mapped all the same.
        raise _error(path, response, body if isinstance(body, dict) else {})


def _error(path: str, response: httpx.Response, body: dict[str, Any]) -> ProviderError:
    status, code = response.status_code, body.get("code")
    message = f"Discord {path}: {str(body.get('message', status))[:200]}"
    if status == 429:  # the body's `retry_after` is a float in seconds; the header rounds it
        in_body = body.get("retry_after")
        if isinstance(in_body, int | float) and not isinstance(in_body, bool):
            return RateLimited(message, retry_after=float(in_body))
        return RateLimited(message, retry_after=retry_after(response))
    if status == 401:
        return InvalidCredentials(message)
    if status == 403 or code in _NO_ACCESS:
        return InsufficientPermissions(message)
    if code == 10004:  # Unknown Guild: the bot is not in the guild given
        return InvalidCredentials(message)
    return PlatformError(message)
