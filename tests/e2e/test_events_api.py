"""Events through the API: listed with filters and cursors, inspected, replayed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.e2e.seeds import connected_slack_channel, send_slack_event
from tests.fakes.slack_api import FakeSlackAPI

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_slack: FakeSlackAPI,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("events")
    with deployed("embedded", request, cwd, SLACK_API_URL=fake_slack.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def channel(api: httpx.Client) -> dict[str, Any]:
    found = connected_slack_channel(api, "Events")
    for n in range(3):
        send_slack_event(found, f"Ev{n}", f"hello {n}")
    return found


def _events(api: httpx.Client, channel: dict[str, Any], **params: str) -> Any:
    response = api.get(f"/v1/instances/{channel['instance_id']}/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_are_listed_with_filters_and_cursors(
    api: httpx.Client, channel: dict[str, Any]
) -> None:
    processed = eventually(
        lambda: _events(api, channel, status="processed"), lambda e: e["count"] == 3
    )
    assert processed["count"] == 3
    assert all("payload" not in e for e in processed["events"])
    assert {e["dedup_key"] for e in processed["events"]} == {"Ev0", "Ev1", "Ev2"}
    assert _events(api, channel, channel_id=channel["id"])["count"] == 3
    assert _events(api, channel, channel_id="ch_other")["count"] == 0
    assert _events(api, channel, type="slack.event_callback.message")["count"] == 3
    assert _events(api, channel, type="slack.other")["count"] == 0
    assert _events(api, channel, since="2000-01-01T00:00:00Z")["count"] == 3
    assert _events(api, channel, since="2999-01-01T00:00:00Z")["count"] == 0
    first = _events(api, channel, limit="2")
    assert first["count"] == 2 and first["next_cursor"]
    rest = _events(api, channel, limit="2", cursor=first["next_cursor"])
    assert rest["count"] == 1 and rest["next_cursor"] is None
    seen = [e["id"] for e in first["events"] + rest["events"]]
    assert len(set(seen)) == 3
    url = f"/v1/instances/{channel['instance_id']}/events"
    for bad in ({"status": "lost"}, {"since": "yesterday"}, {"limit": "0"}):
        refused = api.get(url, params=bad)
        assert (refused.status_code, refused.json()["code"]) == (422, "VALIDATION_ERROR"), bad


def test_an_event_shows_its_payload_without_credentials(
    api: httpx.Client, channel: dict[str, Any]
) -> None:
    listed = eventually(lambda: _events(api, channel), lambda e: e["count"] == 3)
    event_id = listed["events"][0]["id"]
    url = f"/v1/instances/{channel['instance_id']}/events/{event_id}"
    shown = api.get(url)
    assert shown.status_code == 200, shown.text
    assert shown.json()["payload"]["event"]["type"] == "message"
    assert "token" not in shown.json()["payload"]
    assert "legacy-verification-token" not in shown.text and SIGNING_SECRET not in shown.text
    missing = api.get(f"/v1/instances/{channel['instance_id']}/events/evt_nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "EVENT_NOT_FOUND")
    other = api.post("/v1/instances", json={"name": "Other"}).json()["id"]
    assert api.get(f"/v1/instances/{other}/events/{event_id}").status_code == 404


def test_a_replay_runs_processing_again_without_rolling_anything_back(
    api: httpx.Client, channel: dict[str, Any], deployment: Deployment
) -> None:
    listed = eventually(
        lambda: _events(api, channel, status="processed"), lambda e: e["count"] == 3
    )
    event = listed["events"][0]
    channel_url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    before = api.get(channel_url).json()
    url = f"/v1/instances/{channel['instance_id']}/events/{event['id']}"

    reader = deployment.cli(
        "tokens", "create", "--instance", channel["instance_id"], "--scopes", "events:read"
    )
    with deployment.client(reader.strip()) as read_only:
        assert read_only.get(url).status_code == 200
        assert read_only.post(f"{url}/replay").status_code == 403

    replayed = api.post(f"{url}/replay")
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "pending"
    again = eventually(lambda: api.get(url).json(), lambda e: e["status"] == "processed")
    assert again["status"] == "processed" and again["attempts"] == event["attempts"] + 1
    after = api.get(channel_url).json()
    assert (after["status"], after["last_event_at"]) == (before["status"], before["last_event_at"])
