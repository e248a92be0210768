"""Helpers for the dashboard's tests (and docs/screenshots.py): a headless Chromium, signing in,
and driving a Whapi channel with the webhooks Whapi would send.

Browsers are never downloaded: Playwright drives Debian's `chromium` package.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.e2e.deployments import Deployment, eventually
from tests.fakes.whapi_api import FakeWhapiAPI

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIVE_TIMEOUT_MS = 10_000  # the page polls every 2 s; workers apply events within a second


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium through Playwright; raises if either is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(f"{CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def http_sign_in(client: httpx.Client, token: str) -> httpx.Response:
    """Sign in as a browser would: fetch the form (and its CSRF token), then post it."""
    form = client.get("/dashboard/login")
    return client.post("/dashboard/login", data={"csrf": csrf_of(form.text), "token": token})


def webhook_token(fake: FakeWhapiAPI, whapi_token: str, channel: dict[str, Any]) -> str:
    """The token a worker gave Whapi for the channel's webhook (what Whapi would send back)."""

    def ours() -> dict[str, Any] | None:
        hooks = fake.settings(whapi_token)["webhooks"]
        return next((h for h in hooks if h["url"] == channel["webhook_url"]), None)

    hook = eventually(ours, lambda h: h is not None)
    assert hook is not None, "the worker never patched Whapi's settings"
    token: str = hook["headers"]["X-Webhook-Token"]
    return token


def first_sync_done(api: httpx.Client, channel: dict[str, Any]) -> None:
    """Wait for the sync every connect starts: its health reading would race our webhooks."""
    url = f"/v1/instances/{channel['instance_id']}/connections/{channel['connection_id']}"
    synced = eventually(lambda: api.get(url).json(), lambda c: c["last_sync"] is not None)
    assert synced["last_sync"] is not None, synced


def send_whapi(
    deployment: Deployment,
    channel: dict[str, Any],
    whapi_channel: str,
    token: str,
    payload: dict[str, Any],
) -> None:
    response = httpx.post(
        f"{deployment.base_url}/webhooks/whapi/{channel['id']}",
        content=json.dumps({**payload, "channel_id": whapi_channel}).encode(),
        headers={"X-Webhook-Token": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def new_qr(code: str) -> dict[str, Any]:
    """A `channel` patch carrying a fresh code, as Whapi sends while nobody has scanned."""
    return {"qr": code, "event": {"type": "channel", "event": "patch"}}


def user_logged_in() -> dict[str, Any]:
    return {
        "user": {"id": "61371989950", "name": "Jo"},
        "event": {"type": "users", "event": "post"},
    }


def message(message_id: str, at: int) -> dict[str, Any]:
    item = {"id": message_id, "from_me": False, "type": "text", "timestamp": at}
    return {"messages": [item], "event": {"type": "messages", "event": "post"}}
