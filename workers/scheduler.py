"""The scheduler loop: periodic work that no request triggers (today: the relay)."""

from __future__ import annotations

import logging
import threading

from workers.relay import relay_once

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0


def run(stop: threading.Event, tick: float = TICK_SECONDS) -> None:
    """Run until `stop` is set; one failed tick is logged and the next one tries again."""
    while not stop.is_set():
        try:
            relayed = relay_once()
            if relayed:
                log.info("relayed %d pending events", relayed)
        except Exception:
            log.exception("scheduler tick failed")
        stop.wait(tick)
