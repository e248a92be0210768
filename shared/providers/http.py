"""One pooled HTTP client per process for provider APIs: keep-alive, and nothing left open."""

from __future__ import annotations

import functools

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@functools.cache
def shared_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT)
