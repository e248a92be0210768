"""Contract §5 for every provider alike, through real processes: one suite, five providers.

Each provider is described by a `Kit`: how it proves a request authentic, what one of its
events looks like, and how to connect a channel of it. The tests then never name a provider.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.support import slack

pytestmark = pytest.mark.e2e

MAX_BYTES = 4096
DISCORD_TOKEN, DISCORD_GUILD = "MTEw.conformance.discord-bot", "1200000000000000002"
DISCORD_KEY = Ed25519PrivateKey.generate()
TELEGRAM_TOKEN = "7000002:AAH-conformance_bot-token"
WHAPI_TOKEN, WHAPI_CHANNEL = "whapi-conformance-token", "CONFORM-01"
TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER = "AC" + "c0" * 16, "twilio-conformance-tok", "+15550002222"
serial = itertools.count(1)


@dataclass(frozen=True)
class Kit:
    """How one provider calls us. `secret` proves authenticity: a key, token or signing secret."""

    provider: str
    channel_type: str
    config: dict[str, Any]
    auth_header: str  # dropped for the "missing header" case
    event: Callable[[int, str], bytes]  # a unique, valid event; the str pads it
    garbage: bytes  # cannot be understood, but can be signed
    sign: Callable[[str, dict[str, Any], bytes], dict[str, str]]  # (secret, channel, body)
    wrong_secret: str
    path: str = ""  # sub-URL, for providers with several
    signs_body: bool = True  # False: a bearer token, so tampering means changing the token


def _now() -> int:
    return int(time.time())


def _slack_event(n: int, pad: str) -> bytes:
    return slack.event_callback(f"EvConf{n}", slack.message(f"hello {pad}"))


def _discord_sign(secret: str, _: dict[str, Any], body: bytes) -> dict[str, str]:
    key = DISCORD_KEY if secret == "right" else Ed25519PrivateKey.generate()
    timestamp = str(_now())
    signature = key.sign(timestamp.encode() + body).hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}


def _discord_event(n: int, pad: str) -> bytes:
    event = {"type": "APPLICATION_AUTHORIZED", "timestamp": "2026-01-01T00:00:00+00:00"}
    return json.dumps(
        {"version": 1, "type": 1, "event": {**event, "data": {"n": n, "p": pad}}}
    ).encode()


def _telegram_event(n: int, pad: str) -> bytes:
    return json.dumps(
        {"update_id": n, "message": {"message_id": n, "date": _now(), "text": f"hi{pad}"}}
    ).encode()


def _whapi_event(n: int, pad: str) -> bytes:
    message = {"id": f"conf-{n}", "type": "text", "timestamp": _now(), "text": {"body": f"hi{pad}"}}
    event = {"type": "messages", "event": "post"}
    return json.dumps({"messages": [message], "event": event, "channel_id": WHAPI_CHANNEL}).encode()


def _twilio_event(n: int, pad: str) -> bytes:
    return urlencode(
        {"MessageSid": f"SMconf{n:08d}", "SmsStatus": "received", "Body": f"hi{pad}"}
    ).encode()


def _twilio_sign(secret: str, channel: dict[str, Any], body: bytes) -> dict[str, str]:
    params = MultiDict(parse_qsl(body.decode(), keep_blank_values=True))
    return {
        "X-Twilio-Signature": RequestValidator(secret).compute_signature(
            channel["webhook_url"], params
        ),
        "Content-Type": "application/x-www-form-urlencoded",
    }


KITS = {
    "slack": Kit(
        "slack",
        "slack",
        {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET},
        "X-Slack-Signature",
        _slack_event,
        b"{not json",
        lambda secret, _, body: slack.sign(secret, body),
        "not-the-signing-secret",
    ),
    "discord": Kit(
        "discord",
        "discord",
        {
            "bot_token": DISCORD_TOKEN,
            "public_key": DISCORD_KEY.public_key().public_bytes_raw().hex(),
            "application_id": "1100000000000000002",
            "guild_id": DISCORD_GUILD,
        },
        "X-Signature-Ed25519",
        _discord_event,
        b"garbage",
        _discord_sign,
        "wrong",
        path="/events",
    ),
    "telegram": Kit(
        "telegram",
        "telegram",
        {"bot_token": TELEGRAM_TOKEN},
        "X-Telegram-Bot-Api-Secret-Token",
        _telegram_event,
        b"garbage",
        lambda secret, *_: {"X-Telegram-Bot-Api-Secret-Token": secret},
        "not-the-secret-token",
        signs_body=False,
    ),
    "whapi": Kit(
        "whapi",
        "whatsapp",
        {"token": WHAPI_TOKEN},
        "X-Webhook-Token",
        _whapi_event,
        b"garbage",
        lambda secret, *_: {"X-Webhook-Token": secret},
        "not-the-webhook-token",
        signs_body=False,
    ),
    "twilio": Kit(
        "twilio",
        "sms",
        {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN},
        "X-Twilio-Signature",
        _twilio_event,
        b"no+sid+here",
        _twilio_sign,
        "not-the-auth-token",
    ),
}


@dataclass
class Fakes:
    slack: FakeSlackAPI
    discord: FakeDiscordAPI
    telegram: FakeTelegramAPI
    whapi: FakeWhapiAPI
    twilio: FakeTwilioAPI

    def secret(self, provider: str, channel: dict[str, Any]) -> str:
        """The secret the provider was given (read from the fake when a worker set it)."""
        if provider == "telegram":
            hook = eventually(
                lambda: self.telegram.webhook(TELEGRAM_TOKEN),
                lambda h: h is not None and h["url"] == channel["webhook_url"],
            )
            assert hook is not None
            return str(hook["secret_token"])
        if provider == "whapi":
            hooks = eventually(
                lambda: [
                    h
                    for h in self.whapi.settings(WHAPI_TOKEN)["webhooks"]
                    if h["url"] == channel["webhook_url"]
                ],
                bool,
            )
            return str(hooks[0]["headers"]["X-Webhook-Token"])
        return {"slack": SIGNING_SECRET, "discord": "right", "twilio": TWILIO_TOKEN}[provider]


@pytest.fixture(scope="module")
def fakes(fake_slack: FakeSlackAPI, fake_telegram: FakeTelegramAPI) -> Iterator[Fakes]:
    fake_telegram.add_bot(TELEGRAM_TOKEN, username="conformance_bot")
    with FakeDiscordAPI() as discord, FakeWhapiAPI() as whapi, FakeTwilioAPI() as twilio:
        discord.add_bot(DISCORD_TOKEN, guilds={DISCORD_GUILD: []})
        whapi.add_channel(WHAPI_TOKEN, channel_id=WHAPI_CHANNEL, authenticated=True)
        twilio.add_account(TWILIO_SID, TWILIO_TOKEN)
        twilio.add_number(TWILIO_SID, TWILIO_NUMBER)
        yield Fakes(fake_slack, discord, fake_telegram, whapi, twilio)


@pytest.fixture(scope="module", params=["embedded", "distributed"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fakes: Fakes
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp(f"conformance-{request.param}")
    env = {
        "SLACK_API_URL": fakes.slack.url,
        "DISCORD_API_URL": fakes.discord.url,
        "TELEGRAM_API_URL": fakes.telegram.url,
        "WHAPI_GATE_URL": fakes.whapi.url,
        "TWILIO_API_URL": fakes.twilio.url,
        "MAX_WEBHOOK_BYTES": str(MAX_BYTES),
    }
    with deployed(request.param, request, cwd, **env) as deployment:
        yield deployment


@dataclass
class Target:
    """A connected channel of one provider, and what signs its webhooks."""

    kit: Kit
    channel: dict[str, Any]
    secret: str
    deployment: Deployment

    @property
    def url(self) -> str:
        base = f"{self.deployment.base_url}/webhooks/{self.kit.provider}"
        return f"{base}/{self.channel['id']}{self.kit.path}"

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        signed = self.kit.sign(self.secret, self.channel, body) if headers is None else headers
        return httpx.post(self.url, content=body, headers=signed)

    def stored(self) -> list[str]:
        rows = self.deployment.sql(
            "SELECT status FROM events WHERE channel_id = :c", c=self.channel["id"]
        )
        return [row[0] for row in rows]


@pytest.fixture(scope="module")
def targets(deployment: Deployment, api: httpx.Client, fakes: Fakes) -> dict[str, Target]:
    instance = api.post("/v1/instances", json={"name": "Conformance"}).json()["id"]
    connected = {}
    for name, kit in KITS.items():
        channels = f"/v1/instances/{instance}/channels"
        extra = {"external_identifier": TWILIO_NUMBER} if name == "twilio" else {}
        channel = api.post(channels, json={"channel_type": kit.channel_type, **extra}).json()
        response = api.post(f"{channels}/{channel['id']}/connect", json={"config": kit.config})
        assert response.status_code == 200, response.text
        channel = response.json()["channel"]
        connected[name] = Target(kit, channel, fakes.secret(name, channel), deployment)
    return connected


PROVIDERS = pytest.mark.parametrize("provider", list(KITS))


@PROVIDERS
def test_a_valid_event_is_accepted_and_a_duplicate_stored_once(
    targets: dict[str, Target], provider: str
) -> None:
    target = targets[provider]
    body = target.kit.event(next(serial), "")
    first, again = target.post(body), target.post(body)
    assert 200 <= first.status_code < 300, first.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert len(target.stored()) == 1


def _tampered(target: Target, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = target.kit.sign(target.secret, target.channel, body)
    if target.kit.signs_body:
        return body[:-1] + bytes([body[-1] ^ 1]), headers
    token = headers[target.kit.auth_header]
    return body, {**headers, target.kit.auth_header: token[:-1] + chr(ord(token[-1]) ^ 1)}


def _refusals(target: Target) -> dict[str, tuple[bytes, dict[str, str]]]:
    body = target.kit.event(next(serial), "")
    signed = target.kit.sign(target.secret, target.channel, body)
    missing = {k: v for k, v in signed.items() if k != target.kit.auth_header}
    return {
        "tampered": _tampered(target, body),
        "missing header": (body, missing),
        "wrong secret": (body, target.kit.sign(target.kit.wrong_secret, target.channel, body)),
    }


@PROVIDERS
@pytest.mark.parametrize("case", ["tampered", "missing header", "wrong secret"])
def test_unverified_requests_get_401_and_store_nothing(
    targets: dict[str, Target], provider: str, case: str
) -> None:
    target = targets[provider]
    before = len(target.stored())
    body, headers = _refusals(target)[case]
    response = target.post(body, headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert len(target.stored()) == before


@PROVIDERS
def test_an_unknown_channel_is_404(targets: dict[str, Target], provider: str) -> None:
    target = targets[provider]
    body = target.kit.event(next(serial), "")
    url = f"{target.deployment.base_url}/webhooks/{provider}/ch_doesnotexist{target.kit.path}"
    response = httpx.post(
        url, content=body, headers=target.kit.sign(target.secret, target.channel, body)
    )
    assert response.status_code == 404


@PROVIDERS
def test_an_oversized_body_is_413(targets: dict[str, Target], provider: str) -> None:
    target = targets[provider]
    before = len(target.stored())
    response = target.post(target.kit.event(next(serial), "x" * MAX_BYTES))
    assert response.status_code == 413
    assert len(target.stored()) == before


@PROVIDERS
def test_garbage_with_a_valid_signature_is_400(targets: dict[str, Target], provider: str) -> None:
    target = targets[provider]
    before = len(target.stored())
    response = target.post(target.kit.garbage)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "INVALID_BODY"
    assert len(target.stored()) == before


@PROVIDERS
def test_a_disabled_channels_events_are_stored_as_ignored(
    targets: dict[str, Target], api: httpx.Client, provider: str
) -> None:
    target = targets[provider]
    url = f"/v1/instances/{target.channel['instance_id']}/channels/{target.channel['id']}"
    assert api.patch(url, json={"enabled": False}).json()["status"] == "disabled"
    before = len(target.stored())
    assert 200 <= target.post(target.kit.event(next(serial), "")).status_code < 300
    statuses = eventually(target.stored, lambda s: s.count("ignored") == 1)
    assert len(statuses) == before + 1 and statuses.count("ignored") == 1
    assert api.get(url).json()["status"] == "disabled"
