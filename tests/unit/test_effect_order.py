"""Contract §6 orders effects by event time: any processing order ends in the same state.

Events are applied one by one in every order (all of them for three events, random ones for
more) and must end where applying them in event-time order does: channel and connection alike.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.models import Channel, Connection
from workers.effects import Effect, apply
from workers.effects import discord as discord_effects
from workers.effects import slack as slack_effects
from workers.effects import whapi as whapi_effects
from workers.effects.state import CHANNEL_STATE

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _health(text: str) -> dict[str, Any]:
    return {"health": {"status": {"code": 0, "text": text}}}


# An event kind → its effect when it occurs at a given second (a QR code differs each time).
KINDS: dict[str, Callable[[int], Effect]] = {
    "slack alive": lambda _: slack_effects.effect_of(
        "slack.event_callback.message", {"event": {"type": "message"}}
    ),
    "slack tokens_revoked": lambda _: slack_effects.effect_of(
        "slack.event_callback.tokens_revoked",
        {"event": {"type": "tokens_revoked", "tokens": {"bot": ["U1"]}}},
    ),
    "slack app_rate_limited": lambda _: slack_effects.effect_of(
        "slack.app_rate_limited", {"type": "app_rate_limited"}
    ),
    "whapi QR": lambda s: whapi_effects.effect_of("whapi.channel.patch", {"qr": f"2@code-{s}"}),
    "whapi AUTH": lambda _: whapi_effects.effect_of("whapi.channel.post", _health("AUTH")),
    "whapi STOP": lambda _: whapi_effects.effect_of("whapi.channel.post", _health("STOP")),
    "whapi ERROR": lambda _: whapi_effects.effect_of("whapi.channel.post", _health("ERROR")),
    "whapi messages": lambda _: whapi_effects.effect_of("whapi.messages.post", {}),
    "discord APPLICATION_AUTHORIZED": lambda _: discord_effects.effect_of(
        "discord.event.APPLICATION_AUTHORIZED", {}
    ),
}
# (status, status_changed_at, last_alive_at, the connection's validated_at) in seconds after T0;
# events happen at 1 s or later.
Start = tuple[str, int | None, int | None, int | None]
STARTS: list[Start] = [
    ("pending", None, None, None),
    ("connected", 0, None, 0),
    ("connected", 2, 2, 2),
    ("awaiting_scan", 0, None, None),
    ("disconnected", 2, 0, None),
    ("error", 2, None, 2),
]
Event = tuple[str, int]  # (kind, second)


def _at(second: int | None) -> datetime | None:
    return None if second is None else T0 + timedelta(seconds=second)


def _final(start: Start, events: Sequence[Event]) -> tuple[Any, ...]:
    """The channel and connection state after applying `events` in the order given."""
    status, changed, alive, validated = start
    channel = Channel(
        status=status, status_changed_at=_at(changed), last_alive_at=_at(alive), enabled=True
    )
    connection = Connection(status="connected", error=None, validated_at=_at(validated))
    for kind, second in events:
        occurred_at = _at(second)
        assert occurred_at is not None
        apply(channel, connection, KINDS[kind](second), occurred_at)
    channel_state = tuple(getattr(channel, name) for name in CHANNEL_STATE)
    return channel_state, connection.status, connection.error


def _in_event_time_order(events: Sequence[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e[1])


@pytest.mark.parametrize("start", STARTS)
def test_any_three_events_end_alike_in_every_order(start: Start) -> None:
    for kinds in itertools.product(KINDS, repeat=3):
        events = list(zip(kinds, (1, 2, 3), strict=True))
        expected = _final(start, events)
        for order in itertools.permutations(events):
            assert _final(start, order) == expected, order


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(STARTS),
    kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=2, max_size=10),
    seconds=st.lists(st.integers(1, 10_000), min_size=10, max_size=10, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_many_events_end_alike_in_random_orders(
    start: Start, kinds: list[str], seconds: list[int], seed: int
) -> None:
    events = list(zip(kinds, seconds, strict=False))
    expected = _final(start, _in_event_time_order(events))
    shuffler = random.Random(seed)
    for _ in range(20):
        order = shuffler.sample(events, len(events))
        assert _final(start, order) == expected, order


@pytest.mark.parametrize("kind", ["slack tokens_revoked", "whapi QR", "whapi STOP"])
def test_an_alive_event_at_the_same_time_wins_in_either_order(kind: str) -> None:
    events = [(kind, 1), ("slack alive", 1)]
    first, second = _final(STARTS[1], events), _final(STARTS[1], events[::-1])
    assert first == second
    assert first[0][0] == "connected"
