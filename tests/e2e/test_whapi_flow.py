"""Whapi end to end: connect (QR), the worker's PATCH /settings, then the status sequence."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.whapi_api import FakeWhapiAPI

pytestmark = pytest.mark.e2e

WHAPI_TOKEN = "whapi-good-channel-token-0001"
WHAPI_CHANNEL = "MANTIS-M72HC"
USERS_OWN_WEBHOOK = {
    "url": "https://crm.example.com/whatsapp",
    "events": [{"type": "messages", "method": "post"}],
    "mode": "method",
    "headers": {"Authorization": "Bearer crm"},
}
EVENTS = [
    {"type": "channel", "method": "post"},
    {"type": "channel", "method": "patch"},
    {"type": "users", "method": "post"},
    {"type": "users", "method": "delete"},
    {"type": "messages", "method": "post"},
    {"type": "statuses", "method": "post"},
]


@pytest.fixture(scope="module")
def fake_whapi() -> Iterator[FakeWhapiAPI]:
    with FakeWhapiAPI() as fake:
        fake.add_channel(WHAPI_TOKEN, channel_id=WHAPI_CHANNEL)
        fake.set_settings(WHAPI_TOKEN, {"webhooks": [USERS_OWN_WEBHOOK]})
        yield fake


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_whapi: FakeWhapiAPI,
) -> Iterator[Deployment]:
    fake_whapi.logout(WHAPI_TOKEN)
    fake_whapi.set_settings(WHAPI_TOKEN, {"webhooks": [USERS_OWN_WEBHOOK]})
    cwd: Path = tmp_path_factory.mktemp(f"whapi-{request.param}")
    with deployed(request.param, request, cwd, WHAPI_GATE_URL=fake_whapi.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def connected(api: httpx.Client) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "WhatsApp"}).json()["id"]
    url = f"/v1/instances/{instance}/channels/whatsapp/connect"
    bad = api.post(url, json={"config": {"token": "not-a-whapi-token"}})
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CREDENTIALS")
    assert api.get(f"/v1/instances/{instance}/channels").json()["count"] == 0
    response = api.post(url, json={"config": {"token": WHAPI_TOKEN}})
    assert response.status_code == 200, response.text
    assert WHAPI_TOKEN not in response.text
    body: dict[str, Any] = response.json()
    return body


def _ours(fake: FakeWhapiAPI, channel: dict[str, Any]) -> dict[str, Any] | None:
    hooks = fake.settings(WHAPI_TOKEN)["webhooks"]
    return next((h for h in hooks if h["url"] == channel["webhook_url"]), None)


def _token(fake: FakeWhapiAPI, channel: dict[str, Any]) -> str:
    hook = eventually(lambda: _ours(fake, channel), lambda h: h is not None)
    assert hook is not None, "the worker never patched Whapi's settings"
    token: str = hook["headers"]["X-Webhook-Token"]
    return token


def test_connect_shows_the_qr_and_the_worker_points_whapi_here(
    connected: dict[str, Any], fake_whapi: FakeWhapiAPI
) -> None:
    channel = connected["channel"]
    assert connected["status"] == channel["status"] == "awaiting_scan"
    assert connected["qr_data"] == fake_whapi.last_qr(WHAPI_TOKEN)
    assert connected["qr_image_base64"] and not connected["qr_image_base64"].startswith("data:")
    assert channel["qr"]["qr_data"] == connected["qr_data"]
    assert channel["external_identifier"] == WHAPI_CHANNEL
    token = _token(fake_whapi, channel)
    patch = [r for r in fake_whapi.requests if r.method == "PATCH"][-1]
    assert patch.path == "/settings"
    assert patch.json == {
        "webhooks": [
            USERS_OWN_WEBHOOK,
            {
                "url": channel["webhook_url"],
                "mode": "body",
                "headers": {"X-Webhook-Token": token},
                "events": EVENTS,
            },
        ],
        "callback_persist": True,
    }
    assert fake_whapi.settings(WHAPI_TOKEN)["callback_persist"] is True


def _send(
    deployment: Deployment, channel: dict[str, Any], payload: dict[str, Any], token: str
) -> int:
    response = httpx.post(
        f"{deployment.base_url}/webhooks/whapi/{channel['id']}",
        content=json.dumps({**payload, "channel_id": WHAPI_CHANNEL}).encode(),
        headers={"X-Webhook-Token": token, "Content-Type": "application/json"},
    )
    return response.status_code


def _health(text: str, start_at: int, uptime: int) -> dict[str, Any]:
    health = {"start_at": start_at, "uptime": uptime, "status": {"code": 0, "text": text}}
    return {"health": health, "event": {"type": "channel", "event": "post"}}


def _user(action: str) -> dict[str, Any]:
    return {
        "user": {"id": "61371989950", "name": "Jo"},
        "event": {"type": "users", "event": action},
    }


def _message(message_id: str, at: int) -> dict[str, Any]:
    message = {"id": message_id, "from_me": False, "type": "text", "timestamp": at}
    return {"messages": [message], "event": {"type": "messages", "event": "post"}}


def _state(api: httpx.Client, channel: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = api.get(
        f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    ).json()
    return state


def _first_sync_done(api: httpx.Client, channel: dict[str, Any]) -> None:
    url = f"/v1/instances/{channel['instance_id']}/connections/{channel['connection_id']}"
    synced = eventually(lambda: api.get(url).json(), lambda c: c["last_sync"] is not None)
    assert synced["last_sync"] is not None, synced


def _expect(api: httpx.Client, channel: dict[str, Any], status: str) -> dict[str, Any]:
    state = eventually(lambda: _state(api, channel), lambda s: s["status"] == status)
    assert state["status"] == status, state
    return state


def test_the_whapi_sequence_drives_status(
    deployment: Deployment,
    api: httpx.Client,
    connected: dict[str, Any],
    fake_whapi: FakeWhapiAPI,
) -> None:
    channel, token = connected["channel"], _token(fake_whapi, connected["channel"])
    _first_sync_done(api, channel)
    # Health reports are timed by the channel's own clock; the ones that count come after
    # the connect and its first sync (older ones lose to them), and before the `users` event
    # timed on arrival.
    connected_by = time.time()
    time.sleep(2.2)
    start = int(connected_by) - 10
    assert _send(deployment, channel, _health("INIT", start, 11), token) == 200
    connecting = _expect(api, channel, "connecting")
    assert _send(deployment, channel, _health("QR", start, 12), token) == 200
    scanning = _expect(api, channel, "awaiting_scan")
    assert scanning["last_event_at"] > connecting["last_event_at"]
    assert _send(deployment, channel, _user("post"), token) == 200
    live = _expect(api, channel, "connected")
    assert live["qr"] is None
    message_at = int(time.time()) + 2
    assert _send(deployment, channel, _message("m-1", message_at), token) == 200
    moved = eventually(
        lambda: _state(api, channel), lambda s: s["last_event_at"] > live["last_event_at"]
    )
    assert moved["last_event_at"] > live["last_event_at"]
    # `users` events carry no time of their own: they are timed on arrival, so this one must
    # arrive after the message's time (a later proof of life would outrank the logout).
    time.sleep(max(0.0, message_at - time.time()) + 0.1)
    assert _send(deployment, channel, _user("delete"), token) == 200
    gone = _expect(api, channel, "disconnected")
    assert gone["error_message"] == "The WhatsApp account logged out"


def test_events_out_of_order_end_in_the_newest_state(
    deployment: Deployment,
    api: httpx.Client,
    connected: dict[str, Any],
    fake_whapi: FakeWhapiAPI,
) -> None:
    channel, token = connected["channel"], _token(fake_whapi, connected["channel"])
    later = int(time.time()) + 600  # newer than anything so far
    assert _send(deployment, channel, _health("AUTH", later, 60), token) == 200
    assert _send(deployment, channel, _health("QR", later, 20), token) == 200
    assert _send(deployment, channel, _health("INIT", later, 1), token) == 200
    rows = eventually(
        lambda: deployment.sql(
            "SELECT count(*) FROM events WHERE channel_id = :c AND status = 'pending'",
            c=channel["id"],
        ),
        lambda r: r[0][0] == 0,
    )
    assert rows[0][0] == 0
    assert _state(api, channel)["status"] == "connected"


def test_forgeries_and_other_channels_are_refused(
    deployment: Deployment, connected: dict[str, Any], fake_whapi: FakeWhapiAPI
) -> None:
    channel, token = connected["channel"], _token(fake_whapi, connected["channel"])
    message = _message("m-forged", int(time.time()))
    assert _send(deployment, channel, message, token[:-1] + "x") == 401
    assert _send(deployment, channel, message, "") == 401
    other = httpx.post(
        f"{deployment.base_url}/webhooks/whapi/{channel['id']}",
        content=json.dumps({**message, "channel_id": "SOMEONE-ELSE"}).encode(),
        headers={"X-Webhook-Token": token},
    )
    assert other.status_code == 401
    stored = deployment.sql("SELECT count(*) FROM events WHERE dedup_key LIKE '%m-forged%'")
    assert stored[0][0] == 0


def test_the_token_in_the_query_works_and_never_reaches_a_log(
    deployment: Deployment, connected: dict[str, Any], fake_whapi: FakeWhapiAPI
) -> None:
    channel, token = connected["channel"], _token(fake_whapi, connected["channel"])
    url = f"{deployment.base_url}/webhooks/whapi/{channel['id']}"
    body = json.dumps({**_message("m-query", int(time.time())), "channel_id": WHAPI_CHANNEL})
    assert httpx.post(url, params={"token": token}, content=body).status_code == 200
    assert httpx.post(url, params={"token": token + "x"}, content=body).status_code == 401
    dump = deployment.logs() + str(deployment.sql("SELECT * FROM connections"))
    assert token not in dump and WHAPI_TOKEN not in dump


def test_reconnecting_rotates_the_token_without_dropping_events(
    deployment: Deployment,
    api: httpx.Client,
    connected: dict[str, Any],
    fake_whapi: FakeWhapiAPI,
) -> None:
    channel = connected["channel"]
    old = _token(fake_whapi, channel)
    fake_whapi.authenticate(WHAPI_TOKEN)  # the phone has been linked meanwhile: login is 409
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}/connect"
    again = api.post(url, json={"config": {"token": WHAPI_TOKEN}})
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "connected" and "qr_data" not in again.json()
    new = eventually(lambda: _token(fake_whapi, channel), lambda t: t != old)
    assert new != old
    hooks = fake_whapi.settings(WHAPI_TOKEN)["webhooks"]
    assert len(hooks) == 2 and hooks[0] == {**USERS_OWN_WEBHOOK}
    message = _message("m-rotated", int(time.time()))
    assert _send(deployment, channel, message, new) == 200
    # Once Whapi sends the new token the old one stops working (within the 5 s lookup cache).
    refused = eventually(lambda: _send(deployment, channel, message, old), lambda s: s == 401)
    assert refused == 401
