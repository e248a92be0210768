"""Nothing accepted is lost: events whose broker messages vanished are relayed and processed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, eventually
from tests.e2e.deployments import distributed as distributed_deployment
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack
from tests.support.processes import Process

pytestmark = pytest.mark.e2e


@pytest.fixture
def web_only(
    tmp_path: Path, fake_slack: FakeSlackAPI, postgres_url: str, test_redis_url: str
) -> Iterator[Deployment]:
    # `distributed` starts web + worker; the worker is stopped at once to let messages pile up.
    env = {"SLACK_API_URL": fake_slack.url, "RELAY_LEASE_SECONDS": "1"}
    with distributed_deployment(tmp_path, postgres_url, test_redis_url, **env) as deployment:
        deployment.processes.pop("worker").stop()
        yield deployment


def test_events_lost_by_the_broker_are_relayed(web_only: Deployment, test_redis_url: str) -> None:
    deployment = web_only
    with deployment.client(deployment.org_token()) as api:
        instance = api.post("/v1/instances", json={"name": "Relay"}).json()["id"]
        config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
        connected = api.post(
            f"/v1/instances/{instance}/channels/slack/connect", json={"config": config}
        )
        channel = connected.json()["channel"]["id"]
    for n in range(3):
        body = slack.event_callback(f"EvRelay{n}", slack.message(), int(time.time()) + 1)
        response = httpx.post(
            f"{deployment.base_url}/webhooks/slack/{channel}",
            content=body,
            headers=slack.sign(SIGNING_SECRET, body),
        )
        assert response.status_code == 200
    pending = "SELECT count(*) FROM events WHERE channel_id = :c AND status = 'pending'"
    assert deployment.sql(pending, c=channel)[0][0] == 3
    redis.Redis.from_url(test_redis_url).flushdb()  # the broker loses every queued message

    for name in ("worker", "scheduler"):
        process = Process([name], deployment.env, deployment.cwd, name)
        deployment.processes[name] = process
    rows = eventually(
        lambda: deployment.sql(
            "SELECT status, attempts FROM events WHERE channel_id = :c", c=channel
        ),
        lambda r: all(row[0] == "processed" for row in r),
        timeout=30,
    )
    assert [tuple(r) for r in rows] == [("processed", 1)] * 3
    status = deployment.sql("SELECT status FROM channels WHERE id = :c", c=channel)[0][0]
    assert status == "connected"
