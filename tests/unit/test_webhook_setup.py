"""The follow-on settings update: retried when worth it, and every failure shown on the channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import db, settings
from shared.crypto import encrypt_json
from shared.models import Channel, Connection, Instance
from shared.providers.errors import InvalidCredentials, RateLimited
from tests.fakes.telegram_api import FakeTelegramAPI
from workers import webhook_setup

TOKEN = "7100001:flaky-bot-token"


@pytest.fixture
def telegram_channel(
    database: None, fake_telegram: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    assert database is None
    fake_telegram.add_bot(TOKEN, username="flaky_bot")
    monkeypatch.setenv("TELEGRAM_API_URL", fake_telegram.url)
    settings.get_settings.cache_clear()
    secret = settings.get_settings().secret
    credentials = {"bot_token": TOKEN, "webhook_secret": "w" * 40}
    with db.session_scope() as session:
        session.add(Instance(id="inst_1", name="x"))
        session.flush()
        session.add(
            Connection(
                id="conn_1",
                instance_id="inst_1",
                platform="telegram",
                name="@flaky_bot",
                credentials_encrypted=encrypt_json(secret, credentials),
            )
        )
        session.flush()
        session.add(
            Channel(
                id="ch_1",
                instance_id="inst_1",
                channel_type="telegram",
                provider="telegram",
                connection_id="conn_1",
                status="connected",
            )
        )
    yield "ch_1"


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
