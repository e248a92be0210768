"""A signed Slack event in, channel status out: through a real server, worker and database.

Runs twice: embedded (`switchboard serve`, SQLite, in-process broker) and distributed
(`switchboard web` + `switchboard worker`, PostgreSQL, Redis).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, eventually
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def slack_channel(api: httpx.Client) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "Acme"}).json()
    channel = api.post(f"/v1/instances/{instance['id']}/channels", json={"channel_type": "slack"})
    assert channel.status_code == 201, channel.text
    assert channel.json()["status"] == "pending"
    return cast(dict[str, Any], channel.json())


def _post(deployment: Deployment, channel_id: str, body: bytes, **headers: str) -> httpx.Response:
    signed = slack.sign(SIGNING_SECRET, body)
    return httpx.post(
        f"{deployment.base_url}/webhooks/slack/{channel_id}",
        content=body,
        headers={**signed, **headers},
    )


def _channel(api: httpx.Client, channel: dict[str, Any]) -> dict[str, Any]:
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    response = api.get(url)
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def test_bad_bot_token_is_refused_and_changes_nothing(
    api: httpx.Client, slack_channel: dict[str, Any]
) -> None:
    url = f"/v1/instances/{slack_channel['instance_id']}/channels/{slack_channel['id']}/connect"
    response = api.post(url, json={"config": {"bot_token": "xoxb-wrong", "signing_secret": "x"}})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "INVALID_CREDENTIALS"
    assert _channel(api, slack_channel)["status"] == "pending"
    assert _channel(api, slack_channel)["connection_id"] is None


def test_connect_validates_with_auth_test(
    api: httpx.Client, slack_channel: dict[str, Any], fake_slack: FakeSlackAPI
) -> None:
    url = f"/v1/instances/{slack_channel['instance_id']}/channels/slack/connect"
    config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
    response = api.post(url, json={"config": config})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "connected"
    assert body["channel"]["id"] == slack_channel["id"]
    assert body["channel"]["external_identifier"] == "T0001"
    assert body["channel"]["webhook_url"].endswith(f"/webhooks/slack/{slack_channel['id']}")
    assert GOOD_BOT_TOKEN not in response.text and SIGNING_SECRET not in response.text
    last = [r for r in fake_slack.requests if r.api_method == "auth.test"][-1]
    assert last.headers["authorization"] == f"Bearer {GOOD_BOT_TOKEN}"


def test_url_verification_answers_the_challenge(
    deployment: Deployment, slack_channel: dict[str, Any]
) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    response = _post(deployment, slack_channel["id"], body.encode())
    assert response.status_code == 200
    assert response.json() == {"challenge": challenge}


def test_event_makes_channel_connected_with_last_event_at(
    deployment: Deployment, api: httpx.Client, slack_channel: dict[str, Any]
) -> None:
    event_time = int(time.time()) + 2
    body = slack.event_callback("Ev0001", slack.message(), event_time)
    assert _post(deployment, slack_channel["id"], body).status_code == 200
    seen = eventually(
        lambda: _channel(api, slack_channel), lambda c: c["last_event_at"] is not None
    )
    assert seen["status"] == "connected"
    assert _when(seen["last_event_at"]) == datetime.fromtimestamp(event_time, UTC)


def test_duplicate_delivery_is_processed_once(
    deployment: Deployment, slack_channel: dict[str, Any]
) -> None:
    body = slack.event_callback("Ev0002", slack.message("twice"))
    first = _post(deployment, slack_channel["id"], body)
    retry = _post(
        deployment,
        slack_channel["id"],
        body,
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert (first.status_code, retry.status_code) == (200, 200)
    rows = eventually(
        lambda: deployment.sql("SELECT status, attempts FROM events WHERE dedup_key = 'Ev0002'"),
        lambda r: bool(r) and r[0][0] == "processed",
    )
    assert [tuple(r) for r in rows] == [("processed", 1)]


def test_older_event_does_not_move_last_event_at_back(
    deployment: Deployment, api: httpx.Client, slack_channel: dict[str, Any]
) -> None:
    newest = int(time.time()) + 5
    assert (
        _post(
            deployment, slack_channel["id"], slack.event_callback("Ev0003", slack.message(), newest)
        ).status_code
        == 200
    )
    eventually(
        lambda: _channel(api, slack_channel),
        lambda c: _when(c["last_event_at"]) == datetime.fromtimestamp(newest, UTC),
    )
    older = slack.event_callback("Ev0004", slack.message("late"), newest - 60)
    assert _post(deployment, slack_channel["id"], older).status_code == 200
    eventually(
        lambda: deployment.sql("SELECT status FROM events WHERE dedup_key = 'Ev0004'"),
        lambda r: bool(r) and r[0][0] == "processed",
    )
    channel = _channel(api, slack_channel)
    assert _when(channel["last_event_at"]) == datetime.fromtimestamp(newest, UTC)
    assert channel["status"] == "connected"


def test_tokens_revoked_disconnects(
    deployment: Deployment, api: httpx.Client, slack_channel: dict[str, Any]
) -> None:
    # The sync that connecting requested finds the token good and marks the connection
    # connected: let it finish first, or it can land after the event and undo its error.
    connection_id = _channel(api, slack_channel)["connection_id"]
    last_sync = "SELECT last_sync FROM connections WHERE id = :id"
    eventually(
        lambda: deployment.sql(last_sync, id=connection_id),
        lambda r: bool(r) and r[0][0] is not None,
    )
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}
    body = slack.event_callback("Ev0005", revoked, int(time.time()) + 10)
    assert _post(deployment, slack_channel["id"], body).status_code == 200
    channel = eventually(
        lambda: _channel(api, slack_channel), lambda c: c["status"] == "disconnected"
    )
    assert channel["status"] == "disconnected"
    assert "revoked" in channel["error_message"]
    rows = deployment.sql(
        "SELECT status, error FROM connections WHERE id = :id", id=channel["connection_id"]
    )
    assert rows[0][0] == "error"


def test_stale_signature_is_refused_and_not_stored(
    deployment: Deployment, slack_channel: dict[str, Any]
) -> None:
    body = slack.event_callback("Ev0006", slack.message())
    headers = slack.sign(SIGNING_SECRET, body, timestamp=int(time.time()) - 301)
    response = httpx.post(
        f"{deployment.base_url}/webhooks/slack/{slack_channel['id']}", content=body, headers=headers
    )
    assert response.status_code == 401
    assert deployment.sql("SELECT count(*) FROM events WHERE dedup_key = 'Ev0006'")[0][0] == 0


def test_readyz_reports_database_and_broker(deployment: Deployment) -> None:
    response = httpx.get(deployment.base_url + "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_no_secret_reaches_the_logs_or_the_database(deployment: Deployment) -> None:
    logs = deployment.logs()
    assert SIGNING_SECRET not in logs and GOOD_BOT_TOKEN not in logs
    dump = "\n".join(
        str(tuple(row))
        for table in ("connections", "channels", "events", "audit_entries")
        for row in deployment.sql(f"SELECT * FROM {table}")
    )
    assert SIGNING_SECRET not in dump and GOOD_BOT_TOKEN not in dump
    assert "legacy-verification-token" not in dump
