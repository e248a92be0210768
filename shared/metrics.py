"""Prometheus metrics shared by the receiver and the workers."""

from prometheus_client import Counter, Histogram

WEBHOOKS = Counter(
    "switchboard_webhooks_total",
    "Webhook requests by provider and outcome (stored, duplicate, ignored, refused, …)",
    ["provider", "outcome"],
)
EVENTS_PROCESSED = Counter(
    "switchboard_events_processed_total", "Events processed by workers", ["provider", "status"]
)
PROCESSING_SECONDS = Histogram(
    "switchboard_event_batch_seconds", "Time to process one batch of events"
)
