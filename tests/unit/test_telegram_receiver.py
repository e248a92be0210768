"""Telegram: the secret-token header, and updates → normalised events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from receiver.providers import telegram
from receiver.providers.base import Inbound, Malformed, Refused

SECRET = "s3cret_-token"
CREDENTIALS = {"bot_token": "1:x", "webhook_secret": SECRET}


def _inbound(body: bytes, secret: str | None = SECRET) -> Inbound:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return Inbound("ch_1", Headers(headers), body, "/", b"")


def test_the_right_secret_is_accepted() -> None:
    telegram.verify(_inbound(b"{}"), CREDENTIALS, 0)


@pytest.mark.parametrize("secret", [None, "", SECRET + "x", SECRET[:-1], SECRET.upper()])
def test_a_missing_or_wrong_secret_is_refused(secret: str | None) -> None:
    with pytest.raises(Refused):
        telegram.verify(_inbound(b"{}", secret), CREDENTIALS, 0)


def test_a_channel_without_a_secret_refuses_everything() -> None:
    with pytest.raises(Refused):
        telegram.verify(_inbound(b"{}", ""), {"bot_token": "1:x"}, 0)


def test_a_message_update_is_typed_timed_and_deduplicated_by_update_id() -> None:
    body = {"update_id": 10001, "message": {"message_id": 1, "date": 1700000000, "text": "hi"}}
    event = telegram.normalize(_inbound(json.dumps(body).encode())).event
    assert event is not None
    assert (event.type, event.dedup_key) == ("telegram.message", "10001")
    assert event.occurred_at == datetime.fromtimestamp(1700000000, UTC)


def test_an_edit_is_timed_by_its_edit_date() -> None:
    body = {"update_id": 2, "edited_message": {"date": 1700000000, "edit_date": 1700000100}}
    event = telegram.normalize(_inbound(json.dumps(body).encode())).event
    assert event is not None and event.type == "telegram.edited_message"
    assert event.occurred_at == datetime.fromtimestamp(1700000100, UTC)


@pytest.mark.parametrize(
    "body", [b"", b"[]", b'{"message": {}}', b'{"update_id": "1"}', b'{"update_id": true}', b"\xff"]
)
def test_unintelligible_updates_are_malformed(body: bytes) -> None:
    with pytest.raises(Malformed):
        telegram.normalize(_inbound(body))


# Header values reach the app as latin-1 text.
@given(body=st.binary(), secret=st.text(st.characters(max_codepoint=255)))
def test_arbitrary_input_only_raises_the_modules_refusals(body: bytes, secret: str) -> None:
    try:
        telegram.verify(_inbound(body, secret), CREDENTIALS, 0)
    except Refused:
        pass
    try:
        telegram.normalize(_inbound(body))
    except Malformed:
        pass
