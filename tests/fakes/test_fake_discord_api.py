"""Tests for the fake Discord REST API server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .discord_api import FakeDiscordAPI

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.token"
GUILD = "1200000000000000001"
OTHER_GUILD = "1200000000000000002"
UA = "DiscordBot (https://example.test/switchboard, 0.1.0)"
CHANNELS = [
    {"id": "1300000000000000001", "type": 4, "name": "Text Channels", "position": 0},
    {
        "id": "1300000000000000002",
        "type": 0,
        "name": "general",
        "position": 0,
        "parent_id": "1300000000000000001",
    },
    {"id": "1300000000000000003", "type": 2, "name": "Voice", "position": 1, "nsfw": False},
]


@pytest.fixture
def discord() -> Iterator[FakeDiscordAPI]:
    with FakeDiscordAPI() as fake:
        fake.add_bot(TOKEN, guilds={GUILD: CHANNELS, OTHER_GUILD: []})
        yield fake


@pytest.fixture
def client(discord: FakeDiscordAPI) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bot {TOKEN}", "User-Agent": UA}
    with httpx.Client(base_url=discord.url, headers=headers, timeout=5) as http_client:
        yield http_client


def test_url_ends_with_api_version(discord: FakeDiscordAPI) -> None:
    assert discord.url.startswith("http://127.0.0.1:")
    assert discord.url.endswith("/api/v10")


def test_users_me_ok(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    response = client.get("/users/@me")
    assert response.status_code == 200
    assert response.json() == {
        "id": "1100000000000000001",
        "username": "switchboard",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": True,
        "flags": 0,
    }
    (recorded,) = discord.requests
    assert recorded.method == "GET"
    assert recorded.path == "/api/v10/users/@me"
    assert recorded.token == TOKEN
    assert recorded.headers["user-agent"] == UA


UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}


def test_bad_token_401(client: httpx.Client) -> None:
    response = client.get("/users/@me", headers={"Authorization": "Bot nope"})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_bearer_scheme_401(client: httpx.Client) -> None:
    response = client.get("/users/@me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 401


def test_revoked_token_401(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.revoke(TOKEN)
    response = client.get("/users/@me")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_missing_discordbot_user_agent_refused(client: httpx.Client) -> None:
    response = client.get("/users/@me", headers={"User-Agent": "python-httpx/0.28"})
    assert response.status_code == 400
    assert response.json() == {"message": "Bad User-Agent", "code": 0}


def test_guild_channels(client: httpx.Client) -> None:
    response = client.get(f"/guilds/{GUILD}/channels")
    assert response.status_code == 200
    channels = response.json()
    assert [c["id"] for c in channels] == [c["id"] for c in CHANNELS]
    assert channels[1] == {
        "id": "1300000000000000002",
        "type": 0,
        "guild_id": GUILD,
        "name": "general",
        "position": 0,
        "parent_id": "1300000000000000001",
        "nsfw": False,
    }
    assert channels[0]["parent_id"] is None
    assert client.get(f"/guilds/{OTHER_GUILD}/channels").json() == []


def test_unknown_guild_10004(client: httpx.Client) -> None:
    response = client.get("/guilds/999/channels")
    assert response.status_code == 404
    assert response.json() == {"message": "Unknown Guild", "code": 10004}


def test_denied_guild_50001(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.deny_guild(TOKEN, GUILD)
    response = client.get(f"/guilds/{GUILD}/channels")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Access", "code": 50001}
    assert client.get(f"/guilds/{OTHER_GUILD}/channels").status_code == 200


def test_unknown_path_and_wrong_method(client: httpx.Client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"message": "404: Not Found", "code": 0}
    response = client.post("/users/@me")
    assert response.status_code == 405
    assert response.json() == {"message": "405: Method Not Allowed", "code": 0}


def test_rate_limited_429(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.rate_limit_next(1, retry_after=1.25)
    response = client.get("/users/@me")
    assert response.status_code == 429
    body = response.json()
    assert body == {"message": "You are being rate limited.", "retry_after": 1.25, "global": False}
    assert isinstance(body["retry_after"], float)
    assert response.headers["Retry-After"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert float(response.headers["X-RateLimit-Reset-After"]) == 1.25
    assert response.headers["X-RateLimit-Scope"] == "user"
    assert "X-RateLimit-Limit" in response.headers
    assert client.get("/users/@me").status_code == 200


def test_global_rate_limit(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.rate_limit_next(1, global_=True)
    response = client.get("/users/@me")
    assert response.status_code == 429
    assert response.json()["global"] is True
    assert response.json()["retry_after"] == 0.5
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-RateLimit-Scope"] == "global"


def test_fail_next(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.fail_next(1)
    response = client.get("/users/@me")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error", "code": 0}
    assert client.get("/users/@me").status_code == 200


def test_slow_next(discord: FakeDiscordAPI, client: httpx.Client) -> None:
    discord.slow_next(1, 1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/users/@me", timeout=0.1)
