"""Whapi: the per-channel token (header or query), the body's channel check, normalisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from receiver.providers import whapi
from receiver.providers.base import Inbound, Malformed, Refused
from shared.webhook_tokens import rotated, settled, webhook_token

EXAMPLES = json.loads((Path(__file__).parents[1] / "data" / "signatures.json").read_text())[
    "whapi"
]["payload_examples"]
KEY = "k" * 48
TOKEN = webhook_token(KEY, "ch_1", 1)
CREDENTIALS = {"token": "whapi-api-token", "webhook_tokens": [TOKEN]}
WHAPI_CHANNEL = "MANTIS-M72HC"


def _inbound(
    body: bytes,
    header: str | None = TOKEN,
    query: bytes = b"",
    external_identifier: str | None = WHAPI_CHANNEL,
) -> Inbound:
    headers = {"X-Webhook-Token": header} if header is not None else {}
    return Inbound(
        "ch_1", Headers(headers), body, "/", query, external_identifier=external_identifier
    )


def _example(name: str) -> bytes:
    return json.dumps(EXAMPLES[name]).encode()


def test_the_token_in_the_header_or_the_query_is_accepted() -> None:
    whapi.verify(_inbound(b"{}"), CREDENTIALS, 0)
    whapi.verify(_inbound(b"{}", None, b"a=1&token=" + TOKEN.encode()), CREDENTIALS, 0)


@pytest.mark.parametrize(
    "token", [None, "", TOKEN[:-1], TOKEN + "x", webhook_token(KEY, "ch_2", 1)]
)
def test_a_missing_or_wrong_token_is_refused(token: str | None) -> None:
    with pytest.raises(Refused):
        whapi.verify(_inbound(b"{}", token), CREDENTIALS, 0)
    query = b"" if token is None else b"token=" + token.encode()
    with pytest.raises(Refused):
        whapi.verify(_inbound(b"{}", None, query), CREDENTIALS, 0)


def test_a_channel_without_tokens_refuses_everything() -> None:
    with pytest.raises(Refused):
        whapi.verify(_inbound(b"{}"), {"token": "x"}, 0)


def test_rotation_accepts_the_old_and_new_tokens_until_settled() -> None:
    during = rotated(KEY, "ch_1", {"webhook_tokens": [TOKEN], "webhook_token_version": 1})
    new = webhook_token(KEY, "ch_1", 2)
    assert during["webhook_tokens"] == [TOKEN, new]
    for token in (TOKEN, new):
        whapi.verify(_inbound(b"{}", token), during, 0)
    after = settled(during, new)
    whapi.verify(_inbound(b"{}", new), after, 0)
    with pytest.raises(Refused):
        whapi.verify(_inbound(b"{}", TOKEN), after, 0)


def test_tokens_are_derived_from_the_secret_key_and_differ_per_channel_and_version() -> None:
    assert webhook_token(KEY, "ch_1", 1) == TOKEN
    others = {
        webhook_token(KEY, "ch_2", 1),
        webhook_token(KEY, "ch_1", 2),
        webhook_token("j" * 48, "ch_1", 1),
    }
    assert TOKEN not in others and len(others) == 3


@pytest.mark.parametrize(
    ("name", "kind", "key_prefix"),
    [
        ("message", "whapi.messages.post", "messages:p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw"),
        ("status", "whapi.statuses.post", "statuses:p.w30M7fgwWD4XwHu.g4CA-gBgTwl0rVw:read"),
        ("health_init", "whapi.channel.post", "sha256:"),
        ("user_login", "whapi.users.post", "sha256:"),
        ("user_logout", "whapi.users.delete", "sha256:"),
    ],
)
def test_the_documented_payloads_are_typed_and_keyed(name: str, kind: str, key_prefix: str) -> None:
    event = whapi.normalize(_inbound(_example(name))).event
    assert event is not None
    assert event.type == kind
    assert event.dedup_key.startswith(key_prefix)


def test_events_are_timed_by_their_own_clocks() -> None:
    message = whapi.normalize(_inbound(_example("message"))).event
    assert message is not None and message.occurred_at == datetime.fromtimestamp(1712995245, UTC)
    status = whapi.normalize(_inbound(_example("status"))).event
    assert status is not None and status.occurred_at == datetime.fromtimestamp(1712995290, UTC)
    qr, auth = (whapi.normalize(_inbound(_example(n))).event for n in ("health_qr", "health_auth"))
    assert qr is not None and auth is not None
    assert qr.occurred_at == datetime.fromtimestamp(1713774883 + 20, UTC)
    assert qr.occurred_at < auth.occurred_at  # type: ignore[operator]


def test_a_body_for_another_whapi_channel_is_refused() -> None:
    body = dict(EXAMPLES["message"], channel_id="OTHER-1")
    with pytest.raises(Refused):
        whapi.normalize(_inbound(json.dumps(body).encode()))
    missing = {k: v for k, v in EXAMPLES["message"].items() if k != "channel_id"}
    with pytest.raises(Refused):
        whapi.normalize(_inbound(json.dumps(missing).encode()))


def test_the_channel_check_waits_until_the_whapi_channel_is_known() -> None:
    body = json.dumps(dict(EXAMPLES["message"], channel_id="ANY-1")).encode()
    assert whapi.normalize(_inbound(body, external_identifier=None)).event is not None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"\xff",
        b'{"channel_id": "MANTIS-M72HC"}',
        b'{"channel_id": "MANTIS-M72HC", "event": "x"}',
    ],
)
def test_unintelligible_payloads_are_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        whapi.normalize(_inbound(body))


@given(
    body=st.binary(), token=st.text(st.characters(max_codepoint=255)), query=st.binary(max_size=80)
)
def test_arbitrary_input_only_raises_the_modules_refusals(
    body: bytes, token: str, query: bytes
) -> None:
    inbound = _inbound(body, token, query)
    try:
        whapi.verify(inbound, CREDENTIALS, 0)
    except Refused:
        pass
    try:
        whapi.normalize(inbound)
    except (Malformed, Refused):
        pass
