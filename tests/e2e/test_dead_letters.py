"""Work that fails for good ends as a dead letter the API lists and redrives (PostgreSQL,
Redis, a real web process and real Dramatiq workers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deployments import (
    Deployment,
    distributed,
    eventually,
    restart_workers,
    stop_workers,
)
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.e2e

BOT_TOKEN = "5550001:dead-letter-bot-token"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        fake.add_bot(BOT_TOKEN, username="letters_bot")
        yield fake


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeTelegramAPI,
    postgres_url: str,
    test_redis_url: str,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("dead-letters")
    with distributed(cwd, postgres_url, test_redis_url, TELEGRAM_API_URL=fake.url) as deployment:
        yield deployment


def _letters(api: httpx.Client, instance: str, **params: str) -> dict[str, Any]:
    listed: dict[str, Any] = api.get(f"/v1/instances/{instance}/dead-letters", params=params).json()
    return listed


def test_refused_work_is_dead_lettered_then_redriven(
    deployment: Deployment, api: httpx.Client, fake: FakeTelegramAPI
) -> None:
    # The bot is revoked between the connect and the work that follows it.
    stop_workers(deployment)
    instance = api.post("/v1/instances", json={"name": "Letters"}).json()["id"]
    connected = api.post(
        f"/v1/instances/{instance}/channels/telegram/connect",
        json={"config": {"bot_token": BOT_TOKEN}},
    )
    assert connected.status_code == 200, connected.text
    channel = connected.json()["channel"]
    fake.revoke(BOT_TOKEN)
    restart_workers(deployment)

    listed = eventually(lambda: _letters(api, instance), lambda d: d["count"] == 2, timeout=30)
    letters = {d["kind"]: d for d in listed["dead_letters"]}
    assert set(letters) == {"sync", "webhook_setup"}, deployment.processes["workers"].output()
    assert letters["webhook_setup"]["subject_id"] == channel["id"]
    assert letters["sync"]["subject_id"] == channel["connection_id"]
    assert all(d["error"]["code"] == "INVALID_CREDENTIALS" for d in letters.values())
    assert all(d["status"] == "dead" and d["attempts"] == 1 for d in letters.values())
    assert BOT_TOKEN not in str(listed) and BOT_TOKEN.split(":")[1] not in str(listed)
    assert _letters(api, instance, kind="sync")["count"] == 1
    assert (
        api.get(f"/v1/instances/{instance}/dead-letters", params={"kind": "x"}).status_code == 422
    )
    assert fake.webhook(BOT_TOKEN) is None

    reader = deployment.cli("tokens", "create", "--instance", instance, "--scopes", "events:read")
    with deployment.client(reader.strip()) as read_only:
        url = f"/v1/instances/{instance}/dead-letters/{letters['sync']['id']}/redrive"
        assert read_only.post(url).status_code == 403

    fake.add_bot(BOT_TOKEN, username="letters_bot")  # the user fixed the bot
    for letter in letters.values():
        url = f"/v1/instances/{instance}/dead-letters/{letter['id']}/redrive"
        redriven = api.post(url)
        assert redriven.status_code == 202, redriven.text
        assert redriven.json()["status"] == "redriven"
        assert api.post(url).json()["code"] == "ALREADY_REDRIVEN"

    hook = eventually(lambda: fake.webhook(BOT_TOKEN), lambda h: h is not None)
    assert hook is not None and hook["url"] == channel["webhook_url"]
    connection_url = f"/v1/instances/{instance}/connections/{channel['connection_id']}"
    synced = eventually(lambda: api.get(connection_url).json(), lambda c: c["error"] is None)
    assert synced["status"] == "connected", synced
    assert _letters(api, instance)["count"] == 0
    assert _letters(api, instance, status="redriven")["count"] == 2


def test_letters_belong_to_their_instance(api: httpx.Client) -> None:
    other = api.post("/v1/instances", json={"name": "Elsewhere"}).json()["id"]
    assert _letters(api, other)["count"] == 0
    missing = api.post(f"/v1/instances/{other}/dead-letters/dl_nope/redrive")
    assert (missing.status_code, missing.json()["code"]) == (404, "DEAD_LETTER_NOT_FOUND")
