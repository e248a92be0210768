"""Dramatiq actors. Importing this module installs the broker first (see shared.broker)."""

from __future__ import annotations

from shared.broker import setup_broker
from shared.logging_setup import quiet_http_clients

setup_broker()
# Worker processes are started by Dramatiq's CLI, which sets up logging without us.
quiet_http_clients()

import dramatiq  # noqa: E402  (the broker must exist before any actor is declared)

from shared.providers.errors import FinalError, RateLimited  # noqa: E402
from workers import processing, webhook_setup  # noqa: E402

EVENTS_QUEUE = "events"
SETUP_QUEUE = "provider_setup"


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
    try:
        webhook_setup.configure_webhook(channel_id)
    except RateLimited as exc:
        raise dramatiq.Retry(delay=int(exc.retry_after * 1000)) from exc
