"""Discord: the Ed25519 vector, every malformed signature, and both endpoints' payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from receiver.providers import discord
from receiver.providers.base import Inbound, Malformed, Refused

VECTOR = json.loads((Path(__file__).parent.parent / "data" / "signatures.json").read_text())[
    "discord"
]
KEY = {"public_key": VECTOR["public_key"]}


def _inbound(
    body: bytes = VECTOR["body"].encode(),
    signature: str | None = VECTOR["signature"],
    timestamp: str | None = VECTOR["timestamp"],
    kind: str = "interactions",
) -> Inbound:
    headers = {}
    if signature is not None:
        headers["X-Signature-Ed25519"] = signature
    if timestamp is not None:
        headers["X-Signature-Timestamp"] = timestamp
    return Inbound("ch_1", Headers(headers), body, "/", b"", kind)


def test_the_fixed_key_vector_is_accepted() -> None:
    discord.verify(_inbound(), KEY, 0)


def test_the_vector_matches_its_private_seed() -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR["private_seed"]))
    signed = private.sign(VECTOR["timestamp"].encode() + VECTOR["body"].encode())
    assert signed.hex() == VECTOR["signature"]


def _flip(text: str, at: int = 0) -> str:
    return text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1 :]


@pytest.mark.parametrize(
    "change",
    [
        {"body": VECTOR["body"].encode() + b" "},
        {"body": VECTOR["body"].encode().replace(b'"1"', b'"2"')},
        {"timestamp": str(int(VECTOR["timestamp"]) + 1)},
        {"signature": _flip(VECTOR["signature"])},
        {"signature": _flip(VECTOR["signature"], 127)},
        {"signature": None},
        {"timestamp": None},
        {"timestamp": ""},
        {"signature": ""},
        {"signature": VECTOR["signature"][:-2]},
        {"signature": VECTOR["signature"] + "00"},
        {"signature": "zz" + VECTOR["signature"][2:]},
    ],
    ids=repr,
)
def test_any_change_or_malformed_header_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(Refused):
        discord.verify(_inbound(**change), KEY, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["", "00" * 31, "zz" * 32, VECTOR["public_key"][:-1] + "0", None])
def test_a_wrong_or_malformed_public_key_refuses(key: str | None) -> None:
    with pytest.raises(Refused):
        discord.verify(_inbound(), {"public_key": key}, 0)


def test_interaction_ping_is_answered_pong_and_not_stored() -> None:
    handled = discord.normalize(_inbound())
    assert handled.event is None
    assert json.loads(handled.reply.content) == {"type": 1}


def test_an_interaction_is_stored_and_deferred() -> None:
    interaction = {"type": 2, "id": "1234", "application_id": "2", "data": {"name": "x"}}
    body = json.dumps({**interaction, "token": "aW50ZXJhY3Rpb24tdG9rZW4"})
    handled = discord.normalize(_inbound(body.encode()))
    assert handled.event is not None
    assert handled.event.payload == interaction  # the interaction token is never stored
    assert (handled.event.type, handled.event.dedup_key) == (
        "discord.interaction.application_command",
        "1234",
    )
    assert json.loads(handled.reply.content) == {"type": 5}


def test_webhook_event_ping_is_204_and_an_event_is_stored_with_its_time() -> None:
    ping = discord.normalize(
        _inbound(b'{"version":1,"application_id":"2","type":0}', kind="events")
    )
    assert ping.event is None and ping.reply.status == 204
    body = {
        "version": 1,
        "application_id": "2",
        "type": 1,
        "event": {
            "type": "APPLICATION_AUTHORIZED",
            "timestamp": "2026-11-21T07:00:00.000000+00:00",
        },
    }
    handled = discord.normalize(_inbound(json.dumps(body).encode(), kind="events"))
    assert handled.reply.status == 204
    assert handled.event is not None
    assert handled.event.type == "discord.event.APPLICATION_AUTHORIZED"
    assert handled.event.occurred_at == datetime(2026, 11, 21, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "timestamp", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+14:00", "2026-11-21T07:00:00"]
)
def test_an_implausible_or_naive_event_time_is_left_out(timestamp: str) -> None:
    body = {
        "version": 1,
        "application_id": "2",
        "type": 1,
        "event": {"type": "X", "timestamp": timestamp},
    }
    handled = discord.normalize(_inbound(json.dumps(body).encode(), kind="events"))
    assert handled.event is not None and handled.event.occurred_at is None


@pytest.mark.parametrize("kind", ["events", "interactions"])
@pytest.mark.parametrize("body", [b"", b"[]", b'{"type": 7}', b'{"type": "1"}', b'{"type": 2}'])
def test_unintelligible_payloads_are_malformed(kind: str, body: bytes) -> None:
    with pytest.raises(Malformed):
        discord.normalize(_inbound(body, kind=kind))


@given(
    body=st.binary(),
    signature=st.text(st.characters(max_codepoint=255)),
    timestamp=st.text(st.characters(max_codepoint=255)),
    kind=st.sampled_from(["events", "interactions"]),
)
def test_arbitrary_input_only_raises_the_modules_refusals(
    body: bytes, signature: str, timestamp: str, kind: str
) -> None:
    inbound = _inbound(body, signature, timestamp, kind)
    try:
        discord.verify(inbound, KEY, 0)
    except Refused:
        pass
    try:
        discord.normalize(inbound)
    except Malformed:
        pass
