"""A deployment that reaches PostgreSQL and Redis over Unix sockets, as one on the same host
should (README, Scaling out): `web` and `worker` are given socket URLs only, and a signed
Slack event still goes all the way to the channel's status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, make_url

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, distributed, eventually
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack
from tests.support.private_servers import private_redis
from tests.support.services import unix_socket_directory

pytestmark = pytest.mark.e2e


def _over_socket(postgres_url: str) -> str:
    """The same database, reached through the server's Unix socket instead of TCP."""
    directory = unix_socket_directory(postgres_url)
    assert directory is not None, "PostgreSQL has no Unix socket on this machine"
    tcp = make_url(postgres_url)
    url = URL.create(
        tcp.drivername,
        username=tcp.username,
        password=tcp.password,
        database=tcp.database,
        query={"host": directory, "port": str(tcp.port or 5432)},
    )
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, fake_slack: FakeSlackAPI
) -> Iterator[Deployment]:
    database_url = _over_socket(postgres_url)
    assert "127.0.0.1" not in database_url
    cwd = tmp_path_factory.mktemp("unix-sockets")
    with (
        private_redis() as redis_server,
        distributed(cwd, database_url, redis_server.unix_url, SLACK_API_URL=fake_slack.url) as d,
    ):
        yield d


def test_webhook_to_status_over_unix_sockets(deployment: Deployment) -> None:
    with deployment.client(deployment.org_token()) as api:
        instance = api.post("/v1/instances", json={"name": "Acme"}).json()["id"]
        channel: dict[str, Any] = api.post(
            f"/v1/instances/{instance}/channels", json={"channel_type": "slack"}
        ).json()
        config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
        connect = f"/v1/instances/{instance}/channels/{channel['id']}/connect"
        assert api.post(connect, json={"config": config}).status_code == 200

        body = slack.event_callback("EvUNIX1", slack.message("over a socket"))
        answer = httpx.post(
            f"{deployment.base_url}/webhooks/slack/{channel['id']}",
            content=body,
            headers=slack.sign(SIGNING_SECRET, body),
        )
        assert answer.status_code == 200, answer.text

        url = f"/v1/instances/{instance}/channels/{channel['id']}"
        seen = eventually(lambda: api.get(url).json(), lambda c: c["last_event_at"] is not None)
        assert seen["status"] == "connected", deployment.logs()
    rows = deployment.sql("SELECT status, attempts FROM events WHERE dedup_key = 'EvUNIX1'")
    assert [tuple(r) for r in rows] == [("processed", 1)]
