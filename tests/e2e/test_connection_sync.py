"""Connection syncs on PostgreSQL + Redis with two schedulers and three worker processes:
one sync per connection per interval, on demand too, and never two at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import Deployment, distributed, eventually, restart_workers
from tests.fakes.slack_api import FakeSlackAPI
from tests.support.processes import Process

pytestmark = pytest.mark.e2e

TOKENS = [f"xoxb-sync-{n}-token" for n in range(3)]
CHANNELS: list[dict[str, Any]] = [
    {"id": "C001", "name": "general", "num_members": 12},
    {"id": "C002", "name": "random", "num_members": 7},
    {"id": "C003", "name": "alerts"},
]


def _workspace(fake: FakeSlackAPI, token: str, channels: list[dict[str, Any]]) -> None:
    fake.add_workspace(token, team_id=f"T{token[10]}", team=f"Team {token[10]}", channels=channels)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        for token in TOKENS:
            _workspace(fake, token, CHANNELS)
        yield fake


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeSlackAPI,
    postgres_url: str,
    test_redis_url: str,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("sync")
    env = {"SLACK_API_URL": fake.url, "SYNC_CHECK_SECONDS": "0.3"}
    with distributed(cwd, postgres_url, test_redis_url, **env) as deployment:
        restart_workers(deployment, processes=3, threads=2)
        for name, args in {"scheduler-a": ["scheduler"], "scheduler-b": ["scheduler"]}.items():
            deployment.processes[name] = Process(args, deployment.env, deployment.cwd, name)
        yield deployment


def _syncs(fake: FakeSlackAPI, token: str) -> int:
    """Each sync (and each connect) calls auth.test once."""
    bearer = f"Bearer {token}"
    return sum(
        r.api_method == "auth.test" and r.headers.get("authorization") == bearer
        for r in fake.requests
    )


@pytest.fixture(scope="module")
def connections(api: httpx.Client) -> list[dict[str, Any]]:
    found = []
    for n, token in enumerate(TOKENS):
        instance = api.post("/v1/instances", json={"name": f"Sync {n}"}).json()["id"]
        config = {"bot_token": token, "signing_secret": SIGNING_SECRET}
        response = api.post(
            f"/v1/instances/{instance}/channels/slack/connect", json={"config": config}
        )
        assert response.status_code == 200, response.text
        listed = api.get(f"/v1/instances/{instance}/connections").json()
        assert listed["count"] == 1
        found.append(listed["connections"][0])
    return found


def _connection(api: httpx.Client, connection: dict[str, Any]) -> dict[str, Any]:
    url = f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}"
    current: dict[str, Any] = api.get(url).json()
    return current


def _synced(api: httpx.Client, connection: dict[str, Any]) -> dict[str, Any]:
    return eventually(lambda: _connection(api, connection), lambda c: c["last_sync"] is not None)


def _quiet(seconds: float = 2.5) -> None:
    """Long enough for both schedulers to look several times (SYNC_CHECK_SECONDS=0.3)."""
    time.sleep(seconds)


def test_a_connect_is_followed_by_one_sync_listing_the_remote_channels(
    api: httpx.Client, connections: list[dict[str, Any]], fake: FakeSlackAPI
) -> None:
    for connection in connections:
        synced = _synced(api, connection)
        assert synced["status"] == "connected" and synced["channel_count"] == 3
        base = f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}"
        remotes = api.get(f"{base}/channels").json()["channels"]
        assert [(r["id"], r["name"]) for r in remotes] == [
            ("C001", "general"),
            ("C002", "random"),
            ("C003", "alerts"),
        ]
        assert SIGNING_SECRET not in str(synced) and "xoxb-sync" not in str(synced)
    _quiet()
    assert [_syncs(fake, t) for t in TOKENS] == [2, 2, 2]  # connect + one sync, no more


def test_each_due_connection_is_synced_once_per_interval(
    deployment: Deployment, connections: list[dict[str, Any]], fake: FakeSlackAPI
) -> None:
    assert connections
    before = [_syncs(fake, t) for t in TOKENS]
    # Five hours pass for every connection (the default interval is four).
    deployment.execute("UPDATE connections SET last_sync = last_sync - interval '5 hours'")
    eventually(lambda: [_syncs(fake, t) for t in TOKENS], lambda n: n == [b + 1 for b in before])
    _quiet()
    assert [_syncs(fake, t) for t in TOKENS] == [b + 1 for b in before]


def test_renames_and_removals_are_reflected_and_the_selection_kept(
    api: httpx.Client, connections: list[dict[str, Any]], fake: FakeSlackAPI
) -> None:
    connection = connections[0]
    base = f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}"
    chosen = api.put(f"{base}/channels", json={"channel_ids": ["C001", "C003"]})
    assert chosen.status_code == 200, chosen.text
    bad = api.put(f"{base}/channels", json={"channel_ids": ["C999"]})
    assert bad.status_code == 422
    renamed = [{**CHANNELS[0], "name": "everyone"}, CHANNELS[2]]  # C002 is gone
    _workspace(fake, TOKENS[0], renamed)
    before = _connection(api, connection)["last_sync"]
    assert api.post(f"{base}/sync").status_code == 202
    eventually(lambda: _connection(api, connection), lambda c: c["last_sync"] != before)
    remotes = api.get(f"{base}/channels").json()["channels"]
    assert [(r["id"], r["name"], r["sync_enabled"]) for r in remotes] == [
        ("C001", "everyone", True),
        ("C003", "alerts", True),
    ]
    assert _connection(api, connection)["channel_count"] == 2


def test_on_demand_syncs_are_not_doubled(
    api: httpx.Client, connections: list[dict[str, Any]], fake: FakeSlackAPI
) -> None:
    connection, token = connections[1], TOKENS[1]
    fake.slow_next(1, 1.5)  # the first sync is still running when the others are asked for
    before = _syncs(fake, token)
    base = f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}"
    assert [api.post(f"{base}/sync").status_code for _ in range(3)] == [202] * 3
    _quiet()
    assert _syncs(fake, token) == before + 1


def test_revoked_credentials_end_the_sync_with_the_error_shown(
    deployment: Deployment, api: httpx.Client, connections: list[dict[str, Any]], fake: FakeSlackAPI
) -> None:
    connection, token = connections[2], TOKENS[2]
    fake.revoke(token)
    base = f"/v1/instances/{connection['instance_id']}/connections/{connection['id']}"
    assert api.post(f"{base}/sync").status_code == 202
    failed = eventually(lambda: _connection(api, connection), lambda c: c["status"] == "error")
    assert failed["error"]["code"] in ("AUTH_EXPIRED", "INVALID_CREDENTIALS")
    channel = deployment.sql(
        "SELECT status, error_message FROM channels WHERE connection_id = :c", c=connection["id"]
    )[0]
    assert channel[0] == "error" and channel[1]
    before = _syncs(fake, token)
    _quiet()
    assert _syncs(fake, token) == before  # final: not retried
