"""Scaling out changes nothing but throughput: the Procfile run as two receivers, three workers
and two schedulers ends in the same state as one of each, from the same webhooks.

The webhooks are sent concurrently, each twice, spread over the receivers, so events are
stored, deduplicated and processed in a different order on every run. The workload keeps to
what the contract orders by the events' own times, so its outcome does not depend on that
order: messages proving channels alive, a revocation later than all of them, a rate-limit
notice, and webhooks for a disabled channel.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import (
    Deployment,
    eventually,
    on_servers,
    run_procfile,
    wait_for_syncs,
)
from tests.e2e.seeds import connected_slack_channel
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack
from tests.support.deliveries import SlackProvider, Webhook, slack_message
from tests.support.private_servers import PrivatePostgres
from tests.support.private_servers import private_postgres as _private_postgres
from tests.support.private_servers import private_redis as _private_redis

pytestmark = pytest.mark.e2e

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"
EVENT_TIME = int(time.time()) + 3600  # later than the channels' connection
MESSAGES = 40
CHANNELS = ("alive", "revoked", "rate_limited", "disabled")
ONE_OF_EACH = {"web": 1, "worker": 1, "scheduler": 1}
SCALED_OUT = {"web": 2, "worker": 3, "scheduler": 2}


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PrivatePostgres]:
    with _private_postgres() as server:
        yield server


def test_scaled_out_ends_as_one_of_each(
    tmp_path: Path, fake_slack: FakeSlackAPI, postgres_server: PrivatePostgres
) -> None:
    single = _final_state(tmp_path / "single", fake_slack, postgres_server, ONE_OF_EACH)
    scaled = _final_state(tmp_path / "scaled", fake_slack, postgres_server, SCALED_OUT)
    assert scaled == single
    # And both are what the contract says.
    assert single["alive"]["channel"] == ("connected", None, EVENT_TIME + MESSAGES - 1, True)
    assert single["revoked"]["channel"][0] == "disconnected"
    assert single["revoked"]["connection"] == ("error", "AUTH_EXPIRED")
    assert single["rate_limited"]["channel"][:2] == ("connected", _RATE_LIMITED)
    assert single["disabled"]["channel"][0] == "disabled"
    assert {e[2] for e in single["disabled"]["events"]} == {"ignored"}
    stored = sum(len(state["events"]) for state in single.values())
    assert stored == 4 * MESSAGES + 2, "each webhook stored once, though delivered twice"
    enabled = [e for label, s in single.items() if label != "disabled" for e in s["events"]]
    assert {(status, attempts) for *_, status, attempts in enabled} == {("processed", 1)}


_RATE_LIMITED = "Slack is rate limiting event delivery to this app"


def _final_state(
    cwd: Path, fake_slack: FakeSlackAPI, postgres: PrivatePostgres, counts: dict[str, int]
) -> dict[str, dict[str, Any]]:
    cwd.mkdir()
    database = postgres.create_database()
    with (
        _private_redis() as redis_server,
        on_servers(cwd, database, redis_server.url, SLACK_API_URL=fake_slack.url) as deployment,
    ):
        run_procfile(deployment, PROCFILE, **counts)
        channels = _channels(deployment)
        webhooks = _workload(channels)
        twice = webhooks + webhooks
        random.Random(6).shuffle(twice)
        with SlackProvider(deployment.receivers, SIGNING_SECRET) as provider:
            deliveries = provider.deliver_all(twice, threads=16)
        assert all(d.acknowledged for d in deliveries)
        eventually(lambda: _pending(deployment), lambda n: n == 0, timeout=30)
        assert _pending(deployment) == 0, deployment.logs()
        return {label: _state(deployment, channel) for label, channel in channels.items()}


def _channels(deployment: Deployment) -> dict[str, str]:
    """One connected Slack channel per label, each in an instance of its own, synced."""
    with deployment.client(deployment.org_token()) as api:
        channels = {label: connected_slack_channel(api, label) for label in CHANNELS}
        disabled = channels["disabled"]
        path = f"/v1/instances/{disabled['instance_id']}/channels/{disabled['id']}"
        patched = api.patch(path, json={"enabled": False})
        assert patched.status_code == 200, patched.text
    # A sync racing the revocation could set the connection either way: let them finish first.
    wait_for_syncs(deployment)
    return {label: str(channel["id"]) for label, channel in channels.items()}


def _workload(channels: dict[str, str]) -> list[Webhook]:
    webhooks = [
        slack_message(channel, f"Ev{label}{n}", EVENT_TIME + n)
        for label, channel in channels.items()
        for n in range(MESSAGES)
    ]
    revoked = {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}
    revocation = slack.event_callback("EvRevoked", revoked, EVENT_TIME + MESSAGES)
    rate_limited = {
        "token": "legacy-verification-token",
        "type": "app_rate_limited",
        "team_id": "T0001",
        "minute_rate_limited": EVENT_TIME + 30,
        "api_app_id": "A0001",
    }
    return [
        *webhooks,
        Webhook(channels["revoked"], "EvRevoked", revocation),
        Webhook(channels["rate_limited"], "RateLimited", json.dumps(rate_limited).encode()),
    ]


def _state(deployment: Deployment, channel: str) -> dict[str, Any]:
    """What a user sees of the channel, its connection and its events, run-specific ids and
    times left out."""
    status, message, last_event, changed, enabled, connection, error = deployment.sql(
        "SELECT ch.status, ch.error_message, ch.last_event_at, ch.status_changed_at, ch.enabled, "
        "co.status, co.error FROM channels ch JOIN connections co ON co.id = ch.connection_id "
        "WHERE ch.id = :c",
        c=channel,
    )[0]
    events = deployment.sql(
        "SELECT dedup_key, type, status, attempts FROM events WHERE channel_id = :c", c=channel
    )
    changed_by_event = _epoch(changed) if _epoch(changed) >= EVENT_TIME else None
    return {
        "channel": (status, message, _epoch(last_event), enabled),
        "status_changed_by_event": changed_by_event,
        "connection": (connection, (error or {}).get("code")),
        "events": sorted(tuple(row) for row in events),
    }


def _pending(deployment: Deployment) -> int:
    return int(deployment.sql("SELECT count(*) FROM events WHERE status = 'pending'")[0][0])


def _epoch(moment: datetime | None) -> int:
    if moment is None:
        return 0
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp())
