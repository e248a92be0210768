"""Prometheus metrics shared by the receiver and the workers.

Counters and histograms live in each process. With `PROMETHEUS_MULTIPROC_DIR` set (to the same
empty directory for every process of a machine), `/metrics` sums the workers' figures with the
receiver's; without it, `/metrics` shows the process that serves it (all of them under `serve`).
The backlog (queue depth, pending events) is read from the broker and database when scraped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

WEBHOOKS = Counter(
    "switchboard_webhooks_total",
    "Webhook requests by provider and outcome (stored, duplicate, ignored, or why refused)",
    ["provider", "outcome"],
)
EVENTS_PROCESSED = Counter(
    "switchboard_events_processed_total", "Events processed by workers", ["provider", "status"]
)
PROCESSING_SECONDS = Histogram(
    "switchboard_event_batch_seconds", "Time to process one batch of events"
)
EVENT_LAG_SECONDS = Histogram(
    "switchboard_event_lag_seconds",
    "From a webhook's arrival to its effect on the channel",
    ["provider"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
SYNCS = Counter(
    "switchboard_syncs_total",
    "Connection syncs by platform and outcome: ok, or the provider error's code",
    ["platform", "outcome"],
)


class Backlog(Collector):
    """What waits to be done, read at scrape time: `depths()` per queue, `pending()` events."""

    def __init__(self, depths: Callable[[], dict[str, int]], pending: Callable[[], int]) -> None:
        self._depths, self._pending = depths, pending

    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily(
            "switchboard_queue_depth", "Messages queued or in flight per queue", labels=["queue"]
        )
        for queue, depth in self._depths().items():
            queues.add_metric([queue], depth)
        yield queues
        yield GaugeMetricFamily(
            "switchboard_events_pending",
            "Stored events not yet processed (the relay re-enqueues those the broker lost)",
            value=self._pending(),
        )


def exposition(backlog: Collector) -> bytes:
    """The text `/metrics` serves."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    own = CollectorRegistry()
    own.register(backlog)
    return generate_latest(registry) + generate_latest(own)
