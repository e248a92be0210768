"""The follow-on settings update: retried when worth it, and every failure shown on the channel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared import db, settings
from shared.crypto import decrypt_json
from shared.models import Channel, Connection
from shared.providers.errors import InvalidCredentials, RateLimited, RequestRejected
from shared.providers.twilio import NumberNotFound, TwilioClient
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.unit.sync_support import seed
from workers import webhook_setup

TOKEN = "7100001:flaky-bot-token"


def _use(monkeypatch: pytest.MonkeyPatch, variable: str, url: str) -> None:
    monkeypatch.setenv(variable, url)
    settings.get_settings.cache_clear()


@pytest.fixture
def telegram_channel(
    database: None, fake_telegram: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> str:
    assert database is None
    fake_telegram.add_bot(TOKEN, username="flaky_bot")
    _use(monkeypatch, "TELEGRAM_API_URL", fake_telegram.url)
    seed("telegram", "telegram", {"bot_token": TOKEN, "webhook_secret": "w" * 40})
    return "ch_1"


def _error_message() -> str | None:
    with db.session_scope() as session:
        channel = session.get(Channel, "ch_1")
        assert channel is not None
        return channel.error_message


def test_a_rate_limit_is_raised_for_a_retry_and_shown_then_cleared(
    telegram_channel: str, fake_telegram: FakeTelegramAPI
) -> None:
    fake_telegram.rate_limit_next(1, retry_after=7)
    with pytest.raises(RateLimited) as raised:
        webhook_setup.configure_webhook(telegram_channel)
    assert raised.value.retry_after == 7
    assert "Could not point telegram" in (_error_message() or "")
    webhook_setup.configure_webhook(telegram_channel)  # the retry
    assert _error_message() is None
    hook = fake_telegram.webhook(TOKEN)
    assert hook is not None and hook["url"].endswith("/webhooks/telegram/ch_1")
    assert hook["secret_token"] == "w" * 40


def test_a_refused_token_is_final_and_shown(
    telegram_channel: str, fake_telegram: FakeTelegramAPI
) -> None:
    fake_telegram.revoke(TOKEN)
    with pytest.raises(InvalidCredentials):
        webhook_setup.configure_webhook(telegram_channel)
    assert "Unauthorized" in (_error_message() or "")


def test_a_bad_request_is_final_not_retried(
    telegram_channel: str, fake_telegram: FakeTelegramAPI
) -> None:
    fake_telegram.fail_next(1, 400)  # as Telegram answers "Bad Request: bad webhook: …"
    with pytest.raises(RequestRejected):
        webhook_setup.configure_webhook(telegram_channel)
    assert "Bad Request" in (_error_message() or "")


WHAPI_TOKEN = "whapi-setup-token"
USERS_HOOK = {"url": "https://crm.example/hook", "events": [{"type": "messages", "method": "post"}]}


@pytest.fixture
def whapi(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWhapiAPI]:
    assert database is None
    with FakeWhapiAPI() as fake:
        fake.add_channel(WHAPI_TOKEN)
        fake.set_settings(WHAPI_TOKEN, {"webhooks": [USERS_HOOK]})
        _use(monkeypatch, "WHAPI_GATE_URL", fake.url)
        tokens = {"token": WHAPI_TOKEN, "webhook_tokens": ["old-token", "new-token"]}
        seed("whapi", "whatsapp", tokens, "MANTIS-M72HC")
        yield fake


def _credentials() -> dict[str, Any]:
    with db.session_scope() as session:
        connection = session.get(Connection, "conn_1")
        assert connection is not None
        return decrypt_json(settings.get_settings().secret, connection.credentials_encrypted)


def test_whapi_keeps_the_users_webhooks_and_a_second_run_changes_nothing(
    whapi: FakeWhapiAPI,
) -> None:
    webhook_setup.configure_webhook("ch_1")
    hooks = whapi.settings(WHAPI_TOKEN)["webhooks"]
    assert [h["url"] for h in hooks] == ["https://crm.example/hook", hooks[1]["url"]]
    assert hooks[1]["url"].endswith("/webhooks/whapi/ch_1")
    assert hooks[1]["headers"] == {"X-Webhook-Token": "new-token"}
    # Whapi now sends the newest token: the older one is no longer accepted.
    assert _credentials()["webhook_tokens"] == ["new-token"]
    patches = sum(r.method == "PATCH" for r in whapi.requests)
    webhook_setup.configure_webhook("ch_1")
    assert sum(r.method == "PATCH" for r in whapi.requests) == patches == 1


def test_whapi_rate_limits_are_retried_after_retry_after_and_shown(whapi: FakeWhapiAPI) -> None:
    whapi.rate_limit_next(1, retry_after=9)
    with pytest.raises(RateLimited) as raised:
        webhook_setup.configure_webhook("ch_1")
    assert raised.value.retry_after == 9
    assert "Could not point whapi" in (_error_message() or "")
    assert _credentials()["webhook_tokens"] == ["old-token", "new-token"]  # both still accepted
    webhook_setup.configure_webhook("ch_1")
    assert _error_message() is None


def test_a_revoked_whapi_token_is_final(whapi: FakeWhapiAPI) -> None:
    whapi.revoke(WHAPI_TOKEN)
    with pytest.raises(InvalidCredentials):
        webhook_setup.configure_webhook("ch_1")
    assert "Could not point whapi" in (_error_message() or "")


TWILIO_SID, TWILIO_TOKEN = "AC" + "5" * 32, "twilio-setup-token"


@pytest.fixture
def twilio(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilioAPI]:
    assert database is None
    with FakeTwilioAPI() as fake:
        fake.add_account(TWILIO_SID, TWILIO_TOKEN)
        _use(monkeypatch, "TWILIO_API_URL", fake.url)
        yield fake


def _twilio_channel(ident: str | None) -> None:
    seed("twilio", "sms", {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}, ident)


def test_a_twilio_number_named_in_e164_is_looked_up_and_pointed_here(
    twilio: FakeTwilioAPI,
) -> None:
    twilio.add_number(TWILIO_SID, "+15550000001")
    sid = twilio.add_number(TWILIO_SID, "+15550000002")
    _twilio_channel("+15550000002")
    twilio.rate_limit_next(1, retry_after=3)
    with pytest.raises(RateLimited):
        webhook_setup.configure_webhook("ch_1")
    webhook_setup.configure_webhook("ch_1")
    number = twilio.number(TWILIO_SID, sid)
    assert number["sms_url"].endswith("/webhooks/twilio/ch_1")
    assert (number["sms_method"], number["status_callback"]) == ("POST", number["sms_url"])
    assert _error_message() is None


@pytest.mark.parametrize(
    ("ident", "error"), [("+15559999999", NumberNotFound), (None, RequestRejected)]
)
def test_a_twilio_number_that_cannot_be_found_is_final_and_shown(
    twilio: FakeTwilioAPI, ident: str | None, error: type[Exception]
) -> None:
    assert twilio.numbers(TWILIO_SID) == []
    _twilio_channel(ident)
    with pytest.raises(error):
        webhook_setup.configure_webhook("ch_1")
    assert "Could not point twilio" in (_error_message() or "")


def test_every_page_of_twilio_numbers_is_read(twilio: FakeTwilioAPI) -> None:
    for n in range(450):  # three pages of 200
        twilio.add_number(TWILIO_SID, f"+1555{n:07d}")
    client = TwilioClient(settings.get_settings().twilio_api_url, TWILIO_SID, TWILIO_TOKEN)
    numbers = client.incoming_numbers()
    assert len(numbers) == 450 and len({n["sid"] for n in numbers}) == 450
