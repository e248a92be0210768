"""Telegram end to end: connect (getMe), the worker's setWebhook, then updates → status."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TELEGRAM_BOT_TOKEN
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_telegram: FakeTelegramAPI,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp(f"telegram-{request.param}")
    with deployed(request.param, request, cwd, TELEGRAM_API_URL=fake_telegram.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def connected(api: httpx.Client) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "Tg"}).json()["id"]
    url = f"/v1/instances/{instance}/channels/telegram/connect"
    bad = api.post(url, json={"config": {"bot_token": "123:not-a-real-token"}})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_CREDENTIALS"
    assert api.get(f"/v1/instances/{instance}/channels").json()["count"] == 0
    response = api.post(url, json={"config": {"bot_token": TELEGRAM_BOT_TOKEN}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert TELEGRAM_BOT_TOKEN not in response.text
    return body


def _webhook(fake: FakeTelegramAPI, channel: dict[str, Any]) -> dict[str, Any] | None:
    hook = fake.webhook(TELEGRAM_BOT_TOKEN)
    return hook if hook and hook.get("url") == channel["webhook_url"] else None


def test_connect_points_the_bot_at_the_channel(
    connected: dict[str, Any], fake_telegram: FakeTelegramAPI
) -> None:
    channel = connected["channel"]
    assert connected["status"] == "connected"
    assert channel["external_identifier"] == "acme_bot"
    assert channel["webhook_url"].endswith(f"/webhooks/telegram/{channel['id']}")
    hook = eventually(lambda: _webhook(fake_telegram, channel), lambda h: h is not None)
    assert hook is not None, "the worker never called setWebhook"
    assert set(hook["allowed_updates"]) >= {"message", "edited_message", "my_chat_member"}
    assert len(hook["secret_token"]) >= 32


def _send(deployment: Deployment, channel_id: str, update: dict[str, Any], secret: str) -> int:
    response = httpx.post(
        f"{deployment.base_url}/webhooks/telegram/{channel_id}",
        content=json.dumps(update).encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"},
    )
    return response.status_code


def test_updates_with_the_secret_drive_status(
    deployment: Deployment,
    api: httpx.Client,
    connected: dict[str, Any],
    fake_telegram: FakeTelegramAPI,
) -> None:
    channel = connected["channel"]
    hook = eventually(lambda: _webhook(fake_telegram, channel), lambda h: h is not None)
    assert hook is not None
    secret = hook["secret_token"]
    sent_at = int(time.time()) + 3
    update = {"update_id": 5001, "message": {"message_id": 1, "date": sent_at, "text": "hi"}}
    assert _send(deployment, channel["id"], update, "wrong-secret") == 401
    assert _send(deployment, channel["id"], update, secret) == 200
    assert _send(deployment, channel["id"], update, secret) == 200  # Telegram's redelivery
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    seen = eventually(lambda: api.get(url).json(), lambda c: c["last_event_at"] is not None)
    assert seen["status"] == "connected"
    assert seen["last_event_at"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(sent_at)))
    rows = eventually(
        lambda: deployment.sql("SELECT status FROM events WHERE channel_id = :c", c=channel["id"]),
        lambda r: [row[0] for row in r] == ["processed"],
    )
    assert [row[0] for row in rows] == ["processed"]  # the redelivery was not stored again


def test_the_secret_never_leaves_switchboard(
    deployment: Deployment, fake_telegram: FakeTelegramAPI
) -> None:
    hook = fake_telegram.webhook(TELEGRAM_BOT_TOKEN)
    assert hook is not None
    dump = str(deployment.sql("SELECT * FROM connections")) + deployment.logs()
    assert hook["secret_token"] not in dump and TELEGRAM_BOT_TOKEN not in dump
