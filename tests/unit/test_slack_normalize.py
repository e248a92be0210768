"""Slack payloads → normalised events, and refusals for what cannot be understood."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from receiver.providers import slack
from receiver.providers.base import Inbound, Malformed


def _inbound(body: bytes, content_type: str = "application/json") -> Inbound:
    return Inbound("ch_1", Headers({"content-type": content_type}), body, "/", b"")


def test_url_verification_is_a_handshake_with_the_challenge() -> None:
    handled = slack.normalize(
        _inbound(b'{"type":"url_verification","challenge":"abc","token":"t"}')
    )
    assert handled.event is None
    assert json.loads(handled.reply.content) == {"challenge": "abc"}


def test_event_callback_is_typed_deduplicated_and_timed() -> None:
    body = {
        "type": "event_callback",
        "event_id": "Ev9",
        "event_time": 1700000000,
        "token": "legacy",
        "event": {"type": "message"},
    }
    event = slack.normalize(_inbound(json.dumps(body).encode())).event
    assert event is not None
    assert event.type == "slack.event_callback.message"
    assert event.dedup_key == "Ev9"
    assert event.occurred_at == datetime.fromtimestamp(1700000000, UTC)
    assert "token" not in event.payload


def test_app_rate_limited_is_deduplicated_per_team_and_minute() -> None:
    body = {"type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1518467820}
    event = slack.normalize(_inbound(json.dumps(body).encode())).event
    assert event is not None
    assert (event.type, event.dedup_key) == (
        "slack.app_rate_limited",
        "app_rate_limited:T1:1518467820",
    )


def test_interactions_and_slash_commands_arrive_as_forms() -> None:
    form = "application/x-www-form-urlencoded"
    interaction = urlencode(
        {"payload": json.dumps({"type": "block_actions", "token": "t"})}
    ).encode()
    event = slack.normalize(_inbound(interaction, form)).event
    assert event is not None and event.type == "slack.interaction.block_actions"
    assert "token" not in event.payload
    command = urlencode({"command": "/deploy", "text": "now", "token": "t"}).encode()
    event = slack.normalize(_inbound(command, form)).event
    assert event is not None and event.type == "slack.slash_command"
    assert "token" not in event.payload


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"x"',
        b"{}",
        b'{"type": 1}',
        b'{"type":"event_callback"}',
        b'{"type":"event_callback","event_id":"E","event":[]}',
        b"\xff\xfe",
    ],
)
def test_unintelligible_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        slack.normalize(_inbound(body))


def test_hostile_event_types_are_made_safe() -> None:
    body = {"type": "event_callback", "event_id": "E", "event": {"type": "x" * 500 + "\u202e"}}
    event = slack.normalize(_inbound(json.dumps(body).encode())).event
    assert event is not None
    assert len(event.type) <= 120 and event.type.isascii()


@given(
    body=st.binary(),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
)
def test_arbitrary_bytes_only_ever_raise_malformed(body: bytes, content_type: str) -> None:
    try:
        slack.normalize(_inbound(body, content_type))
    except Malformed:
        pass


@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_arbitrary_json_only_ever_raises_malformed(payload: object) -> None:
    try:
        handled = slack.normalize(_inbound(json.dumps(payload).encode()))
    except Malformed:
        return
    if handled.event is not None:
        assert handled.event.type.startswith("slack.")
