"""Telegram Bot API client (https://core.telegram.org/bots/api#making-requests).

Every answer is `{"ok": bool, "result" | "error_code", "description", "parameters"}`; a 429
carries `parameters.retry_after` in seconds. The token is part of the URL path, so URLs are
never logged (see shared.logging_setup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.providers.errors import (
    InvalidCredentials,
    PlatformError,
    ProviderError,
    RateLimited,
    RequestRejected,
)
from shared.providers.http import send, shared_client

# The updates a channel needs; explicit, because Telegram otherwise keeps the previous list.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
)


@dataclass(frozen=True)
class TelegramBot:
    id: int
    username: str


class TelegramClient:
    def __init__(self, api_url: str, bot_token: str, client: httpx.Client | None = None) -> None:
        self._base = f"{api_url.rstrip('/')}/bot{bot_token}"
        self._budget = ("telegram", bot_token)
        self._client = client or shared_client()

    def get_me(self) -> TelegramBot:
        result = self._call("getMe")
        return TelegramBot(id=int(result["id"]), username=str(result.get("username", "")))

    def set_webhook(self, url: str, secret_token: str) -> None:
        self._call(
            "setWebhook",
            url=url,
            secret_token=secret_token,
            allowed_updates=list(ALLOWED_UPDATES),
        )

    def get_webhook_info(self) -> dict[str, Any]:
        info = self._call("getWebhookInfo")
        return info if isinstance(info, dict) else {}

    def _call(self, method: str, **params: Any) -> Any:
        url = f"{self._base}/{method}"  # holds the token: never in a message
        response, body = send(
            self._client, f"Telegram {method}", "POST", url, json=params, budget=self._budget
        )
        if not isinstance(body, dict):
            raise PlatformError(f"Telegram {method}: HTTP {response.status_code}")
        if body.get("ok") is True:
            return body.get("result")
        raise _error(method, response.status_code, body)


def _error(method: str, status: int, body: dict[str, Any]) -> ProviderError:
    description = str(body.get("description", ""))[:200]
    message = f"Telegram {method}: {description or status}"
    if status == 429:
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        retry_after = parameters.get("retry_after", 1) if isinstance(parameters, dict) else 1
        return RateLimited(message, retry_after=float(retry_after))
    if status in (401, 404):  # 404: a malformed token (the bot path does not exist)
        return InvalidCredentials(message)
    if status == 400:  # "Bad Request: bad webhook: …": the same request fails the same way
        return RequestRejected(message)
    return PlatformError(message)
