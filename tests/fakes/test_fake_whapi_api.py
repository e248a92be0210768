"""Tests for the fake Whapi.Cloud Gate API server."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .whapi_api import FakeWhapiAPI

TOKEN = "whapi-channel-token-1"
HOOK = "http://127.0.0.1:9/whapi/webhook"
MESSAGES_POST = {"type": "messages", "method": "post"}


@pytest.fixture
def whapi() -> Iterator[FakeWhapiAPI]:
    with FakeWhapiAPI() as fake:
        fake.add_channel(TOKEN)
        yield fake


@pytest.fixture
def client(whapi: FakeWhapiAPI) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=whapi.url, headers=headers, timeout=5) as http_client:
        yield http_client


def assert_error(response: httpx.Response, code: int, message: str | None = None) -> None:
    assert response.status_code == code
    error = response.json()["error"]
    assert error["code"] == code
    if message is not None:
        assert error["message"] == message


def test_url_points_at_loopback(whapi: FakeWhapiAPI) -> None:
    assert whapi.url.startswith("http://127.0.0.1:")
    assert not whapi.url.endswith("/")


# -- auth and routing -------------------------------------------------------------


def test_missing_token_401(whapi: FakeWhapiAPI) -> None:
    response = httpx.get(f"{whapi.url}/health", timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": 401, "message": "Unauthorized", "details": "Missing bearer token"}
    }


def test_unknown_and_revoked_token_401(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    wrong = httpx.get(f"{whapi.url}/health", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert_error(wrong, 401, "Unauthorized")
    assert client.get("/health").status_code == 200
    whapi.revoke(TOKEN)
    assert_error(client.get("/health"), 401, "Unauthorized")


def test_unknown_path_404_and_wrong_method_405(client: httpx.Client) -> None:
    assert_error(client.get("/messages/teleport"), 404, "Not Found")
    assert_error(client.post("/health"), 405, "Method Not Allowed")


# -- /health ------------------------------------------------------------------------


def test_health_unlinked_channel(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    before = int(time.time())
    health = client.get("/health", params={"wakeup": "false"}).json()
    assert health["channel_id"] == "MANTIS-M72HC"
    assert before - 1 <= health["start_at"] <= before
    assert isinstance(health["uptime"], int)
    assert health["status"] == {"code": 3, "text": "QR"}
    assert health["version"] == "1.8.3"
    assert "user" not in health
    assert whapi.wakeups(TOKEN) == 0


def test_health_linked_channel(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.authenticate(TOKEN)
    health = client.get("/health").json()
    assert health["status"] == {"code": 4, "text": "AUTH"}
    assert health["user"] == {"id": "61371989950", "name": "Jonathan"}
    whapi.logout(TOKEN)
    health = client.get("/health").json()
    assert health["status"] == {"code": 3, "text": "QR"}
    assert "user" not in health


def test_health_counts_wakeups(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    client.get("/health")  # wakeup defaults to true
    client.get("/health", params={"wakeup": "true"})
    client.get("/health", params={"wakeup": "false"})
    assert whapi.wakeups(TOKEN) == 2
    assert [r.query for r in whapi.requests] == [{}, {"wakeup": "true"}, {"wakeup": "false"}]
    assert_error(client.get("/health", params={"wakeup": "maybe"}), 400, "Bad Request")


@pytest.mark.parametrize(
    ("text", "code"), [("INIT", 1), ("LAUNCH", 2), ("QR", 3), ("AUTH", 4), ("ERROR", 5)]
)
def test_set_status_known(whapi: FakeWhapiAPI, client: httpx.Client, text: str, code: int) -> None:
    whapi.set_status(TOKEN, text)
    assert client.get("/health").json()["status"] == {"code": code, "text": text}


def test_set_status_custom(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.set_status(TOKEN, "SYNC_ERROR", code=7)
    assert client.get("/health").json()["status"] == {"code": 7, "text": "SYNC_ERROR"}
    with pytest.raises(ValueError):
        whapi.set_status(TOKEN, "STOP")


def test_add_channel_options(whapi: FakeWhapiAPI) -> None:
    whapi.add_channel("other", channel_id="OTHER-1", authenticated=True)
    health = httpx.get(
        f"{whapi.url}/health", headers={"Authorization": "Bearer other"}, timeout=5
    ).json()
    assert health["channel_id"] == "OTHER-1"
    assert health["status"]["text"] == "AUTH"


# -- /users/login ---------------------------------------------------------------------


def test_login_issues_fresh_qr(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    assert whapi.last_qr(TOKEN) is None
    first = client.get("/users/login", params={"wakeup": "false", "size": "300"})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"status", "base64", "rowdata", "expire"}
    assert body["status"] == "OK"
    assert body["expire"] == 20
    assert body["rowdata"].startswith("2@")
    prefix, _, data = body["base64"].partition(",")
    assert prefix == "data:image/png;base64"
    assert base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n")
    assert whapi.last_qr(TOKEN) == body["rowdata"]
    second = client.get("/users/login").json()["rowdata"]
    assert second != body["rowdata"]
    assert whapi.last_qr(TOKEN) == second
    assert whapi.wakeups(TOKEN) == 1


def test_login_when_linked_409(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.authenticate(TOKEN, user_id="15550001111", name="Ada")
    response = client.get("/users/login")
    assert response.status_code == 409
    assert response.json() == {"error": {"code": 409, "message": "Channel already authenticated"}}
    whapi.logout(TOKEN)
    assert client.get("/users/login").status_code == 200


def test_login_rejects_bad_size(client: httpx.Client) -> None:
    assert_error(client.get("/users/login", params={"size": "big"}), 400)
    assert_error(client.get("/users/login", params={"width": "0"}), 400)


# -- /settings ------------------------------------------------------------------------


def test_default_settings(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    settings = client.get("/settings").json()
    assert settings["webhooks"] == []
    assert settings["callback_persist"] is True
    assert settings["offline_mode"] is False
    assert settings["full_history"] is False
    assert isinstance(settings["media"], dict)
    assert whapi.settings(TOKEN) == settings


def test_patch_webhooks_replaces_list(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    own = {"url": "https://example.com/own", "events": [MESSAGES_POST], "mode": "body"}
    whapi.set_settings(TOKEN, {"webhooks": [own]})
    ours = {
        "url": HOOK,
        "events": [MESSAGES_POST, {"type": "channel", "method": "post"}],
        "mode": "method",
        "headers": {"X-Switchboard": "secret"},
    }
    response = client.patch("/settings", json={"webhooks": [ours]})
    assert response.status_code == 200
    assert response.json()["webhooks"] == [ours]
    assert whapi.settings(TOKEN)["webhooks"] == [ours]
    both = client.patch("/settings", json={"webhooks": [{**own, "headers": {}}, ours]})
    assert [hook["url"] for hook in both.json()["webhooks"]] == [own["url"], HOOK]


def test_patch_keeps_unnamed_keys_and_fills_defaults(
    whapi: FakeWhapiAPI, client: httpx.Client
) -> None:
    client.patch("/settings", json={"webhooks": [{"url": HOOK}]})
    updated = client.patch("/settings", json={"callback_persist": False}).json()
    assert updated["callback_persist"] is False
    assert updated["webhooks"] == [{"url": HOOK, "events": [], "mode": "body", "headers": {}}]
    assert client.get("/settings").json() == updated == whapi.settings(TOKEN)


def test_settings_accessor_is_a_copy(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.settings(TOKEN)["webhooks"].append({"url": HOOK})
    assert client.get("/settings").json()["webhooks"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"webhook": []},
        {"callback_persist": "yes"},
        {"webhooks": {"url": HOOK}},
        {"webhooks": [{"url": "ftp://example.com/hook"}]},
        {"webhooks": [{"url": HOOK, "mode": "query"}]},
        {"webhooks": [{"url": HOOK, "events": [{"type": "payments", "method": "post"}]}]},
        {"webhooks": [{"url": HOOK, "events": [{"type": "messages", "method": "get"}]}]},
        {"webhooks": [{"url": HOOK, "events": ["messages"]}]},
        {"webhooks": [{"url": HOOK, "headers": {f"X-{i}": "v" for i in range(6)}}]},
        {"webhooks": [{"url": HOOK, "headers": {"X-Count": 1}}]},
        {"webhooks": [{"url": HOOK, "secret": "s"}]},
        [],
    ],
)
def test_patch_settings_rejects_invalid(
    whapi: FakeWhapiAPI, client: httpx.Client, body: Any
) -> None:
    response = client.patch("/settings", json=body)
    assert_error(response, 400, "Bad Request")
    assert response.json()["error"]["details"]
    assert whapi.settings(TOKEN)["webhooks"] == []


def test_patch_settings_rejects_bad_json(client: httpx.Client) -> None:
    response = client.patch("/settings", content=b"{nope", headers={"Content-Type": "text/json"})
    assert_error(response, 400, "Bad Request")


def test_five_headers_and_all_event_types_accepted(client: httpx.Client) -> None:
    types = ["messages", "statuses", "chats", "contacts", "groups", "presences"]
    types += ["channel", "users", "labels", "calls", "service"]
    hook = {
        "url": "https://example.com/hook",
        "events": [{"type": t, "method": m} for t in types for m in ("post", "patch")],
        "mode": "path",
        "headers": {f"X-{i}": "v" for i in range(5)},
    }
    response = client.patch("/settings", json={"webhooks": [hook]})
    assert response.status_code == 200
    assert response.json()["webhooks"] == [hook]


def test_set_settings_validates(whapi: FakeWhapiAPI) -> None:
    with pytest.raises(ValueError, match="mode"):
        whapi.set_settings(TOKEN, {"webhooks": [{"url": HOOK, "mode": "carrier-pigeon"}]})


# -- /groups --------------------------------------------------------------------------


def add_groups(whapi: FakeWhapiAPI, n: int) -> list[str]:
    ids = [f"1203630000000000{i:02d}@g.us" for i in range(n)]
    for i, group_id in enumerate(ids):
        whapi.add_group(TOKEN, group_id, f"Group {i}")
    return ids


def test_groups_listing(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    participants = [{"id": "61371989950", "rank": "creator"}]
    before = int(time.time())
    whapi.add_group(TOKEN, "120363000000000001@g.us", "Ops", participants)
    body = client.get("/groups").json()
    assert before <= body["groups"][0].pop("timestamp") <= int(time.time())
    assert body == {
        "groups": [
            {
                "id": "120363000000000001@g.us",
                "name": "Ops",
                "type": "group",
                "participants": participants,
            }
        ],
        "count": 1,
        "total": 1,
        "offset": 0,
    }


def test_groups_pagination(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    ids = add_groups(whapi, 5)
    page = client.get("/groups", params={"count": "2", "offset": "3"}).json()
    assert [group["id"] for group in page["groups"]] == ids[3:5]
    assert (page["count"], page["total"], page["offset"]) == (2, 5, 3)
    past_end = client.get("/groups", params={"offset": "9"}).json()
    assert (past_end["groups"], past_end["count"], past_end["total"]) == ([], 0, 5)
    assert client.get("/groups", params={"count": "500"}).json()["count"] == 5


def test_groups_default_count_is_100(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    for i in range(101):
        whapi.add_group(TOKEN, f"{120363100000000000 + i}@g.us", f"G{i}")
    body = client.get("/groups").json()
    assert (body["count"], body["total"]) == (100, 101)


@pytest.mark.parametrize("params", [{"count": "501"}, {"count": "0"}, {"offset": "-1"}])
def test_groups_rejects_bad_paging(client: httpx.Client, params: dict[str, str]) -> None:
    assert_error(client.get("/groups", params=params), 400, "Bad Request")


def test_group_rename_and_remove(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    first, second = add_groups(whapi, 2)
    whapi.rename_group(TOKEN, first, "Renamed")
    whapi.remove_group(TOKEN, second)
    body = client.get("/groups").json()
    assert [(g["id"], g["name"]) for g in body["groups"]] == [(first, "Renamed")]
    assert body["total"] == 1
    with pytest.raises(ValueError):
        whapi.add_group(TOKEN, "61371989950@s.whatsapp.net", "Not a group")


# -- injected faults and recording ----------------------------------------------------


def test_rate_limit_then_recovers(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.rate_limit_next(1, retry_after=7)
    limited = client.get("/health")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["error"]["code"] == 429
    assert limited.json()["error"]["message"] == "Too Many Requests"
    assert client.get("/health").status_code == 200


def test_fail_and_slow_next(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    whapi.fail_next(1, status=503)
    failed = client.get("/settings")
    assert failed.status_code == 503
    assert failed.json() == {"error": {"code": 503, "message": "Service Unavailable"}}
    whapi.slow_next(1, 0.2)
    started = time.monotonic()
    assert client.get("/settings").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_fault_arguments_are_checked(whapi: FakeWhapiAPI) -> None:
    with pytest.raises(ValueError):
        whapi.fail_next(1, status=200)
    with pytest.raises(ValueError):
        whapi.rate_limit_next(-1)
    with pytest.raises(ValueError):
        whapi.slow_next(1, -0.1)


def test_requests_are_recorded(whapi: FakeWhapiAPI, client: httpx.Client) -> None:
    client.patch("/settings", params={"x": "1"}, json={"offline_mode": True})
    client.get("/groups")
    patch, groups = whapi.requests
    assert patch.method == "PATCH"
    assert patch.path == "/settings"
    assert patch.query == {"x": "1"}
    assert patch.headers["authorization"] == f"Bearer {TOKEN}"
    assert patch.headers["content-type"] == "application/json"
    assert patch.json == {"offline_mode": True}
    assert (groups.method, groups.path, groups.json) == ("GET", "/groups", None)


def test_stop_closes_port() -> None:
    fake = FakeWhapiAPI()
    fake.start()
    url = fake.url
    fake.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2)
