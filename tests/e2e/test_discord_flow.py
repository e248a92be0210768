"""Discord end to end: connect (users/@me, guild access), both URLs, signed events → status."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.discord_api import FakeDiscordAPI

pytestmark = pytest.mark.e2e

BOT_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.discord.good-bot-token"
GUILD = "1200000000000000001"
APPLICATION = "1100000000000000001"
SIGNER = Ed25519PrivateKey.generate()
PUBLIC_KEY = SIGNER.public_key().public_bytes_raw().hex()


@pytest.fixture(scope="module")
def fake_discord() -> Iterator[FakeDiscordAPI]:
    with FakeDiscordAPI() as fake:
        fake.add_bot(BOT_TOKEN, username="acme-bot", guilds={GUILD: []})
        yield fake


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_discord: FakeDiscordAPI,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp(f"discord-{request.param}")
    with deployed(request.param, request, cwd, DISCORD_API_URL=fake_discord.url) as deployment:
        yield deployment


def _config(**overrides: str) -> dict[str, str]:
    config = {
        "bot_token": BOT_TOKEN,
        "public_key": PUBLIC_KEY,
        "application_id": APPLICATION,
        "guild_id": GUILD,
    }
    return {**config, **overrides}


@pytest.fixture(scope="module")
def channel(api: httpx.Client, fake_discord: FakeDiscordAPI) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "Discord"}).json()["id"]
    url = f"/v1/instances/{instance}/channels/discord/connect"
    bad = api.post(url, json={"config": _config(bot_token="not-a-token")})
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CREDENTIALS")
    elsewhere = api.post(url, json={"config": _config(guild_id="999")})
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (400, "INVALID_CREDENTIALS")
    response = api.post(url, json={"config": _config()})
    assert response.status_code == 200, response.text
    assert BOT_TOKEN not in response.text
    me = [r for r in fake_discord.requests if r.path.endswith("/users/@me")][-1]
    assert me.headers["user-agent"].startswith("DiscordBot (")
    result: dict[str, Any] = response.json()["channel"]
    return result


def _send(url: str, body: bytes, *, forged: bool = False) -> httpx.Response:
    timestamp = str(int(time.time()))
    signer = Ed25519PrivateKey.generate() if forged else SIGNER
    signature = signer.sign(timestamp.encode() + body).hex()
    headers = {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}
    return httpx.post(url, content=body, headers={**headers, "Content-Type": "application/json"})


def test_the_channel_shows_both_urls(channel: dict[str, Any]) -> None:
    urls = channel["webhook_urls"]
    assert urls["events"].endswith(f"/webhooks/discord/{channel['id']}/events")
    assert urls["interactions"].endswith(f"/webhooks/discord/{channel['id']}/interactions")
    assert channel["status"] == "connected"


def test_pings_are_answered_and_not_stored(deployment: Deployment, channel: dict[str, Any]) -> None:
    urls = channel["webhook_urls"]
    pong = _send(urls["interactions"], b'{"type":1,"id":"1","application_id":"2"}')
    assert (pong.status_code, pong.json()) == (200, {"type": 1})
    ping = _send(urls["events"], b'{"version":1,"application_id":"2","type":0}')
    assert ping.status_code == 204
    assert (
        deployment.sql("SELECT count(*) FROM events WHERE channel_id = :c", c=channel["id"])[0][0]
        == 0
    )


def test_forged_and_unsigned_requests_are_refused(channel: dict[str, Any]) -> None:
    url = channel["webhook_urls"]["interactions"]
    assert _send(url, b'{"type":1}', forged=True).status_code == 401
    assert httpx.post(url, content=b'{"type":1}').status_code == 401


def test_signed_events_drive_status(
    deployment: Deployment, api: httpx.Client, channel: dict[str, Any]
) -> None:
    when = datetime.now(UTC).replace(microsecond=0)
    authorized = {
        "version": 1,
        "application_id": APPLICATION,
        "type": 1,
        "event": {"type": "APPLICATION_AUTHORIZED", "timestamp": when.isoformat(), "data": {}},
    }
    response = _send(channel["webhook_urls"]["events"], json.dumps(authorized).encode())
    assert response.status_code == 204
    interaction = json.dumps({"type": 2, "id": "9001", "application_id": APPLICATION, "data": {}})
    for _ in range(2):  # a retried interaction is stored once
        deferred = _send(channel["webhook_urls"]["interactions"], interaction.encode())
        assert (deferred.status_code, deferred.json()) == (200, {"type": 5})
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    seen = eventually(lambda: api.get(url).json(), lambda c: c["last_event_at"] is not None)
    assert seen["status"] == "connected"
    rows = eventually(
        lambda: deployment.sql(
            "SELECT type, status FROM events WHERE channel_id = :c ORDER BY type", c=channel["id"]
        ),
        lambda r: len(r) == 2 and all(row[1] == "processed" for row in r),
    )
    assert [tuple(r) for r in rows] == [
        ("discord.event.APPLICATION_AUTHORIZED", "processed"),
        ("discord.interaction.application_command", "processed"),
    ]
