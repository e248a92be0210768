"""Tests for the fake Slack Web API server."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .slack_api import FakeSlackAPI

TOKEN = "xoxb-test-token"


def _channels(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"C{i:04d}",
            "name": f"chan-{i}",
            "is_private": False,
            "num_members": i,
            "is_channel": True,
        }
        for i in range(count)
    ]


@pytest.fixture
def slack() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        fake.add_workspace(TOKEN, channels=_channels(5))
        yield fake


@pytest.fixture
def client(slack: FakeSlackAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=slack.url + "/", timeout=5) as http_client:
        yield http_client


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_url_points_at_loopback_api(slack: FakeSlackAPI) -> None:
    assert slack.url.startswith("http://127.0.0.1:")
    assert slack.url.endswith("/api")


def test_auth_test_ok_with_scopes_header(client: httpx.Client) -> None:
    response = client.post("auth.test", headers=_auth())
    assert response.status_code == 200
    assert response.headers["x-oauth-scopes"] == "channels:read,chat:write"
    assert response.json() == {
        "ok": True,
        "url": "https://acme.slack.com/",
        "team": "Acme",
        "user": "switchboard",
        "team_id": "T0001",
        "user_id": "U0BOT",
        "bot_id": "B0BOT",
        "is_enterprise_install": False,
    }


def test_auth_test_accepts_token_form_param(client: httpx.Client) -> None:
    response = client.post("auth.test", data={"token": TOKEN})
    assert response.json()["ok"] is True


@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, "not_authed"), (_auth("xoxb-unknown"), "invalid_auth")],
)
def test_auth_errors_are_http_200(
    client: httpx.Client, headers: dict[str, str], error: str
) -> None:
    response = client.post("auth.test", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": error}


def test_revoked_token(slack: FakeSlackAPI, client: httpx.Client) -> None:
    slack.revoke(TOKEN)
    assert client.get("auth.test", headers=_auth()).json() == {
        "ok": False,
        "error": "token_revoked",
    }


def test_conversations_list_paginates(client: httpx.Client) -> None:
    pages: list[list[str]] = []
    cursors: list[str] = []
    cursor = ""
    while True:
        response = client.post(
            "conversations.list", headers=_auth(), data={"limit": "2", "cursor": cursor}
        )
        body = response.json()
        assert body["ok"] is True
        pages.append([c["id"] for c in body["channels"]])
        cursor = body["response_metadata"]["next_cursor"]
        cursors.append(cursor)
        if not cursor:
            break
    assert pages == [["C0000", "C0001"], ["C0002", "C0003"], ["C0004"]]
    assert cursors[-1] == ""
    assert base64.b64decode(cursors[0]) == b"team:C0002"


def test_conversations_list_invalid_cursor(client: httpx.Client) -> None:
    response = client.get("conversations.list", headers=_auth(), params={"cursor": "bogus!"})
    assert response.json() == {"ok": False, "error": "invalid_cursor"}


def test_conversations_list_missing_scope(slack: FakeSlackAPI, client: httpx.Client) -> None:
    slack.add_workspace("xoxb-narrow", scopes=("chat:write",))
    response = client.post("conversations.list", headers=_auth("xoxb-narrow"))
    assert response.status_code == 200
    assert response.json() == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:read",
        "provided": "chat:write",
    }


def test_rate_limit_then_recovers(slack: FakeSlackAPI, client: httpx.Client) -> None:
    slack.rate_limit_next(1, retry_after=7)
    limited = client.post("auth.test", headers=_auth())
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json() == {"ok": False, "error": "ratelimited"}
    assert client.post("auth.test", headers=_auth()).json()["ok"] is True


def test_fail_and_slow_next(slack: FakeSlackAPI, client: httpx.Client) -> None:
    slack.fail_next(1, status=503)
    assert client.post("auth.test", headers=_auth()).status_code == 503
    slack.slow_next(1, 0.2)
    started = time.monotonic()
    assert client.post("auth.test", headers=_auth()).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_unknown_method(client: httpx.Client) -> None:
    response = client.post("chat.nope", headers=_auth())
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "unknown_method"}


def test_requests_are_recorded(slack: FakeSlackAPI, client: httpx.Client) -> None:
    client.post("conversations.list", headers=_auth(), json={"limit": 1, "types": "public_channel"})
    (recorded,) = slack.requests
    assert recorded.method == "POST"
    assert recorded.path == "/api/conversations.list"
    assert recorded.api_method == "conversations.list"
    assert recorded.headers["authorization"] == f"Bearer {TOKEN}"
    assert recorded.params == {"limit": 1, "types": "public_channel"}


def test_stop_closes_port() -> None:
    fake = FakeSlackAPI()
    fake.start()
    url = fake.url
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/auth.test", timeout=2)
