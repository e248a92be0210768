"""Contract §6 for Whapi and Twilio: what each event does to its channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.models import Channel
from workers.effects import apply
from workers.effects import twilio as twilio_effects
from workers.effects import whapi as whapi_effects

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _health(text: str) -> dict[str, Any]:
    return {"health": {"status": {"code": 0, "text": text}}, "channel_id": "W-1"}


@pytest.mark.parametrize(
    ("event_type", "payload", "status", "message"),
    [
        ("whapi.channel.post", _health("AUTH"), "connected", None),
        ("whapi.channel.post", {"channel_id": "W-1"}, "connected", None),
        ("whapi.channel.post", _health("QR"), "awaiting_scan", None),
        ("whapi.channel.patch", {"qr": "2@abc"}, "awaiting_scan", None),
        ("whapi.channel.post", _health("INIT"), "connecting", None),
        ("whapi.channel.post", _health("LAUNCH"), "connecting", None),
        ("whapi.channel.post", _health("NOT_INIT"), "connecting", None),
        ("whapi.channel.post", _health("STOP"), "disconnected", "The Whapi channel was stopped"),
        ("whapi.channel.post", _health("ERROR"), "error", "ERROR"),
        ("whapi.channel.post", _health("SYNC_ERROR"), "error", "SYNC_ERROR"),
        ("whapi.users.post", {}, "connected", None),
        ("whapi.users.delete", {}, "disconnected", "The WhatsApp account logged out"),
        ("whapi.messages.post", {}, "connected", None),  # alive revives
        ("whapi.statuses.post", {}, "connected", None),
        ("whapi.chats.patch", {}, "connected", None),
    ],
)
def test_the_whapi_status_table(
    event_type: str, payload: dict[str, Any], status: str, message: str | None
) -> None:
    channel = Channel(status="pending", status_changed_at=T0, enabled=True)
    apply(channel, None, whapi_effects.effect_of(event_type, payload), T0 + timedelta(seconds=1))
    assert (channel.status, channel.error_message) == (status, message)


def test_the_latest_qr_is_kept_and_an_older_one_is_not() -> None:
    channel = Channel(status="connecting", status_changed_at=T0, enabled=True)
    qr = {"qr": {"rowdata": "2@new", "base64": "data:image/png;base64,iVBOR"}}
    apply(channel, None, whapi_effects.effect_of("whapi.channel.patch", qr), T0 + timedelta(2))
    assert channel.qr is not None
    assert (channel.qr["qr_data"], channel.qr["qr_image_base64"]) == ("2@new", "iVBOR")
    older = {"qr": "2@old"}
    apply(channel, None, whapi_effects.effect_of("whapi.channel.patch", older), T0 + timedelta(1))
    assert channel.qr["qr_data"] == "2@new"


def test_a_twilio_callback_proves_the_number_alive() -> None:
    channel = Channel(status="pending", status_changed_at=T0, enabled=True)
    payload = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    apply(channel, None, twilio_effects.effect_of("twilio.message.delivered", payload), T0)
    assert (channel.status, channel.error_message) == ("connected", None)


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_a_failed_twilio_delivery_with_an_error_code_is_shown(status: str) -> None:
    channel = Channel(status="connected", status_changed_at=T0, enabled=True)
    payload = {"MessageSid": "SM1", "MessageStatus": status, "ErrorCode": "30003"}
    apply(channel, None, twilio_effects.effect_of(f"twilio.message.{status}", payload), T0)
    assert channel.status == "connected"
    assert channel.error_message == f"Twilio error 30003: the last message was {status}"


def test_a_failed_twilio_delivery_without_an_error_code_is_only_alive() -> None:
    channel = Channel(status="connected", status_changed_at=T0, enabled=True)
    payload = {"MessageSid": "SM1", "MessageStatus": "failed"}
    apply(channel, None, twilio_effects.effect_of("twilio.message.failed", payload), T0)
    assert channel.error_message is None
