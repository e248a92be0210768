"""The ordering rules every provider's effects obey (contract §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.models import Channel, Connection
from workers.effects import ALIVE, Effect, apply
from workers.effects import slack as slack_effects

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _channel(
    status: str = "pending", changed: datetime | None = None, last: datetime | None = None
) -> Channel:
    return Channel(status=status, status_changed_at=changed, last_event_at=last, enabled=True)


@pytest.mark.parametrize("status", ["pending", "connecting", "awaiting_scan", "disconnected"])
def test_a_live_event_revives(status: str) -> None:
    channel = _channel(status, changed=T0)
    apply(channel, None, ALIVE, T0 + timedelta(seconds=1))
    assert channel.status == "connected"
    # Reviving moves neither time: an older change processed later compares with T0.
    assert channel.status_changed_at == T0
    assert channel.last_alive_at == T0 + timedelta(seconds=1)


def test_a_live_event_does_not_clear_an_error() -> None:
    channel = _channel("error", changed=T0)
    apply(channel, None, ALIVE, T0 + timedelta(seconds=1))
    assert channel.status == "error"


def test_an_older_status_change_is_not_applied() -> None:
    channel = _channel("connected", changed=T0)
    apply(channel, None, Effect(status="disconnected", message="gone"), T0 - timedelta(seconds=1))
    assert channel.status == "connected"
    assert channel.last_event_at == T0 - timedelta(seconds=1)


def test_an_older_live_event_does_not_revive() -> None:
    channel = _channel("disconnected", changed=T0)
    apply(channel, None, ALIVE, T0 - timedelta(seconds=1))
    assert channel.status == "disconnected"


def test_last_event_at_only_moves_forward() -> None:
    channel = _channel("connected", changed=T0, last=T0 + timedelta(minutes=5))
    apply(channel, None, ALIVE, T0 + timedelta(minutes=1))
    assert channel.last_event_at == T0 + timedelta(minutes=5)


def test_applying_twice_has_the_effect_of_once() -> None:
    once, twice = _channel(changed=T0), _channel(changed=T0)
    effect = Effect(status="disconnected", message="gone")
    apply(once, None, effect, T0 + timedelta(seconds=3))
    for _ in range(2):
        apply(twice, None, effect, T0 + timedelta(seconds=3))
    assert (once.status, once.status_changed_at, once.last_event_at) == (
        twice.status,
        twice.status_changed_at,
        twice.last_event_at,
    )


def test_slack_revocation_disconnects_and_flags_the_connection() -> None:
    channel, connection = _channel("connected", changed=T0), Connection(status="connected")
    payload = {
        "type": "event_callback",
        "event": {"type": "tokens_revoked", "tokens": {"bot": ["U1"]}},
    }
    effect = slack_effects.effect_of("slack.event_callback.tokens_revoked", payload)
    apply(channel, connection, effect, T0 + timedelta(seconds=1))
    assert channel.status == "disconnected"
    assert connection.status == "error" and connection.error is not None
    assert connection.error["code"] == "AUTH_EXPIRED"


def test_slack_user_token_revocation_keeps_the_bot_alive() -> None:
    payload = {
        "type": "event_callback",
        "event": {"type": "tokens_revoked", "tokens": {"oauth": ["U2"], "bot": []}},
    }
    assert slack_effects.effect_of("slack.event_callback.tokens_revoked", payload) == ALIVE


@pytest.mark.parametrize("kind", ["app_uninstalled", "team_access_revoked"])
def test_slack_uninstall_disconnects(kind: str) -> None:
    payload = {"type": "event_callback", "event": {"type": kind}}
    assert slack_effects.effect_of(f"slack.event_callback.{kind}", payload).status == "disconnected"


def test_slack_rate_limit_notes_without_changing_status() -> None:
    channel = _channel("connected", changed=T0)
    effect = slack_effects.effect_of("slack.app_rate_limited", {"type": "app_rate_limited"})
    apply(channel, None, effect, T0 + timedelta(seconds=1))
    assert channel.status == "connected"
    assert channel.error_message is not None and "rate limit" in channel.error_message


REVOKED = Effect(
    status="disconnected",
    message="gone",
    connection_error={"code": "AUTH_EXPIRED", "message": "gone"},
)


@pytest.mark.parametrize("alive_first", [False, True])
def test_a_newer_proof_of_life_beats_an_older_revocation_in_either_order(
    alive_first: bool,
) -> None:
    channel, connection = _channel("connected", changed=T0), Connection(status="connected")
    events = [(REVOKED, T0 + timedelta(seconds=1)), (ALIVE, T0 + timedelta(seconds=2))]
    for effect, at in events[::-1] if alive_first else events:
        apply(channel, connection, effect, at)
    assert (channel.status, channel.error_message) == ("connected", None)
    assert channel.status_changed_at == T0 + timedelta(seconds=1)
    assert connection.status == "error", "the token was revoked all the same"


def test_an_error_after_a_revived_change_still_applies() -> None:
    # Events at 1 s (revoked), 2 s (error), 3 s (alive), the error processed last: in event
    # time order the error follows the revocation, and a proof of life does not clear errors.
    channel = _channel("connected", changed=T0)
    apply(channel, None, REVOKED, T0 + timedelta(seconds=1))
    apply(channel, None, ALIVE, T0 + timedelta(seconds=3))
    apply(channel, None, Effect(status="error", message="ERROR"), T0 + timedelta(seconds=2))
    assert (channel.status, channel.error_message) == ("error", "ERROR")


def test_a_note_outlives_an_older_status_change_processed_after_it() -> None:
    channel = _channel("pending", changed=T0)
    apply(channel, None, Effect(note="rate limited"), T0 + timedelta(seconds=2))
    apply(channel, None, Effect(status="connected"), T0 + timedelta(seconds=1))
    assert (channel.status, channel.error_message) == ("connected", "rate limited")


def test_credentials_validated_after_a_revocation_keep_the_connection() -> None:
    channel = _channel("connected", changed=T0)
    connection = Connection(status="connected", validated_at=T0 + timedelta(seconds=5))
    apply(channel, connection, REVOKED, T0 + timedelta(seconds=1))
    assert channel.status == "disconnected"
    assert (connection.status, connection.error) == ("connected", None)
