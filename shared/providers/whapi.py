"""Whapi.Cloud Gate API client (https://whapi.readme.io/reference).

Bearer token per channel; errors are `{"error": {"code", "message", "details"?}}` with the same
HTTP status; 429 carries `Retry-After`. `GET /users/login` answers a QR code to scan, or 409 when
the channel is already authenticated. `GET /health?wakeup=false` reads the channel's state
without waking a sleeping channel.
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
from shared.providers.http import retry_after, send, shared_client

# What Switchboard asks Whapi to send (https://support.whapi.cloud/help-desk/receiving/webhooks).
WEBHOOK_EVENTS = (
    ("channel", "post"),
    ("channel", "patch"),
    ("users", "post"),
    ("users", "delete"),
    ("messages", "post"),
    ("statuses", "post"),
)


_PAGE, _MAX_PAGES = 500, 40


@dataclass(frozen=True)
class LoginQR:
    qr_data: str  # the text encoded in the QR code (`rowdata`)
    qr_image_base64: str  # PNG, base64, without the `data:` prefix


class WhapiRejected(RequestRejected):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class WhapiClient:
    def __init__(self, api_url: str, token: str, client: httpx.Client | None = None) -> None:
        self._api_url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._budget = ("whapi", token)
        self._client = client or shared_client()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health", params={"wakeup": "false"})

    def login_qr(self) -> LoginQR | None:
        """The QR code to pair a phone, or None when the channel is already authenticated."""
        try:
            answer = self._call("GET", "/users/login")
        except WhapiRejected as exc:
            if exc.status == 409:  # "already authenticated"
                return None
            raise
        image = str(answer.get("base64", ""))
        return LoginQR(str(answer.get("rowdata", "")), image.split(",", 1)[-1])

    def groups(self) -> list[dict[str, Any]]:
        """Every group, paged by `count` and `offset` (https://whapi.readme.io/reference/getgroups)."""
        found: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            page = self._call("GET", "/groups", params={"count": _PAGE, "offset": len(found)})
            groups = [g for g in page.get("groups", []) if isinstance(g, dict)]
            found += groups
            if not groups or len(found) >= int(page.get("total", 0) or 0):
                break
        return found

    def settings(self) -> dict[str, Any]:
        return self._call("GET", "/settings")

    def patch_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", "/settings", json=changes)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self._api_url + path
        response, body = send(
            self._client,
            f"Whapi {path}",
            method,
            url,
            headers=self._headers,
            budget=self._budget,
            **kwargs,
        )
        if response.is_success and isinstance(body, dict):
            return body
        raise _error(path, response, body)


def _error(path: str, response: httpx.Response, body: Any) -> ProviderError:
    status = response.status_code
    error = body.get("error") if isinstance(body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else None
    message = f"Whapi {path}: {str(detail or f'HTTP {status}')[:200]}"
    if status == 429:
        return RateLimited(message, retry_after=retry_after(response))
    if status in (401, 403):
        return InvalidCredentials(message)
    if 400 <= status < 500:
        return WhapiRejected(message, status)
    return PlatformError(message)
