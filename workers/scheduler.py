"""The scheduler loop: periodic work that no request triggers (the relay, and due syncs).

Any number of schedulers may run: the relay claims events with SKIP LOCKED, and a due sync is
enqueued only by the scheduler whose conditional UPDATE takes the connection's lease.
"""

from __future__ import annotations

import logging
import threading
import time

from shared.settings import get_settings
from workers.relay import relay_once

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0


def enqueue_due_syncs() -> int:
    from workers.actors import request_sync  # the broker is installed on this import
    from workers.sync import due_connection_ids

    return sum(request_sync(cid, due_only=True) for cid in due_connection_ids())


def run(stop: threading.Event, tick: float = TICK_SECONDS) -> None:
    """Run until `stop` is set; one failed tick is logged and the next one tries again."""
    settings = get_settings()
    sync_every = settings.sync_check_seconds
    # A tick longer than the lease would leave lost events waiting longer than promised.
    tick = min(tick, sync_every, settings.relay_lease_seconds)
    next_sync_check = 0.0
    while not stop.is_set():
        try:
            relayed = relay_once()
            if relayed:
                log.info("relayed %d pending events", relayed)
            if time.monotonic() >= next_sync_check:
                next_sync_check = time.monotonic() + sync_every
                if enqueued := enqueue_due_syncs():
                    log.info("enqueued %d due connection syncs", enqueued)
        except Exception:
            log.exception("scheduler tick failed")
        stop.wait(tick)
