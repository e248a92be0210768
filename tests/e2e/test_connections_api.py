"""Connections as resources (contract §4, §8): create, read, update, validate, delete, select.

Credentials the provider refuses are a 400 with the error code, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.slack_api import FakeSlackAPI

pytestmark = pytest.mark.e2e

TOKEN, OTHER_TOKEN, UNKNOWN_TOKEN = "xoxb-conn-1-token", "xoxb-conn-2-token", "xoxb-nobody-here"
CHANNELS: list[dict[str, Any]] = [
    {"id": "C001", "name": "general", "num_members": 12},
    {"id": "C002", "name": "random", "num_members": 7},
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        for token in (TOKEN, OTHER_TOKEN):
            fake.add_workspace(token, team_id="T0CONN", team="Connectors", channels=CHANNELS)
        yield fake


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake: FakeSlackAPI
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("connections")
    with deployed("embedded", request, cwd, SLACK_API_URL=fake.url) as deployment:
        yield deployment


@pytest.fixture
def instance(api: httpx.Client) -> str:
    instance_id: str = api.post("/v1/instances", json={"name": "Connections"}).json()["id"]
    return instance_id


def _slack(token: str = TOKEN, **extra: Any) -> dict[str, Any]:
    credentials = {"bot_token": token, "signing_secret": SIGNING_SECRET}
    return {"platform": "slack", "credentials": credentials, **extra}


def _create(api: httpx.Client, instance: str, **extra: Any) -> dict[str, Any]:
    response = api.post(f"/v1/instances/{instance}/connections", json=_slack(**extra))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _url(connection: dict[str, Any], tail: str = "") -> str:
    return f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}{tail}"


def _synced_after(api: httpx.Client, connection: dict[str, Any], before: str | None) -> Any:
    return eventually(
        lambda: api.get(_url(connection)).json(),
        lambda c: c["last_sync"] is not None and c["last_sync"] != before,
    )


def test_refused_or_malformed_credentials_save_nothing(
    api: httpx.Client, instance: str, fake: FakeSlackAPI, deployment: Deployment
) -> None:
    url = f"/v1/instances/{instance}/connections"
    refused = api.post(url, json=_slack(UNKNOWN_TOKEN))
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "INVALID_CREDENTIALS"
    assert UNKNOWN_TOKEN not in refused.text
    malformed = api.post(url, json={"platform": "slack", "credentials": {"bot_token": TOKEN}})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["loc"] == ["credentials", "signing_secret"]
    unknown = api.post(url, json={**_slack(), "platform": "myspace"})
    assert unknown.status_code == 422
    fake.rate_limit_next(1, retry_after=7)
    limited = api.post(url, json=_slack())
    assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
    assert limited.headers["retry-after"] == "7"
    assert api.get(url).json()["count"] == 0
    audited = deployment.sql(
        "SELECT action FROM audit_entries WHERE instance_id = :i AND action LIKE :what",
        i=instance,
        what="connection.%",
    )
    assert audited == []
    audit = api.get(f"/v1/instances/{instance}/audit")
    if audit.status_code == 200:  # the audit API may not exist yet; nothing may be logged
        assert not [a for a in audit.json().get("entries", []) if "connection" in a["action"]]


def test_a_created_connection_is_checked_synced_and_never_shows_secrets(
    api: httpx.Client, instance: str
) -> None:
    created = _create(api, instance, settings={"sync_interval_minutes": 60})
    assert created["platform"] == "slack" and created["status"] == "connected"
    assert created["name"] == "Connectors" and created["validated_at"]
    assert created["settings"]["sync_interval_minutes"] == 60
    assert created["settings"]["sync_enabled"] is True
    assert TOKEN not in str(created) and SIGNING_SECRET not in str(created)
    synced = _synced_after(api, created, None)
    assert synced["channel_count"] == 2
    listed = api.get(f"/v1/instances/{instance}/connections").json()
    assert [c["id"] for c in listed["connections"]] == [created["id"]]
    assert listed["next_cursor"] is None
    url = f"/v1/instances/{instance}/connections"
    assert api.get(url, params={"platform": "discord"}).json()["count"] == 0
    assert api.get(url, params={"platform": "slack"}).json()["count"] == 1


def test_an_update_checks_new_credentials_before_saving_them(
    api: httpx.Client, instance: str, fake: FakeSlackAPI, deployment: Deployment
) -> None:
    created = _create(api, instance)
    stored_before = deployment.sql(
        "SELECT credentials_encrypted FROM connections WHERE id = :c", c=created["id"]
    )[0][0]
    refused = api.put(_url(created), json={"credentials": _slack(UNKNOWN_TOKEN)["credentials"]})
    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_CREDENTIALS")
    stored_after = deployment.sql(
        "SELECT credentials_encrypted FROM connections WHERE id = :c", c=created["id"]
    )[0][0]
    assert stored_after == stored_before
    assert TOKEN not in stored_after and SIGNING_SECRET not in stored_after

    renamed = api.put(_url(created), json={"name": "Ops", "settings": {"sync_enabled": False}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Ops"
    assert renamed.json()["settings"]["sync_enabled"] is False
    assert renamed.json()["settings"]["sync_interval_minutes"] == 240
    bad_interval = api.put(_url(created), json={"settings": {"sync_interval_minutes": 0}})
    assert bad_interval.status_code == 422
    assert api.get(_url(created)).json()["settings"]["sync_interval_minutes"] == 240

    before = _synced_after(api, created, None)["last_sync"]
    new = api.put(_url(created), json={"credentials": _slack(OTHER_TOKEN)["credentials"]})
    assert new.status_code == 200, new.text
    assert new.json()["credentials_hint"]["bot_token"].endswith(OTHER_TOKEN[-4:])
    _synced_after(api, created, before)  # new credentials are followed by a sync
    auth_tests = [r for r in fake.requests if r.api_method == "auth.test"]
    assert auth_tests[-1].headers["authorization"] == f"Bearer {OTHER_TOKEN}"


def test_validate_reports_the_verdict_and_the_channels_follow_it(
    api: httpx.Client, instance: str, fake: FakeSlackAPI, deployment: Deployment
) -> None:
    token = "xoxb-conn-3-token"
    fake.add_workspace(token, team_id="T0VAL", team="Validators", channels=CHANNELS)
    config = {"bot_token": token, "signing_secret": SIGNING_SECRET}
    connected = api.post(
        f"/v1/instances/{instance}/channels/slack/connect", json={"config": config}
    )
    assert connected.status_code == 200, connected.text
    channel = connected.json()["channel"]
    connection = api.get(f"/v1/instances/{instance}/connections/{channel['connection_id']}").json()

    ok = api.post(_url(connection, "/validate"))
    assert ok.status_code == 200 and ok.json()["valid"] is True
    assert ok.json()["connection"]["status"] == "connected"

    fake.revoke(token)
    refused = api.post(_url(connection, "/validate")).json()
    assert refused["valid"] is False and refused["error"]["code"] == "AUTH_EXPIRED"
    assert api.get(_url(connection)).json()["status"] == "error"
    channel_url = f"/v1/instances/{instance}/channels/{channel['id']}"
    assert api.get(channel_url).json()["status"] == "error"

    fake.add_workspace(token, team_id="T0VAL", team="Validators", channels=CHANNELS)
    again = api.post(_url(connection, "/validate")).json()
    assert again["valid"] is True and again["connection"]["error"] is None
    assert api.get(channel_url).json()["status"] == "connected"

    in_use = api.delete(_url(connection))
    assert (in_use.status_code, in_use.json()["code"]) == (409, "CONNECTION_IN_USE")
    assert in_use.json()["channel_ids"] == [channel["id"]]
    assert api.get(_url(connection)).status_code == 200
    assert api.delete(channel_url).status_code == 204
    assert api.delete(_url(connection)).status_code == 204
    assert api.get(_url(connection)).status_code == 404
    assert deployment.sql(
        "SELECT count(*) FROM remote_channels WHERE connection_id = :c", c=connection["id"]
    ) == [(0,)]


def test_a_chosen_selection_does_not_follow_channels_found_later(
    api: httpx.Client, instance: str, fake: FakeSlackAPI
) -> None:
    token = "xoxb-conn-4-token"
    fake.add_workspace(token, team_id="T0SEL", team="Selectors", channels=CHANNELS)
    created = _create(api, instance, credentials=_slack(token)["credentials"])
    before = _synced_after(api, created, None)["last_sync"]
    chosen = api.put(_url(created, "/channels"), json={"channel_ids": ["C002"]})
    assert [(r["id"], r["sync_enabled"]) for r in chosen.json()["channels"]] == [
        ("C001", False),
        ("C002", True),
    ]
    grown = [*CHANNELS, {"id": "C003", "name": "zz-launches"}]
    fake.add_workspace(token, team_id="T0SEL", team="Selectors", channels=grown)
    assert api.post(_url(created, "/sync")).status_code == 202
    before = _synced_after(api, created, before)["last_sync"]
    remotes = api.get(_url(created, "/channels")).json()["channels"]
    assert [(r["id"], r["sync_enabled"]) for r in remotes] == [
        ("C001", False),
        ("C002", True),
        ("C003", False),
    ]
    followed = api.get(_url(created, "/channels"), params={"sync_enabled": "true", "limit": 1})
    assert [r["id"] for r in followed.json()["channels"]] == ["C002"]
    assert followed.json()["next_cursor"] is None
    everything = api.put(_url(created, "/channels"), json={"sync_all": True})
    assert all(r["sync_enabled"] for r in everything.json()["channels"])


def test_writing_connections_needs_the_write_scope(
    api: httpx.Client, instance: str, deployment: Deployment
) -> None:
    created = _create(api, instance)
    reader_token = deployment.cli(
        "tokens", "create", "--instance", instance, "--scopes", "connections:read"
    ).strip()
    with deployment.client(reader_token) as reader:
        assert reader.get(_url(created)).status_code == 200
        assert (
            reader.post(f"/v1/instances/{instance}/connections", json=_slack()).status_code == 403
        )
        assert reader.put(_url(created), json={"name": "x"}).status_code == 403
        assert reader.delete(_url(created)).status_code == 403
        assert reader.post(_url(created, "/validate")).status_code == 403
    assert api.get(_url(created)).json()["name"] == "Connectors"


def test_reconnect_checks_the_stored_credentials_again(
    api: httpx.Client, instance: str, fake: FakeSlackAPI
) -> None:
    token = "xoxb-conn-5-token"
    fake.add_workspace(token, team_id="T0RE", team="Reconnectors", channels=CHANNELS)
    base = f"/v1/instances/{instance}/channels"
    assert api.post(f"{base}/slack/reconnect").status_code == 404  # no slack channel yet
    sms = api.post(base, json={"channel_type": "sms"}).json()
    never = api.post(f"{base}/{sms['id']}/reconnect")
    assert (never.status_code, never.json()["code"]) == (409, "NOT_CONNECTED")
    config = {"bot_token": token, "signing_secret": SIGNING_SECRET}
    assert api.post(f"{base}/slack/connect", json={"config": config}).status_code == 200

    again = api.post(f"{base}/slack/reconnect")
    assert again.status_code == 200, again.text
    assert (again.json()["success"], again.json()["connected"]) == (True, True)

    fake.revoke(token)
    refused = api.post(f"{base}/slack/reconnect")
    assert refused.status_code == 200, refused.text
    body = refused.json()
    assert (body["success"], body["connected"]) == (False, False)
    assert body["error"]["code"] == "AUTH_EXPIRED"
    assert body["channel"]["status"] == "error"
    assert token not in refused.text and SIGNING_SECRET not in refused.text

    fake.add_workspace(token, team_id="T0RE", team="Reconnectors", channels=CHANNELS)
    back = api.post(f"{base}/slack/reconnect").json()
    assert back["success"] is True and back["channel"]["status"] == "connected"
    actions = [e["action"] for e in api.get(f"/v1/instances/{instance}/audit").json()["entries"]]
    assert actions.count("channel.reconnect") == 3
