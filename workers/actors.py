"""Dramatiq actors. Importing this module installs the broker first (see shared.broker)."""

from __future__ import annotations

from shared.broker import setup_broker

setup_broker()

import dramatiq  # noqa: E402  (the broker must exist before any actor is declared)

from workers import processing  # noqa: E402

EVENTS_QUEUE = "events"


@dramatiq.actor(queue_name=EVENTS_QUEUE, max_retries=10, min_backoff=500, max_backoff=60_000)
def process_events(event_ids: list[str]) -> None:
    processing.process_events(event_ids)
