"""Dramatiq actors. Importing this module installs the broker first (see shared.broker)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dramatiq.middleware import Retries

from shared.broker import setup_broker
from shared.logging_setup import quiet_http_clients
from workers.dead_letters import DeadLetters

_broker = setup_broker()
if not any(isinstance(m, DeadLetters) for m in _broker.middleware):
    # `after_*` hooks run in reverse order: placed before Retries, ours runs after it, once
    # Retries has decided whether the message failed for good.
    _broker.add_middleware(DeadLetters(), before=Retries)
# Worker processes are started by Dramatiq's CLI, which sets up logging without us.
quiet_http_clients()

import dramatiq  # noqa: E402  (the broker must exist before any actor is declared)

from shared.providers.errors import FinalError, RateLimited  # noqa: E402
from workers import processing, sync, webhook_setup  # noqa: E402

EVENTS_QUEUE = "events"
SETUP_QUEUE = "provider_setup"
SYNC_QUEUE = "syncs"


@contextmanager
def _retry_when_the_provider_says() -> Iterator[None]:
    """A rate limit waits the provider's `Retry-After`, not Dramatiq's exponential guess."""
    try:
        yield
    except RateLimited as exc:
        raise dramatiq.Retry(delay=int(exc.retry_after * 1000)) from exc


@dramatiq.actor(queue_name=EVENTS_QUEUE, max_retries=10, min_backoff=500, max_backoff=60_000)
def process_events(event_ids: list[str]) -> None:
    processing.process_events(event_ids)


# Network and platform errors retry with Dramatiq's exponential backoff; credentials the
# provider refuses are final (retrying them only annoys the provider).
@dramatiq.actor(
    queue_name=SETUP_QUEUE,
    max_retries=8,
    min_backoff=1_000,
    max_backoff=300_000,
    throws=(FinalError,),
)
def configure_webhook(channel_id: str) -> None:
    with _retry_when_the_provider_says():
        webhook_setup.configure_webhook(channel_id)


@dramatiq.actor(
    queue_name=SYNC_QUEUE,
    max_retries=6,
    min_backoff=2_000,
    max_backoff=600_000,
    throws=(FinalError,),
    on_retry_exhausted="sync_gave_up",
)
def sync_connection(connection_id: str, owner: str) -> None:
    """One sync of one connection, under the lease `owner` (see workers.sync)."""
    with _retry_when_the_provider_says():
        sync.run(connection_id, owner)


@dramatiq.actor(queue_name=SYNC_QUEUE, max_retries=3)
def sync_gave_up(message: dict[str, Any], retries: dict[str, Any]) -> None:  # noqa: ARG001
    connection_id, owner = message["args"]
    sync.give_up(connection_id, owner)


def request_sync(connection_id: str, *, due_only: bool = False) -> bool:
    """Enqueue a sync unless one is queued or running (or, with `due_only`, it is not due)."""
    claim = sync.claim(connection_id, due_only=due_only)
    if claim is None:
        return False
    sync_connection.send(claim.connection_id, claim.owner)
    return True
