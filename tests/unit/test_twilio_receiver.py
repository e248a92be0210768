"""Twilio: the published signature vectors, requests signed by Twilio's own SDK, normalisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers, MultiDict
from twilio.request_validator import RequestValidator

from receiver.providers import twilio
from receiver.providers.base import Inbound, Malformed, Refused

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "signatures.json").read_text())
TWILIO = VECTORS["twilio"]
CREDENTIALS = {"account_sid": "AC" + "0" * 32, "auth_token": TWILIO["auth_token"]}
CASES = {case["name"]: case for case in TWILIO["cases"]}


def _encode(params: list[Any]) -> bytes:
    return urlencode([tuple(pair) for pair in params]).encode()


def _inbound(url: str, body: bytes, signature: str | None) -> Inbound:
    """The request as the app sees it: PUBLIC_BASE_URL is the URL's scheme and host."""
    parts = urlsplit(url)
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return Inbound(
        "ch_1",
        Headers(headers),
        body,
        parts.path,
        parts.query.encode(),
        public_base_url=f"{parts.scheme}://{parts.netloc}",
    )


def _case(case: dict[str, Any], signature: str | None = None) -> Inbound:
    body = case["body"].encode() if "body" in case else _encode(case["params"])
    return _inbound(case["url"], body, signature or case.get("signature"))


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "signature" in c])
def test_every_published_vector_is_accepted(name: str) -> None:
    twilio.verify(_case(CASES[name]), CREDENTIALS, 0)


def test_the_443_variant_accepts_both_signatures() -> None:
    case = CASES["sdk form, url given with :443"]
    for signature in (case["signature_of_url_as_given"], CASES["sdk form"]["signature"]):
        twilio.verify(_case(case, signature), CREDENTIALS, 0)


def _changes(case: dict[str, Any]) -> list[tuple[str, bytes, str]]:
    """(url, body, signature) variants, each one byte (or one parameter) away from valid."""
    body = case["body"].encode() if "body" in case else _encode(case["params"])
    url, signature = case["url"], case["signature"]
    changed = [
        (url.replace("mycompany", "mycompanx"), body, signature),
        (url.replace("foo=1", "foo=2"), body, signature),
        (url, body, signature[:-2] + ("A=" if signature[-2] != "A" else "B=")),
    ]
    if "params" in case:
        for i, (name, value) in enumerate(case["params"]):
            params = list(case["params"])
            params[i] = (name, value + "0")
            changed.append((url, _encode(params), signature))
        changed.append((url, body + b"&Extra=1", signature))
    else:
        changed.append((url, body.replace(b"true", b"truE"), signature))
    return changed


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if "signature" in c])
def test_one_changed_byte_or_parameter_is_refused(name: str) -> None:
    for url, body, signature in _changes(CASES[name]):
        with pytest.raises(Refused):
            twilio.verify(_inbound(url, body, signature), CREDENTIALS, 0)


@pytest.mark.parametrize("signature", [None, "", "not base64", "0/KCTR6DLpKmkAf8muzZqo1nDgQ"])
def test_missing_or_malformed_signatures_are_refused(signature: str | None) -> None:
    case = dict(CASES["docs form"], signature=None)
    with pytest.raises(Refused):
        twilio.verify(
            _inbound(case["url"], _encode(case["params"]), signature),
            {"auth_token": TWILIO["auth_token"]},
            0,
        )


def test_the_wrong_auth_token_is_refused() -> None:
    with pytest.raises(Refused):
        twilio.verify(_case(CASES["docs form"]), {"auth_token": "54321"}, 0)


# A real Twilio request: signed by the twilio package's RequestValidator, as Twilio signs it.
PUBLIC = "https://switchboard.example.com"
STATUS_CALLBACK = [
    ("AccountSid", CREDENTIALS["account_sid"]),
    ("MessageSid", "SM" + "1" * 32),
    ("MessageStatus", "undelivered"),
    ("ErrorCode", "30003"),
    ("To", "+15558675310"),
    ("Body", "naïve café — ok?"),  # non-ASCII, as real message bodies are
]


def _sdk_signed(url: str, params: list[tuple[str, str]]) -> Inbound:
    validator = RequestValidator(TWILIO["auth_token"])
    # The SDK reads repeated fields through `getlist`, as from Django's QueryDict.
    signature = validator.compute_signature(url, MultiDict(params))
    return _inbound(url, urlencode(params).encode(), signature)


def test_a_status_callback_signed_by_the_twilio_sdk_is_accepted() -> None:
    inbound = _sdk_signed(f"{PUBLIC}/webhooks/twilio/ch_1?source=sms&x=%20a", STATUS_CALLBACK)
    twilio.verify(inbound, CREDENTIALS, 0)


def test_repeated_parameters_signed_by_the_sdk_are_accepted() -> None:
    params = [*STATUS_CALLBACK, ("MediaUrl", "https://a/2"), ("MediaUrl", "https://a/1")]
    twilio.verify(_sdk_signed(f"{PUBLIC}/webhooks/twilio/ch_1", params), CREDENTIALS, 0)


def test_a_json_body_signed_by_the_sdk_with_body_sha256_is_accepted() -> None:
    body = b'{"MessageSid": "SM1", "MessageStatus": "sent"}'
    validator = RequestValidator(TWILIO["auth_token"])
    url = f"{PUBLIC}/webhooks/twilio/ch_1?bodySHA256={validator.compute_hash(body.decode())}"
    inbound = _inbound(url, body, validator.compute_signature(url, {}))
    twilio.verify(inbound, CREDENTIALS, 0)
    assert validator.validate(url, body.decode(), inbound.headers["x-twilio-signature"])


def test_the_raw_query_is_signed_as_received_never_re_encoded() -> None:
    # `%7E` and `+` are what a framework's rebuilt URL would change (to `~` and `%20`).
    raw = _sdk_signed(f"{PUBLIC}/webhooks/twilio/ch_1?b=2&a=%7E&c=a+b", STATUS_CALLBACK)
    twilio.verify(raw, CREDENTIALS, 0)
    rebuilt = Inbound(
        "ch_1", raw.headers, raw.body, raw.path, b"a=~&b=2&c=a%20b", public_base_url=PUBLIC
    )
    with pytest.raises(Refused):
        twilio.verify(rebuilt, CREDENTIALS, 0)


def test_a_status_callback_becomes_a_typed_event_answered_with_empty_twiml() -> None:
    handled = twilio.normalize(_sdk_signed(f"{PUBLIC}/x", STATUS_CALLBACK))
    assert handled.event is not None
    assert handled.event.type == "twilio.message.undelivered"
    assert handled.event.dedup_key == f"{'SM' + '1' * 32}:undelivered"
    assert handled.event.payload["Body"] == "naïve café — ok?"
    assert handled.reply.media_type == "text/xml"
    assert handled.reply.content.endswith(b"<Response/>")


def test_inbound_messages_and_call_statuses_are_told_apart() -> None:
    inbound = twilio.normalize(
        _sdk_signed(f"{PUBLIC}/x", [("MessageSid", "SM9"), ("SmsStatus", "received")])
    )
    assert inbound.event is not None and inbound.event.type == "twilio.message.inbound"
    call = [
        ("CallSid", "CA1"),
        ("CallStatus", "completed"),
        ("Timestamp", "Mon, 16 Aug 2010 03:45:01 +0000"),
    ]
    event = twilio.normalize(_sdk_signed(f"{PUBLIC}/x", call)).event
    assert event is not None and (event.type, event.dedup_key) == (
        "twilio.call.completed",
        "CA1:completed",
    )
    assert event.occurred_at == datetime(2010, 8, 16, 3, 45, 1, tzinfo=UTC)
    for implausible in ("Fri, 31 Dec 9999 23:59:59 +0000", "Mon, 01 Jan 1 00:00:00 +1400"):
        late = [("CallSid", "CA2"), ("CallStatus", "ringing"), ("Timestamp", implausible)]
        odd = twilio.normalize(_sdk_signed(f"{PUBLIC}/x", late)).event
        assert odd is not None and odd.occurred_at is None, implausible


def test_repeated_form_fields_keep_every_value() -> None:
    params = [("MessageSid", "SM1"), ("MediaUrl", "a"), ("MediaUrl", "b")]
    event = twilio.normalize(_sdk_signed(f"{PUBLIC}/x", params)).event
    assert event is not None and event.payload["MediaUrl"] == ["a", "b"]


@pytest.mark.parametrize("body", [b"", b"hello", b"To=%2B1555", b"\xff\xfe"])
def test_a_form_without_a_sid_is_malformed_or_refused(body: bytes) -> None:
    with pytest.raises((Malformed, Refused)):
        twilio.normalize(_inbound(f"{PUBLIC}/x", body, "sig"))


@given(
    body=st.binary(),
    query=st.binary(max_size=60),
    signature=st.text(st.characters(max_codepoint=255)),
)
def test_arbitrary_input_only_raises_the_modules_refusals(
    body: bytes, query: bytes, signature: str
) -> None:
    inbound = Inbound(
        "ch_1",
        Headers({"X-Twilio-Signature": signature}),
        body,
        "/x",
        query,
        public_base_url=PUBLIC,
    )
    try:
        twilio.verify(inbound, CREDENTIALS, 0)
    except Refused:
        pass
    try:
        twilio.normalize(inbound)
    except (Malformed, Refused):
        pass
