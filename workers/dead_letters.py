"""Dead letters: background work that failed for good, kept in the database until redriven.

A Dramatiq message fails for good when its retries are exhausted or its actor throws an error
it declares final. The `DeadLetters` middleware then records what the work was about (a
connection's sync, a channel's webhook setup, events) with the error's code and message, never
a secret. The API lists the letters and redrives them (receiver.api.dead_letters), so nothing
loops forever and nothing is dropped silently.

A batch of events that keeps failing is retried one event at a time first: only the events
that fail alone are marked `failed` and dead-lettered, so one poison event cannot take its
batch down with it (and the relay stops re-enqueueing it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.db import session_scope
from shared.ids import new_id
from shared.models import Channel, Connection, DeadLetter, Event, utcnow
from shared.providers.errors import ProviderError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    kind: str
    subject_id: str
    instance_id: str | None


def error_of(exc: BaseException) -> dict[str, str]:
    """What is safe to keep about an error: provider errors are written to be shown; anything
    else may carry data from its context (SQL parameters, URLs), so only its type is kept."""
    if isinstance(exc, ProviderError):
        return {"code": exc.code, "message": exc.message}
    cause = exc.__cause__
    if isinstance(cause, ProviderError):  # a rate limit turned into dramatiq.Retry
        return {"code": cause.code, "message": cause.message}
    return {"code": "INTERNAL_ERROR", "message": f"{type(exc).__name__} while processing"}


def record(subject: Subject, actor: str, error: dict[str, str], attempts: int) -> None:
    """Open a letter for `subject`, or count one more failure on the open one."""
    with session_scope() as session:
        query = select(DeadLetter).where(
            DeadLetter.kind == subject.kind,
            DeadLetter.subject_id == subject.subject_id,
            DeadLetter.status == "dead",
        )
        letter = session.scalars(query.with_for_update()).first()
        if letter is None:
            letter = DeadLetter(
                id=new_id("dl"),
                kind=subject.kind,
                subject_id=subject.subject_id,
                instance_id=subject.instance_id,
                actor=actor,
                failures=0,
            )
            session.add(letter)
        letter.error, letter.attempts, letter.failed_at = error, attempts, utcnow()
        letter.failures = (letter.failures or 0) + 1


def _sync_subject(args: list[Any]) -> Subject | None:
    with session_scope() as session:
        connection = session.get(Connection, args[0])
        return Subject("sync", args[0], connection.instance_id) if connection else None


def _setup_subject(args: list[Any]) -> Subject | None:
    with session_scope() as session:
        channel = session.get(Channel, args[0])
        return Subject("webhook_setup", args[0], channel.instance_id) if channel else None


SUBJECTS: dict[str, Callable[[list[Any]], Subject | None]] = {
    "sync_connection": _sync_subject,
    "configure_webhook": _setup_subject,
}


def settle_events(event_ids: list[str], attempts: int) -> list[str]:
    """Process each event alone; mark and dead-letter those that still fail. Returns them."""
    from workers.processing import process_events

    failed = []
    for event_id in event_ids:
        try:
            process_events([event_id])
        except Exception as exc:
            log.exception("event %s fails on its own; dead-lettering it", event_id)
            failed.append(event_id)
            _fail_event(event_id, error_of(exc), attempts)
    return failed


def _fail_event(event_id: str, error: dict[str, str], attempts: int) -> None:
    with session_scope() as session:
        event = session.get(Event, event_id)
        if event is None or event.status != "pending":
            return
        event.status, event.error = "failed", error["message"]
        event.attempts += attempts
        instance_id = event.instance_id
    record(Subject("event", event_id, instance_id), "process_events", error, attempts)


class DeadLetters(dramatiq.Middleware):
    """Runs after Retries: by then `message.failed` says whether the work is over for good."""

    def after_process_message(
        self,
        broker: dramatiq.Broker,  # noqa: ARG002  (Dramatiq's hook signature)
        message: dramatiq.MessageProxy,
        *,
        result: Any = None,  # noqa: ARG002
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not message.failed:
            return
        attempts = int(message.options.get("retries", 0)) + 1
        try:
            if message.actor_name == "process_events":
                settle_events(list(message.args[0]), attempts)
                return
            subject = SUBJECTS.get(message.actor_name)
            found = subject(list(message.args)) if subject else None
            if found is not None:
                record(found, message.actor_name, error_of(exception), attempts)
        except Exception:
            # The database may be what failed. Events stay pending for the relay; a sync is
            # due again at its next interval; a setup is redone by reconnecting.
            log.exception("could not record dead letter for message %s", message.message_id)


def replay_event(session: Session, event: Event) -> Callable[[], object]:
    """Put `event` back to `pending`, closing its open dead letter; returns the send that
    enqueues it, to run after the commit. Processing is idempotent, so replaying is safe."""
    from workers import actors

    event.status, event.error, event.enqueued_at = "pending", None, utcnow()
    session.execute(
        update(DeadLetter)
        .where(
            DeadLetter.kind == "event",
            DeadLetter.subject_id == event.id,
            DeadLetter.status == "dead",
        )
        .values(status="redriven", redriven_at=utcnow())
    )
    event_id = event.id
    return lambda: actors.process_events.send([event_id])


def redrive(session: Session, letter: DeadLetter) -> Callable[[], object] | None:
    """Close `letter` and return the send that redoes its work, to run after the commit;
    None if what it was about is gone (the letter is closed all the same)."""
    from workers import actors  # actors install this module's middleware

    letter.status, letter.redriven_at = "redriven", utcnow()
    subject_id = letter.subject_id
    if letter.kind == "event":
        event = session.get(Event, subject_id)
        return replay_event(session, event) if event is not None else None
    if letter.kind == "sync":
        exists = session.get(Connection, subject_id) is not None
        return (lambda: actors.request_sync(subject_id)) if exists else None
    if letter.kind == "webhook_setup":
        exists = session.get(Channel, subject_id) is not None
        return (lambda: actors.configure_webhook.send(subject_id)) if exists else None
    return None
