"""Provider request budgets are shared by every worker process (Redis): three worker processes
syncing twelve connections to one workspace send it no more than the budget allows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import Deployment, distributed, eventually, restart_workers
from tests.fakes.slack_api import FakeSlackAPI

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-budget-workspace-token"
CONNECTIONS = 12
PER_SECOND = 2  # conversations.list budget for the test: 2 per second per workspace


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        fake.add_workspace(TOKEN, team_id="T0BUDGET", team="Budget", channels=[])
        yield fake


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    fake: FakeSlackAPI,
    postgres_url: str,
    test_redis_url: str,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("budgets")
    env = {"SLACK_API_URL": fake.url, "PROVIDER_RATE_LIMITS": f"slack.tier2={PER_SECOND}/1"}
    with distributed(cwd, postgres_url, test_redis_url, **env) as deployment:
        restart_workers(deployment, processes=3, threads=4)
        yield deployment


def test_many_workers_keep_to_one_workspace_budget(api: httpx.Client, fake: FakeSlackAPI) -> None:
    instance = api.post("/v1/instances", json={"name": "Budget"}).json()["id"]
    credentials = {"bot_token": TOKEN, "signing_secret": SIGNING_SECRET}
    url = f"/v1/instances/{instance}/connections"
    for _ in range(CONNECTIONS):  # each is followed by a sync: 12 syncs queued at once
        created = api.post(url, json={"platform": "slack", "credentials": credentials})
        assert created.status_code == 201, created.text

    def synced() -> int:
        listed = api.get(url).json()["connections"]
        return sum(c["last_sync"] is not None and c["error"] is None for c in listed)

    assert eventually(synced, lambda n: n == CONNECTIONS, timeout=60) == CONNECTIONS
    listings = sorted(r.received_at for r in fake.requests if r.api_method == "conversations.list")
    assert len(listings) == CONNECTIONS
    # Twelve calls at two per second need six distinct seconds: more than four seconds from
    # first to last. Unlimited, twelve worker threads finish them in well under one.
    assert listings[-1] - listings[0] > (CONNECTIONS / PER_SECOND - 2), listings
    # The budget counts calendar seconds (Dramatiq's WindowRateLimiter).
    per_second = Counter(int(t) for t in listings)
    assert max(per_second.values()) <= PER_SECOND + 1, listings  # +1: one may cross a second
