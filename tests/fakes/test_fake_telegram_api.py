"""Tests for the fake Telegram Bot API server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from .telegram_api import FakeTelegramAPI

TOKEN = "123456:ABC-test-token"
HOOK = "http://127.0.0.1:9/telegram/webhook"


@pytest.fixture
def telegram() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        fake.add_bot(TOKEN)
        yield fake


@pytest.fixture
def client(telegram: FakeTelegramAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{telegram.url}/bot{TOKEN}/", timeout=5) as http_client:
        yield http_client


def test_url_points_at_loopback(telegram: FakeTelegramAPI) -> None:
    assert telegram.url.startswith("http://127.0.0.1:")
    assert not telegram.url.endswith("/")


def test_get_me_ok(client: httpx.Client) -> None:
    response = client.get("getMe")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "result": {
            "id": 7000001,
            "is_bot": True,
            "first_name": "Switchboard",
            "username": "switchboard_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        },
    }


def test_method_names_are_case_insensitive(client: httpx.Client) -> None:
    assert client.post("getme").json()["ok"] is True


UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_unknown_token_401(telegram: FakeTelegramAPI) -> None:
    response = httpx.post(f"{telegram.url}/bot999:nope/getMe", timeout=5)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_revoked_token_401(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    telegram.revoke(TOKEN)
    response = client.post("getMe")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


def test_unknown_method_404(client: httpx.Client) -> None:
    response = client.post("sendTeleport")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_unknown_token_beats_unknown_method(telegram: FakeTelegramAPI) -> None:
    assert httpx.post(f"{telegram.url}/bot1:x/sendTeleport", timeout=5).status_code == 401


def test_path_without_bot_prefix_404(telegram: FakeTelegramAPI) -> None:
    response = httpx.get(f"{telegram.url}/getMe", timeout=5)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_set_webhook_then_info(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    response = client.post(
        "setWebhook",
        json={
            "url": HOOK,
            "secret_token": "s3cret_Token-1",
            "allowed_updates": ["message", "my_chat_member"],
            "max_connections": 10,
            "drop_pending_updates": True,
        },
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = client.get("getWebhookInfo").json()
    assert info["ok"] is True
    assert info["result"]["url"] == HOOK
    assert info["result"]["allowed_updates"] == ["message", "my_chat_member"]
    assert info["result"]["has_custom_certificate"] is False
    assert info["result"]["pending_update_count"] == 0
    assert info["result"]["max_connections"] == 10
    assert "last_error_date" not in info["result"]
    assert telegram.webhook(TOKEN) == {
        "url": HOOK,
        "secret_token": "s3cret_Token-1",
        "allowed_updates": ["message", "my_chat_member"],
        "max_connections": 10,
        "drop_pending_updates": True,
        "has_custom_certificate": False,
        "ip_address": None,
    }


def test_set_webhook_form_encoded_allowed_updates(
    telegram: FakeTelegramAPI, client: httpx.Client
) -> None:
    response = client.post(
        "setWebhook",
        data={"url": HOOK, "allowed_updates": json.dumps(["message"]), "max_connections": "5"},
    )
    assert response.json()["result"] is True
    webhook = telegram.webhook(TOKEN)
    assert webhook is not None
    assert webhook["allowed_updates"] == ["message"]
    assert webhook["max_connections"] == 5
    assert webhook["secret_token"] is None
    # Repeating the same settings is accepted with Telegram's wording.
    again = client.post("setWebhook", params={"url": HOOK, "max_connections": "5"})
    assert again.json()["description"] == "Webhook is already set"
    # allowed_updates not given: the previous setting is kept.
    assert client.get("getWebhookInfo").json()["result"]["allowed_updates"] == ["message"]


def test_bad_secret_token_400(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    response = client.post("setWebhook", json={"url": HOOK, "secret_token": "no spaces!"})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: secret token contains unallowed characters",
    }
    assert telegram.webhook(TOKEN) is None


@pytest.mark.parametrize(
    "params",
    [
        {"url": "ftp://example.com/hook"},
        {"url": HOOK, "allowed_updates": "message"},
        {"url": HOOK, "max_connections": 0},
        {"url": HOOK, "secret_token": "x" * 257},
    ],
)
def test_set_webhook_rejects_bad_params(client: httpx.Client, params: dict[str, object]) -> None:
    response = client.post("setWebhook", json=params)
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False
    assert body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")


def test_delete_webhook_and_empty_url(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    client.post("setWebhook", json={"url": HOOK})
    deleted = client.post("deleteWebhook", json={"drop_pending_updates": True})
    assert deleted.json() == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert telegram.webhook(TOKEN) is None
    assert client.post("deleteWebhook").json()["description"] == "Webhook is already deleted"
    client.post("setWebhook", json={"url": HOOK})
    assert client.post("setWebhook", json={"url": ""}).json()["result"] is True
    assert telegram.webhook(TOKEN) is None
    assert client.get("getWebhookInfo").json()["result"] == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }


def test_webhook_error_is_reported(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    client.post("setWebhook", json={"url": HOOK})
    telegram.set_webhook_error(TOKEN, 1700000000, "Wrong response from the webhook: 500")
    result = client.get("getWebhookInfo").json()["result"]
    assert result["last_error_date"] == 1700000000
    assert result["last_error_message"] == "Wrong response from the webhook: 500"
    telegram.clear_webhook_error(TOKEN)
    assert "last_error_message" not in client.get("getWebhookInfo").json()["result"]


def test_rate_limit_then_recovers(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    telegram.rate_limit_next(1, retry_after=7)
    limited = client.post("getMe")
    assert limited.status_code == 429
    assert limited.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert client.post("getMe").status_code == 200


def test_fail_and_slow_next(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    telegram.fail_next(1)
    failed = client.post("getMe")
    assert failed.status_code == 500
    assert failed.json() == {
        "ok": False,
        "error_code": 500,
        "description": "Internal Server Error",
    }
    telegram.slow_next(1, 0.2)
    started = time.monotonic()
    assert client.post("getMe").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_requests_are_recorded(telegram: FakeTelegramAPI, client: httpx.Client) -> None:
    client.post("setWebhook", params={"url": HOOK}, json={"max_connections": 3})
    (recorded,) = telegram.requests
    assert recorded.method == "POST"
    assert recorded.path == f"/bot{TOKEN}/setWebhook"
    assert recorded.token == TOKEN
    assert recorded.api_method == "setWebhook"
    assert recorded.headers["content-type"] == "application/json"
    assert recorded.params == {"url": HOOK, "max_connections": 3}


def test_stop_closes_port() -> None:
    fake = FakeTelegramAPI()
    fake.start()
    url = fake.url
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/bot{TOKEN}/getMe", timeout=2)
