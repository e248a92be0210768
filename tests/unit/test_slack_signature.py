"""Slack's published signature vector, and every way a signature can be wrong."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier
from starlette.datastructures import Headers

from receiver.providers import slack
from receiver.providers.base import Inbound, Refused

VECTOR = json.loads((Path(__file__).parent.parent / "data" / "signatures.json").read_text())[
    "slack"
]
SECRET, BODY = VECTOR["signing_secret"], VECTOR["body"].encode()
TIMESTAMP, SIGNATURE = VECTOR["timestamp"], VECTOR["signature"]
FROZEN = float(TIMESTAMP) + 10


def valid(
    body: bytes = BODY,
    ts: str | None = TIMESTAMP,
    sig: str | None = SIGNATURE,
    now: float = FROZEN,
    secret: str = SECRET,
) -> bool:
    return slack.signature_is_valid(secret, body, ts, sig, now)


def test_published_vector_is_accepted_with_a_frozen_clock() -> None:
    assert valid()


def test_published_vector_is_refused_with_the_real_clock() -> None:
    assert not valid(now=time.time())


@pytest.mark.parametrize(
    "change",
    [
        {"body": BODY + b" "},
        {"body": BODY.replace(b"roadrunner", b"roadrunnex")},
        {"body": b""},
        {"secret": SECRET + "x"},
        {"secret": "wrong"},
        {"ts": None},
        {"sig": None},
        {"ts": ""},
        {"sig": ""},
        {"sig": SIGNATURE[:-1] + "0"},
        {"sig": SIGNATURE.upper()},
        {"sig": "v1=" + SIGNATURE[3:]},
        {"ts": str(int(TIMESTAMP) + 1)},
        {"ts": " " + TIMESTAMP},
        {"ts": "1_531_420_618"},
        {"now": float(TIMESTAMP) + 301},
        {"now": float(TIMESTAMP) - 301},
    ],
    ids=repr,
)
def test_any_change_is_refused(change: dict[str, object]) -> None:
    assert not valid(**change)  # type: ignore[arg-type]


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_the_five_minute_window_is_inclusive(skew: int) -> None:
    assert valid(now=float(TIMESTAMP) + skew)


def _inbound(headers: dict[str, str], body: bytes = BODY) -> Inbound:
    return Inbound("ch_1", Headers(headers), body, "/webhooks/slack/ch_1", b"")


def test_verify_reads_the_headers_and_refuses_without_them() -> None:
    headers = {"X-Slack-Request-Timestamp": TIMESTAMP, "X-Slack-Signature": SIGNATURE}
    slack.verify(_inbound(headers), {"signing_secret": SECRET}, FROZEN)
    for missing in headers:
        partial = {k: v for k, v in headers.items() if k != missing}
        with pytest.raises(Refused):
            slack.verify(_inbound(partial), {"signing_secret": SECRET}, FROZEN)
    with pytest.raises(Refused):
        slack.verify(_inbound(headers), {}, FROZEN)


def test_requests_signed_by_slack_sdk_are_accepted() -> None:
    now = time.time()
    signer = SignatureVerifier(SECRET, clock=type("Clock", (), {"now": lambda _self: now})())
    body = b'{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}'
    ts = str(int(now))
    signature = signer.generate_signature(timestamp=ts, body=body)
    assert signature is not None
    assert slack.signature_is_valid(SECRET, body, ts, signature, now)
    assert signer.is_valid(body, ts, signature)


@given(body=st.binary(), ts=st.text(), sig=st.text(), now=st.floats(allow_nan=True))
def test_arbitrary_input_never_raises(body: bytes, ts: str, sig: str, now: float) -> None:
    assert slack.signature_is_valid(SECRET, body, ts, sig, now) in (True, False)
