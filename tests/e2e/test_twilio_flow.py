"""Twilio end to end behind a TLS-terminating proxy: PUBLIC_BASE_URL is https, the app is
reached over plain http. Connect (account fetch, number lookup), the worker's number update,
then callbacks signed by the twilio package's own RequestValidator → status."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.twilio_api import FakeTwilioAPI

pytestmark = pytest.mark.e2e

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "f" * 24 + "good-tok"
NUMBER = "+15550001111"
PUBLIC_BASE_URL = "https://switchboard.example.com"


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as fake:
        fake.add_account(ACCOUNT_SID, AUTH_TOKEN, friendly_name="Acme SMS")
        fake.add_number(ACCOUNT_SID, "+15559990000")
        fake.add_number(ACCOUNT_SID, NUMBER)
        yield fake


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio: FakeTwilioAPI,
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp(f"twilio-{request.param}")
    env = {"TWILIO_API_URL": fake_twilio.url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL}
    with deployed(request.param, request, cwd, **env) as deployment:
        yield deployment


def _config(**overrides: str) -> dict[str, str]:
    return {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, **overrides}


@pytest.fixture(scope="module")
def connected(api: httpx.Client) -> dict[str, Any]:
    instance = api.post("/v1/instances", json={"name": "SMS"}).json()["id"]
    channels = f"/v1/instances/{instance}/channels"
    created = api.post(channels, json={"channel_type": "sms", "external_identifier": NUMBER})
    assert created.status_code == 201, created.text
    url = f"{channels}/{created.json()['id']}/connect"
    bad = api.post(url, json={"config": _config(auth_token="wrong-token")})
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_CREDENTIALS")
    response = api.post(url, json={"config": _config()})
    assert response.status_code == 200, response.text
    assert AUTH_TOKEN not in response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_number_the_account_does_not_have_is_refused(api: httpx.Client) -> None:
    instance = api.post("/v1/instances", json={"name": "Elsewhere"}).json()["id"]
    channels = f"/v1/instances/{instance}/channels"
    channel = api.post(channels, json={"channel_type": "sms", "external_identifier": "+1999"})
    response = api.post(f"{channels}/{channel.json()['id']}/connect", json={"config": _config()})
    assert (response.status_code, response.json()["code"]) == (422, "INVALID_CHANNEL")
    assert api.get(f"{channels}/{channel.json()['id']}").json()["status"] == "pending"


def _number(fake: FakeTwilioAPI) -> dict[str, Any]:
    return next(n for n in fake.numbers(ACCOUNT_SID) if n["phone_number"] == NUMBER)


def test_connect_points_the_number_at_the_public_url(
    connected: dict[str, Any], fake_twilio: FakeTwilioAPI
) -> None:
    channel = connected["channel"]
    assert connected["status"] == "connected"
    assert channel["webhook_url"] == f"{PUBLIC_BASE_URL}/webhooks/twilio/{channel['id']}"
    number = eventually(
        lambda: _number(fake_twilio), lambda n: n["sms_url"] == channel["webhook_url"]
    )
    assert (number["sms_url"], number["sms_method"]) == (channel["webhook_url"], "POST")
    assert number["status_callback"] == channel["webhook_url"]
    update = [r for r in fake_twilio.requests if r.method == "POST"][-1]
    assert update.path.endswith(f"/IncomingPhoneNumbers/{number['sid']}.json")
    assert update.form == [
        ("SmsUrl", channel["webhook_url"]),
        ("SmsMethod", "POST"),
        ("StatusCallback", channel["webhook_url"]),
        ("StatusCallbackMethod", "POST"),
    ]
    assert not any(name == "VoiceUrl" for name, _ in update.form)


def _post(
    deployment: Deployment,
    channel: dict[str, Any],
    params: list[tuple[str, str]],
    *,
    signed_url: str | None = None,
    token: str = AUTH_TOKEN,
) -> httpx.Response:
    """POST over plain http to the app; signed for the public https URL, as Twilio signs."""
    signature = RequestValidator(token).compute_signature(
        signed_url or channel["webhook_url"], MultiDict(params)
    )
    return httpx.post(
        f"{deployment.base_url}/webhooks/twilio/{channel['id']}",
        content=urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def _inbound_sms(sid: str) -> list[tuple[str, str]]:
    return [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("From", "+15557654321"),
        ("To", NUMBER),
        ("Body", "Hello \u260e \u2013 caf\u00e9"),
        ("NumMedia", "0"),
    ]


def _state(api: httpx.Client, channel: dict[str, Any]) -> dict[str, Any]:
    url = f"/v1/instances/{channel['instance_id']}/channels/{channel['id']}"
    state: dict[str, Any] = api.get(url).json()
    return state


def test_an_inbound_sms_is_answered_with_twiml_and_marks_the_channel_live(
    deployment: Deployment, api: httpx.Client, connected: dict[str, Any]
) -> None:
    channel = connected["channel"]
    sms = _inbound_sms("SM" + "0" * 31 + "1")
    response = _post(deployment, channel, sms)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")
    assert _post(deployment, channel, sms).status_code == 200  # Twilio's retry: stored once
    state = eventually(lambda: _state(api, channel), lambda s: s["last_event_at"] is not None)
    assert (state["status"], state["error_message"]) == ("connected", None)
    rows = deployment.sql("SELECT type FROM events WHERE channel_id = :c", c=channel["id"])
    assert [row[0] for row in rows] == ["twilio.message.inbound"]


def test_an_undelivered_status_shows_its_error_code(
    deployment: Deployment, api: httpx.Client, connected: dict[str, Any]
) -> None:
    channel = connected["channel"]
    callback = [
        ("AccountSid", ACCOUNT_SID),
        ("MessageSid", "SM" + "0" * 31 + "2"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
        ("To", "+15557654321"),
        ("From", NUMBER),
    ]
    assert _post(deployment, channel, callback).status_code == 200
    state = eventually(lambda: _state(api, channel), lambda s: s["error_message"] is not None)
    assert state["error_message"] == "Twilio error 30003: the last message was undelivered"
    assert state["status"] == "connected"


def test_forgeries_and_the_internal_url_are_refused(
    deployment: Deployment, connected: dict[str, Any]
) -> None:
    channel = connected["channel"]
    sms = _inbound_sms("SM" + "0" * 31 + "3")
    # Signed for the URL the app sees behind the proxy, not the one Twilio calls: refused.
    internal = f"{deployment.base_url}/webhooks/twilio/{channel['id']}"
    assert _post(deployment, channel, sms, signed_url=internal).status_code == 401
    assert _post(deployment, channel, sms, token="not-the-auth-token").status_code == 401
    tampered = httpx.post(
        internal,
        content=urlencode([*sms[:-1], ("NumMedia", "1")]).encode(),
        headers={
            "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(
                channel["webhook_url"], MultiDict(sms)
            )
        },
    )
    assert tampered.status_code == 401
    rows = deployment.sql("SELECT count(*) FROM events WHERE dedup_key LIKE :k", k="%03:%")
    assert rows[0][0] == 0


def test_the_auth_token_never_leaves_switchboard(deployment: Deployment) -> None:
    time.sleep(0.2)
    dump = deployment.logs() + str(deployment.sql("SELECT * FROM connections"))
    assert AUTH_TOKEN not in dump
