"""Shared fixtures: the fake Slack API, and the real services integration tests need."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.providers.http import shared_client
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support import secret_scan
from tests.support.services import fresh_postgres_database, redis_url

GOOD_BOT_TOKEN = "xoxb-1111-good-bot-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5-test"
TELEGRAM_BOT_TOKEN = "7000001:AAH-good_telegram-bot-token"
secret_scan.remember(SIGNING_SECRET)  # given to Switchboard by the tests, never by a fake


@pytest.fixture(scope="session", autouse=True)
def _close_provider_client() -> Iterator[None]:
    """In-process tests call providers through the pooled client: close it, sockets and all."""
    yield
    shared_client().close()
    shared_client.cache_clear()


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlackAPI]:
    with FakeSlackAPI() as fake:
        fake.add_workspace(GOOD_BOT_TOKEN, team_id="T0001", team="Acme")
        yield fake


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        fake.add_bot(TELEGRAM_BOT_TOKEN, username="acme_bot")
        yield fake


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def test_redis_url() -> str:
    return redis_url()
