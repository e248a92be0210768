"""Connection syncs, platform by platform, against the fake providers: what a healthy account
leaves on the connection, and how each provider's refusals, rate limits, timeouts and 5xx end.

Final errors (refused credentials, missing permissions) are recorded on the connection and its
channels and free the lease; transient ones (429, no answer, 5xx) keep the lease for the retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence, Set
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import httpx
import pytest

from shared import db, settings
from shared.crypto import decrypt_json, encrypt_json
from shared.models import Connection
from shared.providers import http
from shared.providers.errors import (
    AuthExpired,
    FinalError,
    InsufficientPermissions,
    InvalidCredentials,
    NetworkError,
    PlatformError,
    ProviderError,
    RateLimited,
    RequestRejected,
)
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.unit.sync_support import remotes, seed, state
from workers import sync

SLACK_TOKEN = "xoxb-2222-sync-bot-token"
DISCORD_TOKEN = "discord-sync-bot-token"
GUILD_ID = "1200000000000000001"
WHAPI_TOKEN = "whapi-sync-token"
TWILIO_SID = "AC" + "5" * 32
TWILIO_TOKEN = "twilio-sync-auth-token"
TELEGRAM_TOKEN = "7300001:AAH-sync_bot-token"

# Enough of each to page: Slack 200 per page (440 listed, 10 archived), Whapi 500, Twilio 200.
SLACK_CHANNELS: list[dict[str, Any]] = [
    {
        "id": f"C{i:05d}",
        "name": f"chan-{i}",
        "is_private": i % 3 == 0,
        "is_archived": i % 45 == 44,
        "num_members": i,
    }
    for i in range(450)
]
DISCORD_CHANNELS: list[dict[str, Any]] = [
    {"id": "1300000000000000001", "type": 0, "name": "general"},
    {"id": "1300000000000000002", "type": 2, "name": "Voice"},
    {"id": "1300000000000000003", "type": 4, "name": "Category"},
    {"id": "1300000000000000004", "type": 5, "name": "announcements"},
    {"id": "1300000000000000005", "type": 15, "name": "forum"},
]
WHAPI_GROUPS = [f"120363{i:012d}@g.us" for i in range(1001)]
TWILIO_NUMBERS = [f"+1555{i:07d}" for i in range(401)]


class Fake(Protocol):
    """What every fake provider offers a test: queued faults, and the calls it received."""

    def fail_next(self, n: int, status: int = 500) -> None: ...
    def slow_next(self, n: int, seconds: float) -> None: ...
    def rate_limit_next(self, n: int, retry_after: int = 1) -> None: ...
    @property
    def requests(self) -> Sequence[object]: ...


F = TypeVar("F", bound=Fake)


@dataclass(frozen=True)
class Account(Generic[F]):
    """A fake holding the healthy account `conn_1` connects, and the remote ids it lists."""

    fake: F
    remote_ids: frozenset[str]


# -- database and client -------------------------------------------------------


def _new_shared_client() -> None:
    http.shared_client().close()
    http.shared_client.cache_clear()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Provider calls give up after 0.5 s instead of 10 s."""
    _new_shared_client()
    monkeypatch.setattr(http, "TIMEOUT", httpx.Timeout(0.5))
    yield
    _new_shared_client()


def _point(monkeypatch: pytest.MonkeyPatch, variable: str, url: str) -> None:
    monkeypatch.setenv(variable, url)
    settings.get_settings.cache_clear()


# -- one healthy account per platform --------------------------------------------


@pytest.fixture
def slack(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account[FakeSlackAPI]]:
    assert database is None
    with FakeSlackAPI() as fake:
        scopes = ("channels:read", "groups:read", "chat:write")
        fake.add_workspace(SLACK_TOKEN, team_id="T0SYNC", scopes=scopes, channels=SLACK_CHANNELS)
        _point(monkeypatch, "SLACK_API_URL", fake.url)
        seed("slack", "slack", {"bot_token": SLACK_TOKEN})
        listed = frozenset(c["id"] for c in SLACK_CHANNELS if not c["is_archived"])
        yield Account(fake, listed)


@pytest.fixture
def discord(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account[FakeDiscordAPI]]:
    assert database is None
    with FakeDiscordAPI() as fake:
        fake.add_bot(DISCORD_TOKEN, username="sync-bot", guilds={GUILD_ID: DISCORD_CHANNELS})
        _point(monkeypatch, "DISCORD_API_URL", fake.url)
        seed("discord", "discord", {"bot_token": DISCORD_TOKEN, "guild_id": GUILD_ID})
        text = frozenset(c["id"] for c in DISCORD_CHANNELS if c["type"] in (0, 5, 15))
        yield Account(fake, text)


@pytest.fixture
def whapi(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account[FakeWhapiAPI]]:
    assert database is None
    with FakeWhapiAPI() as fake:
        fake.add_channel(WHAPI_TOKEN, channel_id="SYNC-CHANNEL", authenticated=True)
        members = [{"id": "61371989950", "rank": "creator"}, {"id": "61371989951"}]
        for i, group_id in enumerate(WHAPI_GROUPS):
            fake.add_group(WHAPI_TOKEN, group_id, f"Group {i}", members[: i % 3])
        _point(monkeypatch, "WHAPI_GATE_URL", fake.url)
        seed("whapi", "whatsapp", {"token": WHAPI_TOKEN})
        yield Account(fake, frozenset(WHAPI_GROUPS))


@pytest.fixture
def twilio(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account[FakeTwilioAPI]]:
    assert database is None
    with FakeTwilioAPI() as fake:
        fake.add_account(TWILIO_SID, TWILIO_TOKEN)
        sids = frozenset(fake.add_number(TWILIO_SID, number) for number in TWILIO_NUMBERS)
        _point(monkeypatch, "TWILIO_API_URL", fake.url)
        seed("twilio", "sms", {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN})
        yield Account(fake, sids)


@pytest.fixture
def telegram(database: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account[FakeTelegramAPI]]:
    assert database is None
    with FakeTelegramAPI() as fake:
        fake.add_bot(TELEGRAM_TOKEN, bot_id=7300001, username="sync_bot")
        _point(monkeypatch, "TELEGRAM_API_URL", fake.url)
        seed("telegram", "telegram", {"bot_token": TELEGRAM_TOKEN})
        yield Account(fake, frozenset())  # Telegram lists nothing


@pytest.fixture(params=["slack", "discord", "whapi", "twilio", "telegram"])
def provider(request: pytest.FixtureRequest) -> Account[Fake]:
    account: Account[Fake] = request.getfixturevalue(request.param)
    return account


# -- helpers ----------------------------------------------------------------------


def _use_credentials(**changes: str) -> None:
    """Change the stored credentials of `conn_1`: a token the provider does not know."""
    with db.session_scope() as session:
        connection = session.get(Connection, "conn_1")
        assert connection is not None
        secret = settings.get_settings().secret
        credentials: dict[str, Any] = decrypt_json(secret, connection.credentials_encrypted)
        connection.credentials_encrypted = encrypt_json(secret, {**credentials, **changes})


def _claim() -> sync.Claim:
    claim = sync.claim("conn_1")
    assert claim is not None
    return claim


def _assert_synced(remote_ids: Set[str]) -> Connection:
    connection, channel = state()
    assert (connection.status, connection.error) == ("connected", None)
    assert connection.last_sync is not None and connection.validated_at == connection.last_sync
    assert (connection.sync_lease_owner, connection.sync_lease_until) == (None, None)
    assert connection.channel_count == len(remote_ids)
    assert set(remotes()) == remote_ids
    assert channel.status != "error"
    return connection


def _sync_fails_finally(error: type[FinalError], code: str) -> ProviderError:
    """Sync, expecting `error`: shown on the connection and its channel, and not retried."""
    claim = _claim()
    with pytest.raises(error) as raised:
        sync.run("conn_1", claim.owner)
    exc = raised.value
    assert exc.code == code
    connection, channel = state()
    assert connection.status == "error" and connection.error == exc.as_dict()
    assert (connection.sync_lease_owner, connection.sync_lease_until) == (None, None)
    assert connection.last_sync is not None and connection.validated_at is None
    assert connection.channel_count == 0 and remotes() == {}
    assert (channel.status, channel.error_message) == ("error", exc.message)
    assert sync.claim("conn_1", due_only=True) is None  # not retried: it waits a full interval
    return exc


def _assert_retried_under_the_lease(error: ProviderError, owner: str, remote_ids: Set[str]) -> None:
    """A transient error is shown but keeps the lease; the retry (same owner) then succeeds."""
    connection, channel = state()
    assert connection.error == error.as_dict()
    assert (connection.status, connection.last_sync) == ("connected", None)
    assert connection.sync_lease_owner == owner
    assert channel.status == "connected"
    assert sync.claim("conn_1") is None  # nobody else can take the lease
    assert sync.run("conn_1", owner)
    _assert_synced(remote_ids)


# -- every platform: rate limited, timed out, failing ---------------------------------


def test_a_rate_limit_is_honoured_under_the_same_lease(provider: Account[Fake]) -> None:
    provider.fake.rate_limit_next(1, retry_after=7)
    claim = _claim()
    with pytest.raises(RateLimited) as raised:
        sync.run("conn_1", claim.owner)
    assert (raised.value.code, raised.value.retry_after) == ("RATE_LIMITED", 7.0)
    _assert_retried_under_the_lease(raised.value, claim.owner, provider.remote_ids)


@pytest.mark.usefixtures("short_timeout")
def test_a_timeout_is_a_network_error_retried_under_the_same_lease(
    provider: Account[Fake],
) -> None:
    provider.fake.slow_next(1, 1.0)
    claim = _claim()
    with pytest.raises(NetworkError) as raised:
        sync.run("conn_1", claim.owner)
    assert raised.value.code == "NETWORK_ERROR"
    assert "Timeout" in raised.value.message
    _assert_retried_under_the_lease(raised.value, claim.owner, provider.remote_ids)


def test_a_5xx_is_a_platform_error_retried_under_the_same_lease(provider: Account[Fake]) -> None:
    provider.fake.fail_next(1, 503)
    claim = _claim()
    with pytest.raises(PlatformError) as raised:
        sync.run("conn_1", claim.owner)
    assert raised.value.code == "PLATFORM_ERROR"
    _assert_retried_under_the_lease(raised.value, claim.owner, provider.remote_ids)


# -- Slack ---------------------------------------------------------------------------


def test_slack_pages_by_cursor_and_keeps_private_channels_and_members(
    slack: Account[FakeSlackAPI],
) -> None:
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(slack.remote_ids)
    assert connection.account is not None and connection.account["team_id"] == "T0SYNC"
    pages = [r for r in slack.fake.requests if r.api_method == "conversations.list"]
    cursors = [r.params.get("cursor") for r in pages]
    assert len(pages) == 3 and cursors[0] == "" and all(cursors[1:])
    assert pages[0].params["types"] == "public_channel,private_channel"
    row = remotes()["C00003"]
    assert (row.name, row.is_private, row.member_count) == ("chan-3", True, 3)
    assert "C00044" not in remotes()  # archived


@pytest.mark.parametrize(
    ("break_it", "error", "code"),
    [
        (
            lambda _: _use_credentials(bot_token="xoxb-unknown"),
            InvalidCredentials,
            "INVALID_CREDENTIALS",
        ),
        (lambda fake: fake.revoke(SLACK_TOKEN), AuthExpired, "AUTH_EXPIRED"),
        (lambda fake: fake.refuse(SLACK_TOKEN, "account_inactive"), AuthExpired, "AUTH_EXPIRED"),
        (lambda fake: fake.refuse(SLACK_TOKEN, "token_expired"), AuthExpired, "AUTH_EXPIRED"),
    ],
    ids=["invalid_auth", "token_revoked", "account_inactive", "token_expired"],
)
def test_slack_refused_tokens_are_final(
    slack: Account[FakeSlackAPI],
    break_it: Callable[[FakeSlackAPI], object],
    error: type[FinalError],
    code: str,
) -> None:
    break_it(slack.fake)
    exc = _sync_fails_finally(error, code)
    assert exc.message.startswith("Slack auth.test: ")
    assert len(slack.fake.requests) == 1


def test_slack_missing_scope_names_the_scope_needed(slack: Account[FakeSlackAPI]) -> None:
    slack.fake.add_workspace(SLACK_TOKEN, scopes=("chat:write",), channels=SLACK_CHANNELS)
    exc = _sync_fails_finally(InsufficientPermissions, "INSUFFICIENT_PERMISSIONS")
    assert exc.required_scopes == ["channels:read"]
    connection, _ = state()
    assert connection.error is not None and connection.error["required_scopes"] == ["channels:read"]


# -- Discord --------------------------------------------------------------------------


def test_discord_lists_text_announcement_and_forum_channels(
    discord: Account[FakeDiscordAPI],
) -> None:
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(discord.remote_ids)
    assert connection.account is not None and connection.account["username"] == "sync-bot"
    assert {r.name for r in remotes().values()} == {"general", "announcements", "forum"}


@pytest.mark.parametrize(
    ("break_it", "error", "code"),
    [
        (
            lambda _: _use_credentials(bot_token="unknown"),
            InvalidCredentials,
            "INVALID_CREDENTIALS",
        ),
        (lambda fake: fake.revoke(DISCORD_TOKEN), InvalidCredentials, "INVALID_CREDENTIALS"),
        (lambda _: _use_credentials(guild_id="1299"), InvalidCredentials, "INVALID_CREDENTIALS"),
        (
            lambda fake: fake.deny_guild(DISCORD_TOKEN, GUILD_ID, 50001),
            InsufficientPermissions,
            "INSUFFICIENT_PERMISSIONS",
        ),
        (
            lambda fake: fake.deny_guild(DISCORD_TOKEN, GUILD_ID, 50013),
            InsufficientPermissions,
            "INSUFFICIENT_PERMISSIONS",
        ),
        (lambda fake: fake.fail_next(1, 403), InsufficientPermissions, "INSUFFICIENT_PERMISSIONS"),
    ],
    ids=["401-unknown", "401-revoked", "10004-unknown-guild", "50001", "50013", "403"],
)
def test_discord_refusals_are_final(
    discord: Account[FakeDiscordAPI],
    break_it: Callable[[FakeDiscordAPI], object],
    error: type[FinalError],
    code: str,
) -> None:
    break_it(discord.fake)
    _sync_fails_finally(error, code)


def test_discord_rate_limits_wait_the_bodys_float_seconds(
    discord: Account[FakeDiscordAPI],
) -> None:
    discord.fake.rate_limit_next(1, retry_after=2.5)  # the Retry-After header says 3
    claim = _claim()
    with pytest.raises(RateLimited) as raised:
        sync.run("conn_1", claim.owner)
    assert raised.value.retry_after == 2.5
    _assert_retried_under_the_lease(raised.value, claim.owner, discord.remote_ids)


# -- Whapi ----------------------------------------------------------------------------


def test_whapi_pages_groups_by_offset_with_participant_counts(
    whapi: Account[FakeWhapiAPI],
) -> None:
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(whapi.remote_ids)
    assert connection.account is not None and connection.account["channel_id"] == "SYNC-CHANNEL"
    offsets = [r.query["offset"] for r in whapi.fake.requests if r.path == "/groups"]
    assert offsets == ["0", "500", "1000"]
    row = remotes()[WHAPI_GROUPS[2]]
    assert (row.name, row.is_private, row.member_count) == ("Group 2", True, 2)


@pytest.mark.parametrize(
    ("break_it", "error", "code"),
    [
        (lambda fake: fake.revoke(WHAPI_TOKEN), InvalidCredentials, "INVALID_CREDENTIALS"),
        (lambda fake: fake.fail_next(1, 403), InvalidCredentials, "INVALID_CREDENTIALS"),
        (lambda fake: fake.fail_next(1, 404), RequestRejected, "PLATFORM_ERROR"),
    ],
    ids=["401-revoked", "403", "404"],
)
def test_whapi_refusals_are_final(
    whapi: Account[FakeWhapiAPI],
    break_it: Callable[[FakeWhapiAPI], object],
    error: type[FinalError],
    code: str,
) -> None:
    break_it(whapi.fake)
    exc = _sync_fails_finally(error, code)
    assert exc.message.startswith("Whapi /health: ")


# -- Twilio ---------------------------------------------------------------------------


def test_twilio_follows_next_page_uri(twilio: Account[FakeTwilioAPI]) -> None:
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(twilio.remote_ids)
    assert connection.account == {"account_sid": TWILIO_SID, "status": "active"}
    pages = [r for r in twilio.fake.requests if r.path.endswith("/IncomingPhoneNumbers.json")]
    assert [r.query.get("Page") for r in pages] == [None, "1", "2"]
    assert all(r.query["PageSize"] == "200" for r in pages)
    assert {r.name for r in remotes().values()} == set(TWILIO_NUMBERS)


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_a_suspended_or_closed_twilio_account_disconnects_its_numbers(
    twilio: Account[FakeTwilioAPI], status: str
) -> None:
    twilio.fake.set_account_status(TWILIO_SID, status)
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(twilio.remote_ids)
    assert connection.account is not None and connection.account["status"] == status
    _, channel = state()
    assert (channel.status, channel.error_message) == (
        "disconnected",
        f"The Twilio account is {status}",
    )


@pytest.mark.parametrize(
    ("break_it", "error", "code", "twilio_code"),
    [
        (
            lambda _: _use_credentials(auth_token="wrong"),
            InvalidCredentials,
            "INVALID_CREDENTIALS",
            20003,
        ),
        (lambda fake: fake.fail_next(1, 403), AuthExpired, "AUTH_EXPIRED", 20403),
        (lambda fake: fake.fail_next(1, 404), InvalidCredentials, "INVALID_CREDENTIALS", 20404),
        (lambda fake: fake.fail_next(1, 400), RequestRejected, "PLATFORM_ERROR", 20400),
    ],
    ids=["401-wrong-token", "403", "404", "400"],
)
def test_twilio_refusals_are_final(
    twilio: Account[FakeTwilioAPI],
    break_it: Callable[[FakeTwilioAPI], object],
    error: type[FinalError],
    code: str,
    twilio_code: int,
) -> None:
    break_it(twilio.fake)
    exc = _sync_fails_finally(error, code)
    assert exc.message.startswith("Twilio account: ")
    assert exc.message.endswith(f"(error {twilio_code})")


# -- Telegram -------------------------------------------------------------------------


def test_telegram_records_the_bot(telegram: Account[FakeTelegramAPI]) -> None:
    assert sync.run("conn_1", _claim().owner)
    connection = _assert_synced(telegram.remote_ids)
    assert connection.account == {"bot_id": 7300001, "username": "sync_bot"}
    methods = [r.api_method for r in telegram.fake.requests]
    assert methods == ["getMe", "getWebhookInfo"]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda fake: fake.revoke(TELEGRAM_TOKEN),  # 401
        lambda _: _use_credentials(bot_token="7300002:unknown"),  # 401
        lambda _: _use_credentials(bot_token="7300001/malformed"),  # 404: no such bot path
    ],
    ids=["401-revoked", "401-unknown", "404-malformed"],
)
def test_telegram_refused_tokens_are_final(
    telegram: Account[FakeTelegramAPI], break_it: Callable[[FakeTelegramAPI], object]
) -> None:
    break_it(telegram.fake)
    exc = _sync_fails_finally(InvalidCredentials, "INVALID_CREDENTIALS")
    assert exc.message.startswith("Telegram getMe: ")
    assert TELEGRAM_TOKEN not in exc.message
