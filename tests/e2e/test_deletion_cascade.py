"""Deleting a channel or an instance deletes its events, even while its webhooks are arriving.

`events` has no foreign key to `channels` (shared.event_deletion explains why); these tests hold
deletion to what the key guaranteed. Runs embedded (SQLite) and distributed (PostgreSQL, Redis).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import Deployment, eventually
from tests.e2e.seeds import connected_slack_channel, send_slack_event
from tests.support import slack

pytestmark = pytest.mark.e2e

SENDERS = 8
ACCEPTED_BEFORE_DELETING = 40
RACES = 3


def _listed(api: httpx.Client, channel: dict[str, Any]) -> list[dict[str, Any]]:
    url = f"/v1/instances/{channel['instance_id']}/events"
    response = api.get(url, params={"channel_id": channel["id"]})
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def _stored(deployment: Deployment, column: str, value: str) -> int:
    count: int = deployment.sql(f"SELECT count(*) FROM events WHERE {column} = :v", v=value)[0][0]
    return count


def _channel_url(channel: dict[str, Any]) -> str:
    return f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"


def test_deleting_a_channel_deletes_its_events_and_no_others(
    deployment: Deployment, api: httpx.Client
) -> None:
    doomed = connected_slack_channel(api, "Doomed")
    kept = connected_slack_channel(api, "Kept")
    for n in range(3):
        send_slack_event(doomed, f"EvDoomed{n}")
    send_slack_event(kept, "EvKept")
    eventually(lambda: _listed(api, doomed), lambda events: len(events) == 3)

    assert api.delete(_channel_url(doomed)).status_code == 204

    assert _listed(api, doomed) == []
    assert _stored(deployment, "channel_id", doomed["id"]) == 0
    assert [e["dedup_key"] for e in _listed(api, kept)] == ["EvKept"]
    body = slack.event_callback("EvAfter", slack.message())
    late = httpx.post(doomed["webhook_url"], content=body, headers=slack.sign(SIGNING_SECRET, body))
    assert late.status_code == 404
    assert _stored(deployment, "channel_id", doomed["id"]) == 0


def test_deleting_an_instance_deletes_its_events(deployment: Deployment, api: httpx.Client) -> None:
    channel = connected_slack_channel(api, "Closing")
    for n in range(2):
        send_slack_event(channel, f"EvClosing{n}")
    eventually(lambda: _listed(api, channel), lambda events: len(events) == 2)

    assert api.delete(f"/v1/instances/{channel['instance_id']}").status_code == 204

    assert _stored(deployment, "instance_id", channel["instance_id"]) == 0
    assert _stored(deployment, "channel_id", channel["id"]) == 0


def test_a_channel_deleted_under_a_stream_of_webhooks_keeps_none_of_them(
    deployment: Deployment, api: httpx.Client
) -> None:
    """Batches in flight as the deletion commits must not leave events behind."""
    for race in range(RACES):
        channel = connected_slack_channel(api, f"Race {race}")
        answers = _delete_while_sending(api, channel)

        assert answers[200] >= ACCEPTED_BEFORE_DELETING, answers
        assert answers[404] >= SENDERS, answers  # every sender saw the channel go
        assert set(answers) <= {200, 404, 503}, answers  # 503: a batch refused mid-deletion
        assert _stored(deployment, "channel_id", channel["id"]) == 0, f"race {race}"
    orphans = deployment.sql(
        "SELECT count(*) FROM events WHERE channel_id NOT IN (SELECT id FROM channels)"
    )
    assert orphans[0][0] == 0


def _delete_while_sending(api: httpx.Client, channel: dict[str, Any]) -> Counter[int]:
    """Webhooks from SENDERS threads; the channel is deleted once enough are accepted, and each
    sender stops after its first 404. Returns the count of each status code answered."""
    answers: Counter[int] = Counter()
    lock = threading.Lock()
    enough = threading.Event()

    def send(sender: int) -> None:
        with httpx.Client(timeout=10) as client:
            for n in range(10_000):
                body = slack.event_callback(f"EvRace{sender}-{n}", slack.message())
                headers = slack.sign(SIGNING_SECRET, body)
                status = client.post(channel["webhook_url"], content=body, headers=headers)
                with lock:
                    answers[status.status_code] += 1
                    if answers[200] >= ACCEPTED_BEFORE_DELETING:
                        enough.set()
                if status.status_code == 404:
                    return

    senders = [threading.Thread(target=send, args=(n,)) for n in range(SENDERS)]
    for thread in senders:
        thread.start()
    assert enough.wait(timeout=30), answers
    assert api.delete(_channel_url(channel)).status_code == 204
    for thread in senders:
        thread.join(timeout=30)
    return answers
