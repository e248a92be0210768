"""Slack Web API client: the calls Switchboard makes to validate and sync a workspace.

Slack answers most errors as HTTP 200 with `{"ok": false, "error": …}`, and rate limits as
429 with `Retry-After` (https://api.slack.com/web#responses, https://api.slack.com/apis/rate-limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.providers.errors import (
    AuthExpired,
    InsufficientPermissions,
    InvalidCredentials,
    PlatformError,
    ProviderError,
    RateLimited,
)
from shared.providers.http import retry_after, send, shared_client

# https://api.slack.com/methods/auth.test#errors and the common errors of every method.
_ERRORS: dict[str, type[ProviderError]] = {
    "not_authed": InvalidCredentials,
    "invalid_auth": InvalidCredentials,
    "not_allowed_token_type": InvalidCredentials,
    "token_revoked": AuthExpired,
    "token_expired": AuthExpired,
    "account_inactive": AuthExpired,
    "team_access_not_granted": AuthExpired,
    "missing_scope": InsufficientPermissions,
    "ratelimited": PlatformError,  # only with a 429, handled before this table
}


MAX_PAGES = 100  # 20,000 conversations, and never an endless loop
# Slack limits each method per workspace by tier; the budget follows the method's tier.
_TIER2_METHODS = frozenset({"conversations.list"})


@dataclass(frozen=True)
class SlackIdentity:
    team_id: str
    team: str
    bot_user_id: str
    scopes: tuple[str, ...]


class SlackClient:
    def __init__(self, api_url: str, bot_token: str, client: httpx.Client | None = None) -> None:
        self._api_url = api_url.rstrip("/")
        self._token = bot_token
        self._client = client or shared_client()

    def auth_test(self) -> SlackIdentity:
        response, body = self._call("auth.test")
        scopes = response.headers.get("x-oauth-scopes", "")
        return SlackIdentity(
            team_id=str(body.get("team_id", "")),
            team=str(body.get("team", "")),
            bot_user_id=str(body.get("user_id", "")),
            scopes=tuple(s for s in scopes.split(",") if s),
        )

    def conversations(self, private: bool) -> list[dict[str, Any]]:
        """Every non-archived conversation the bot can see, following `next_cursor`."""
        types = "public_channel,private_channel" if private else "public_channel"
        found: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            _, body = self._call(
                "conversations.list", types=types, exclude_archived="true", limit=200, cursor=cursor
            )
            found += [c for c in body.get("channels", []) if isinstance(c, dict)]
            metadata = body.get("response_metadata")
            cursor = metadata.get("next_cursor", "") if isinstance(metadata, dict) else ""
            if not cursor:
                break
        return found

    def _call(self, method: str, **params: Any) -> tuple[httpx.Response, dict[str, Any]]:
        response, body = send(
            self._client,
            f"Slack {method}",
            "POST",
            f"{self._api_url}/{method}",
            data=params,
            headers={"Authorization": f"Bearer {self._token}"},
            budget=("slack.tier2" if method in _TIER2_METHODS else "slack.tier4", self._token),
        )
        if response.status_code == 429:
            raise RateLimited(f"Slack {method} rate limited", retry_after=retry_after(response))
        if response.status_code >= 400:
            raise PlatformError(f"Slack {method}: HTTP {response.status_code}")
        if not isinstance(body, dict):
            raise PlatformError(f"Slack {method}: response is not JSON")
        if not body.get("ok"):
            raise _error(method, body)
        return response, body


def _error(method: str, body: dict[str, Any]) -> ProviderError:
    code = str(body.get("error", "unknown_error"))
    kind = _ERRORS.get(code, PlatformError)
    if kind is InsufficientPermissions:
        needed = [s for s in str(body.get("needed", "")).split(",") if s]
        return InsufficientPermissions(f"Slack {method}: {code}", required_scopes=needed)
    return kind(f"Slack {method}: {code}")
