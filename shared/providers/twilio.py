"""Twilio REST client (https://www.twilio.com/docs/usage/api).

HTTP Basic auth with the account SID and auth token; errors are `{"code", "message",
"more_info", "status"}` (20003 Authenticate, 20404 Not Found, 20429 Too Many Requests,
https://www.twilio.com/docs/api/errors). Lists are paged by `next_page_uri`, a path on the API
host. Writes are form-encoded: Twilio does not accept JSON bodies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from shared.providers.errors import (
    AuthExpired,
    InvalidCredentials,
    PlatformError,
    ProviderError,
    RateLimited,
    RequestRejected,
)
from shared.providers.http import retry_after, send, shared_client

API_VERSION = "/2010-04-01"
NUMBER_SID = re.compile(r"^PN[0-9a-fA-F]{32}$")
_PAGE_SIZE = 200
_MAX_PAGES = 50  # 10,000 numbers: far beyond any account we serve, and no endless loop


@dataclass(frozen=True)
class TwilioAccount:
    sid: str
    friendly_name: str
    status: str  # active | suspended | closed


class NumberNotFound(RequestRejected):
    pass


class TwilioClient:
    def __init__(
        self, api_url: str, account_sid: str, auth_token: str, client: httpx.Client | None = None
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._account = f"{API_VERSION}/Accounts/{account_sid}"
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._budget = ("twilio", account_sid)  # Twilio's limits are per account
        self._client = client or shared_client()

    def account(self) -> TwilioAccount:
        body = self._call("GET", f"{self._account}.json")
        return TwilioAccount(
            sid=str(body.get("sid", "")),
            friendly_name=str(body.get("friendly_name", "")),
            status=str(body.get("status", "")),
        )

    def incoming_numbers(self, phone_number: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, str] | None = {"PageSize": str(_PAGE_SIZE)}
        if phone_number:
            params = {**(params or {}), "PhoneNumber": phone_number}
        path: str | None = f"{self._account}/IncomingPhoneNumbers.json"
        numbers: list[dict[str, Any]] = []
        for _ in range(_MAX_PAGES):
            if path is None:
                break
            page = self._call("GET", path, params=params)
            numbers += [n for n in page.get("incoming_phone_numbers", []) if isinstance(n, dict)]
            # The next URI carries its own query; httpx would replace it with any `params`.
            path, params = page.get("next_page_uri"), None
        return numbers

    def number_sid(self, identifier: str) -> str:
        """The `PN…` SID of a number given as its SID or as an E.164 number."""
        if NUMBER_SID.match(identifier):
            return identifier
        for number in self.incoming_numbers(identifier):
            if number.get("phone_number") == identifier:
                return str(number["sid"])
        raise NumberNotFound(f"Twilio has no number {identifier} in this account")

    def update_number(self, number_sid: str, **fields: str) -> dict[str, Any]:
        path = f"{self._account}/IncomingPhoneNumbers/{number_sid}.json"
        return self._call("POST", path, data=fields)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        what, url = f"Twilio {_shown(path)}", self._api_url + path
        response, body = send(
            self._client, what, method, url, auth=self._auth, budget=self._budget, **kwargs
        )
        if response.is_success and isinstance(body, dict):
            return body
        raise _error(_shown(path), response, body if isinstance(body, dict) else {})


def _shown(path: str) -> str:
    """The path without the account prefix: shorter, and the same for every account."""
    shown = re.sub(r"^/2010-04-01/Accounts/[^/.]+", "", path)
    return "account" if shown in ("", ".json") else shown


def _error(path: str, response: httpx.Response, body: dict[str, Any]) -> ProviderError:
    status, code = response.status_code, body.get("code")
    message = f"Twilio {path}: {str(body.get('message', f'HTTP {status}'))[:200]}"
    if code:
        message += f" (error {code})"
    if status == 429:
        return RateLimited(message, retry_after=retry_after(response))
    if status == 401:
        return InvalidCredentials(message)
    if status == 404 and "IncomingPhoneNumbers/" in path:
        return NumberNotFound(message)
    if status == 404:  # the account SID itself is unknown to these credentials
        return InvalidCredentials(message)
    if status == 403:
        return AuthExpired(message)
    if 400 <= status < 500:
        return RequestRejected(message)
    return PlatformError(message)
