"""One pooled HTTP client per process for provider APIs: keep-alive, and nothing left open."""

from __future__ import annotations

import functools
from typing import Any

import httpx

from shared.providers.errors import NetworkError
from shared.providers.rate_limits import take

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@functools.cache
def shared_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT)


def send(
    client: httpx.Client,
    what: str,
    method: str,
    url: str,
    *,
    budget: tuple[str, str],
    **kwargs: Any,
) -> tuple[httpx.Response, Any]:
    """One request: no answer at all is a NetworkError; the body is its JSON, or None.

    `what` names the call in errors (`Slack auth.test`); never the URL, which may hold a token.
    `budget` is (budget name, the account's secret): the request waits for a slot in it first
    (shared.providers.rate_limits).
    """
    take(*budget)
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise NetworkError(f"{what}: {type(exc).__name__}") from None
    try:
        return response, response.json()
    except ValueError:
        return response, None


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    """`Retry-After` in seconds (providers send seconds, not HTTP dates); `default` if absent."""
    try:
        return max(0.0, float(response.headers.get("retry-after", default)))
    except ValueError:
        return default
