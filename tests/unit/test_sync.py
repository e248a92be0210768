"""Connection syncs against the fake providers: leases, retries, and what each platform reports."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from shared import settings
from shared.providers.errors import InvalidCredentials, RateLimited
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.unit.sync_support import seed as _seed
from tests.unit.sync_support import state as _state
from workers import sync


@pytest.fixture
def whapi(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWhapiAPI]:
    assert database is None
    with FakeWhapiAPI() as fake:
        fake.add_channel("wtok", authenticated=True)
        fake.add_group("wtok", "120363000000000001@g.us", "Support")
        monkeypatch.setenv("WHAPI_GATE_URL", fake.url)
        settings.get_settings.cache_clear()
        _seed("whapi", "whatsapp", {"token": "wtok"})
        yield fake


def test_only_one_claim_wins_and_the_owner_can_claim_again(whapi: FakeWhapiAPI) -> None:
    assert whapi is not None
    first = sync.claim("conn_1")
    assert first is not None
    assert sync.claim("conn_1") is None  # someone else: the lease is taken
    assert sync.claim("conn_1", first.owner) == first  # a retry of the same message
    assert sync.run("conn_1", first.owner)
    assert sync.claim("conn_1", due_only=True) is None  # just synced: not due


def test_a_rate_limit_keeps_the_lease_for_the_retry_and_shows_the_error(
    whapi: FakeWhapiAPI,
) -> None:
    claim = sync.claim("conn_1")
    assert claim is not None
    whapi.rate_limit_next(1, retry_after=4)
    with pytest.raises(RateLimited):
        sync.run("conn_1", claim.owner)
    connection, _ = _state()
    assert connection.error is not None and connection.error["code"] == "RATE_LIMITED"
    assert connection.sync_lease_owner == claim.owner and connection.last_sync is None
    assert sync.run("conn_1", claim.owner)
    connection, _ = _state()
    assert (connection.error, connection.sync_lease_owner, connection.channel_count) == (
        None,
        None,
        1,
    )


def test_giving_up_frees_the_lease_and_waits_a_full_interval(whapi: FakeWhapiAPI) -> None:
    assert whapi is not None
    claim = sync.claim("conn_1")
    assert claim is not None
    sync.give_up("conn_1", claim.owner)
    connection, _ = _state()
    assert connection.sync_lease_owner is None and connection.last_sync is not None
    assert sync.due_connection_ids() == []


def test_whapi_health_feeds_the_channel_status_without_waking_it(whapi: FakeWhapiAPI) -> None:
    whapi.set_status("wtok", "QR")
    claim = sync.claim("conn_1")
    assert claim is not None and sync.run("conn_1", claim.owner)
    _, channel = _state()
    assert channel.status == "awaiting_scan"
    health = [r for r in whapi.requests if r.path == "/health"]
    assert health and all(r.query.get("wakeup") == "false" for r in health)


def test_refused_credentials_are_final_on_the_connection_and_its_channels(
    whapi: FakeWhapiAPI,
) -> None:
    whapi.revoke("wtok")
    claim = sync.claim("conn_1")
    assert claim is not None
    with pytest.raises(InvalidCredentials):
        sync.run("conn_1", claim.owner)
    connection, channel = _state()
    assert connection.status == "error" and connection.error is not None
    assert connection.error["code"] == "INVALID_CREDENTIALS"
    assert connection.sync_lease_owner is None
    assert channel.status == "error" and channel.error_message


def test_a_suspended_twilio_account_disconnects_its_numbers(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database is None
    sid = "AC" + "7" * 32
    with FakeTwilioAPI() as fake:
        fake.add_account(sid, "ttok", status="suspended")
        fake.add_number(sid, "+15550000009")
        monkeypatch.setenv("TWILIO_API_URL", fake.url)
        settings.get_settings.cache_clear()
        _seed("twilio", "sms", {"account_sid": sid, "auth_token": "ttok"})
        claim = sync.claim("conn_1")
        assert claim is not None and sync.run("conn_1", claim.owner)
    connection, channel = _state()
    assert connection.channel_count == 1
    assert (channel.status, channel.error_message) == (
        "disconnected",
        "The Twilio account is suspended",
    )


def test_a_recent_telegram_delivery_error_is_shown(
    database: None, fake_telegram: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert database is None
    fake_telegram.add_bot("7200001:sync-bot", username="sync_bot")
    fake_telegram.set_webhook_error("7200001:sync-bot", int(time.time()) - 60, "Connection refused")
    monkeypatch.setenv("TELEGRAM_API_URL", fake_telegram.url)
    settings.get_settings.cache_clear()
    _seed("telegram", "telegram", {"bot_token": "7200001:sync-bot"})
    claim = sync.claim("conn_1")
    assert claim is not None and sync.run("conn_1", claim.owner)
    _, channel = _state()
    assert channel.error_message == "Telegram could not deliver updates: Connection refused"
