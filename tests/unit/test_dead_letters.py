"""The dead-letter middleware: what it records when a message fails for good, and what not."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from sqlalchemy import select

from shared import db
from shared.broker import setup_broker
from shared.models import Channel, DeadLetter, Event, utcnow
from shared.providers.errors import InvalidCredentials, RateLimited
from tests.unit.rows import add_in_order, instance, slack_channel, slack_event
from workers import effects, processing
from workers.dead_letters import DeadLetters, error_of, redrive

EVENT_IDS = ["ev_1", "ev_2", "ev_3"]


def _seed() -> None:
    now = utcnow()
    channels = [slack_channel(c, status="connected") for c in ("ch_good", "ch_bad")]
    events = [
        slack_event(event_id, channel_id, now)
        for event_id, channel_id in zip(EVENT_IDS, ["ch_good", "ch_bad", "ch_good"], strict=True)
    ]
    with db.session_scope() as session:
        add_in_order(session, [instance()], channels, events)


def _failed_message(actor: str, args: tuple[Any, ...], *, for_good: bool) -> MessageProxy:
    message = MessageProxy(
        dramatiq.Message(
            queue_name="q", actor_name=actor, args=args, kwargs={}, options={"retries": 9}
        )
    )
    if for_good:
        message.fail()
    return message


def _statuses() -> dict[str, tuple[str, str | None]]:
    with db.session_scope() as session:
        return {e.id: (e.status, e.error) for e in session.scalars(select(Event))}


def _letters() -> list[DeadLetter]:
    with db.session_scope() as session:
        letters = list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))
        session.expunge_all()
        return letters


@pytest.fixture
def poisoned(database: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applying anything to `ch_bad` fails, as a bug or a bad row would."""
    assert database is None
    _seed()
    real_apply = effects.apply

    def apply(channel: Channel, *args: Any) -> None:
        if channel.id == "ch_bad":
            raise RuntimeError("secret-looking detail that must not be kept")
        real_apply(channel, *args)

    monkeypatch.setattr(processing, "apply", apply)


def test_a_poison_event_fails_alone_and_its_batch_goes_through(poisoned: None) -> None:
    assert poisoned is None
    with pytest.raises(RuntimeError):
        processing.process_events(EVENT_IDS)
    assert {s for s, _ in _statuses().values()} == {"pending"}  # the batch rolled back

    message = _failed_message("process_events", (EVENT_IDS,), for_good=True)
    DeadLetters().after_process_message(setup_broker(), message, exception=RuntimeError())

    statuses = _statuses()
    assert statuses["ev_1"][0] == statuses["ev_3"][0] == "processed"
    assert statuses["ev_2"][0] == "failed"
    [letter] = _letters()
    assert (letter.kind, letter.subject_id, letter.instance_id) == ("event", "ev_2", "inst_1")
    assert letter.attempts == 10 and letter.status == "dead"
    assert letter.error["code"] == "INTERNAL_ERROR"
    assert "secret-looking" not in str(letter.error) and "secret-looking" not in str(statuses)


def test_a_message_that_will_be_retried_leaves_no_letter(poisoned: None) -> None:
    assert poisoned is None
    message = _failed_message("process_events", (EVENT_IDS,), for_good=False)
    DeadLetters().after_process_message(setup_broker(), message, exception=RuntimeError())
    assert _letters() == []
    assert {s for s, _ in _statuses().values()} == {"pending"}


def test_a_redriven_event_is_pending_again_and_a_new_failure_opens_a_new_letter(
    poisoned: None,
) -> None:
    assert poisoned is None
    message = _failed_message("process_events", (["ev_2"],), for_good=True)
    DeadLetters().after_process_message(setup_broker(), message, exception=RuntimeError())
    with db.session_scope() as session:
        letter = session.get(DeadLetter, _letters()[0].id)
        assert letter is not None
        follow_up = redrive(session, letter)
    assert follow_up is not None  # the API runs it after its commit
    assert _statuses()["ev_2"] == ("pending", None)
    DeadLetters().after_process_message(setup_broker(), message, exception=RuntimeError())
    assert [letter.status for letter in _letters()] == ["redriven", "dead"]


def test_only_what_a_provider_error_says_is_kept() -> None:
    refused = InvalidCredentials("Telegram getMe: Unauthorized")
    assert error_of(refused) == {
        "code": "INVALID_CREDENTIALS",
        "message": "Telegram getMe: Unauthorized",
    }
    try:
        raise dramatiq.Retry(delay=1000) from RateLimited("Slack auth.test", retry_after=1)
    except dramatiq.Retry as retry:
        assert error_of(retry)["code"] == "RATE_LIMITED"
    assert error_of(ValueError("postgres://user:pw@host")) == {
        "code": "INTERNAL_ERROR",
        "message": "ValueError while processing",
    }
