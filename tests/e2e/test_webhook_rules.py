"""Contract §5 rules for every refusal, through a real `switchboard serve` process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.slack_api import FakeSlackAPI
from tests.support import slack

pytestmark = pytest.mark.e2e
MAX_BYTES = 4096


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_slack: FakeSlackAPI,
) -> Iterator[Deployment]:
    cwd = tmp_path_factory.mktemp(f"rules-{request.param}")
    env = {"SLACK_API_URL": fake_slack.url, "MAX_WEBHOOK_BYTES": str(MAX_BYTES)}
    with deployed(request.param, request, cwd, **env) as deployment:
        yield deployment


def _connected_channel(api: httpx.Client) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "Rules"}).json()
    config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
    channel = api.post(
        f"/v1/instances/{instance['id']}/channels", json={"channel_type": "slack"}
    ).json()
    url = f"/v1/instances/{instance['id']}/channels/{channel['id']}/connect"
    response = api.post(url, json={"config": config})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["channel"]
    return result


@pytest.fixture(scope="module")
def channel(api: httpx.Client) -> dict[str, Any]:
    return _connected_channel(api)


def _count(deployment: Deployment, channel_id: str) -> int:
    rows = deployment.sql("SELECT count(*) FROM events WHERE channel_id = :c", c=channel_id)
    return int(rows[0][0])


def _send(
    deployment: Deployment, channel_id: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return httpx.post(
        f"{deployment.base_url}/webhooks/slack/{channel_id}", content=body, headers=headers
    )


Signed = tuple[bytes, dict[str, str]]
REFUSED_BODY = slack.event_callback("EvRefused", slack.message())


def _signed(offset: int = 0) -> dict[str, str]:
    return slack.sign(SIGNING_SECRET, REFUSED_BODY, int(time.time()) + offset)


# Each case builds its request when the test runs: timestamps taken at collection would drift
# into the accepted window in a long suite.
REFUSALS: dict[str, Callable[[], Signed]] = {
    "tampered body": lambda: (REFUSED_BODY.replace(b"hello", b"hellx"), _signed()),
    "wrong secret": lambda: (REFUSED_BODY, slack.sign("not-the-secret", REFUSED_BODY)),
    "no signature": lambda: (
        REFUSED_BODY,
        {k: v for k, v in _signed().items() if k != "X-Slack-Signature"},
    ),
    "no timestamp": lambda: (
        REFUSED_BODY,
        {k: v for k, v in _signed().items() if k != "X-Slack-Request-Timestamp"},
    ),
    "stale": lambda: (REFUSED_BODY, _signed(-400)),
    "future": lambda: (REFUSED_BODY, _signed(+400)),
    "garbage signature": lambda: (REFUSED_BODY, {**_signed(), "X-Slack-Signature": "v0=zz"}),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_unverified_requests_get_401_and_nothing_is_stored(
    deployment: Deployment, channel: dict[str, Any], case: str
) -> None:
    body, headers = REFUSALS[case]()
    response = _send(deployment, channel["id"], body, headers)
    assert response.status_code == 401, case
    assert response.headers["content-type"] == "application/problem+json"
    assert _count(deployment, channel["id"]) == 0
    assert "EvRefused" not in deployment.logs() and SIGNING_SECRET not in deployment.logs()


def test_unknown_channel_is_404(deployment: Deployment) -> None:
    body = slack.event_callback("Ev404", slack.message())
    response = _send(deployment, "ch_doesnotexist", body, slack.sign(SIGNING_SECRET, body))
    assert response.status_code == 404
    assert response.json()["code"] == "CHANNEL_NOT_FOUND"


def test_webhook_urls_other_than_a_post_to_a_provider_url(
    deployment: Deployment, channel: dict[str, Any]
) -> None:
    body = slack.event_callback("EvOddUrl", slack.message())
    headers = slack.sign(SIGNING_SECRET, body)
    base = f"{deployment.base_url}/webhooks"
    wrong_method = httpx.get(f"{base}/slack/{channel['id']}")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"
    for path in (
        f"/nosuchprovider/{channel['id']}",
        f"/slack/{channel['id']}/events",  # Slack has a single URL
        f"/slack/{channel['id']}/",
        "/slack/",
        f"/discord/{channel['id']}",  # Discord has two, each with its kind
        f"/discord/{channel['id']}/unknown-kind",
    ):
        response = httpx.post(base + path, content=body, headers=headers)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
    assert _count(deployment, channel["id"]) == 0


def test_oversized_body_is_413_and_not_stored(
    deployment: Deployment, channel: dict[str, Any]
) -> None:
    body = slack.event_callback("EvBig", slack.message("x" * MAX_BYTES))
    response = _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body))
    assert response.status_code == 413
    assert _count(deployment, channel["id"]) == 0


def test_oversized_chunked_body_is_413(deployment: Deployment, channel: dict[str, Any]) -> None:
    body = slack.event_callback("EvBigChunked", slack.message("y" * MAX_BYTES))
    chunks = iter([body[:100], body[100:]])
    response = httpx.post(
        f"{deployment.base_url}/webhooks/slack/{channel['id']}",
        content=chunks,
        headers=slack.sign(SIGNING_SECRET, body),
    )
    assert response.status_code == 413


def test_signed_garbage_is_400_and_not_stored(
    deployment: Deployment, channel: dict[str, Any]
) -> None:
    body = b"{not json"
    response = _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body))
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_BODY"
    assert _count(deployment, channel["id"]) == 0


def test_disabled_channel_stores_ignored_and_changes_nothing(
    deployment: Deployment, api: httpx.Client
) -> None:
    channel = _connected_channel(api)
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    assert api.patch(url, json={"enabled": False}).json()["status"] == "disabled"
    body = slack.event_callback("EvDisabled", slack.message(), int(time.time()) + 5)
    assert (
        _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body)).status_code == 200
    )
    rows = deployment.sql("SELECT status FROM events WHERE channel_id = :c", c=channel["id"])
    assert [r[0] for r in rows] == ["ignored"]
    time.sleep(0.5)
    after = api.get(url).json()
    assert (after["status"], after["last_event_at"]) == ("disabled", None)


def test_store_failure_is_503_with_retry_after_then_recovers(
    deployment: Deployment, channel: dict[str, Any]
) -> None:
    body = slack.event_callback("Ev503", slack.message())
    deployment.execute("ALTER TABLE events RENAME TO events_away")
    try:
        response = _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body))
        assert response.status_code == 503
        assert response.headers["retry-after"].isdigit()
    finally:
        deployment.execute("ALTER TABLE events_away RENAME TO events")
    assert _count(deployment, channel["id"]) == 0
    response = _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body))
    assert response.status_code == 200
    rows = eventually(
        lambda: deployment.sql("SELECT status FROM events WHERE dedup_key = 'Ev503'"),
        lambda r: bool(r) and r[0][0] == "processed",
        timeout=30,
    )
    assert [r[0] for r in rows] == ["processed"], deployment.logs()[-4000:]


def test_text_postgres_cannot_hold_is_stored_replaced_without_failing_the_batch(
    deployment: Deployment, api: httpx.Client
) -> None:
    # JSON may carry NUL and lone surrogates; PostgreSQL's jsonb refuses both, and once refused
    # the whole batch, so the event's neighbours were answered 503 with it, on every retry.
    channel = _connected_channel(api)
    texts = {f"EvText{n}": f"plain {n}" for n in range(12)}
    texts["EvOddText"] = "a\x00b\ud800c"
    bodies = {key: slack.event_callback(key, slack.message(text)) for key, text in texts.items()}
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = pool.map(
            lambda body: _send(deployment, channel["id"], body, slack.sign(SIGNING_SECRET, body)),
            bodies.values(),
        )
        statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * len(bodies)
    events_url = f"/v1/instances/{channel['instance_id']}/events"
    listed = api.get(events_url, params={"channel_id": channel["id"]}).json()["events"]
    assert {event["dedup_key"] for event in listed} == set(texts)
    odd = next(event for event in listed if event["dedup_key"] == "EvOddText")
    shown = api.get(f"{events_url}/{odd['id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["payload"]["event"]["text"] == "a\ufffdb\ufffdc"
