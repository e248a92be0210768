"""The HTTP app: webhooks, the /v1 API, health, the dashboard. `create_app` wires it; nothing runs
at import."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from receiver.api import (
    audit,
    capabilities,
    channels,
    connect,
    connections,
    dead_letters,
    events,
    health,
    instances,
    openapi,
    tokens,
)
from receiver.api.problems import ProblemError, on_http_exception, on_problem, on_unexpected
from receiver.dashboard.routes import routes as dashboard_routes
from receiver.webhooks.dispatch import WebhookDispatch
from receiver.webhooks.enqueuer import enqueuer_for
from receiver.webhooks.event_store import Enqueue, PostgresStore, SqlStore
from receiver.webhooks.ingest import Ingestor
from receiver.webhooks.intake import WebhookIntake
from receiver.webhooks.targets import TargetCache, database_loader
from shared.broker import is_embedded
from shared.db import get_engine, make_engine
from shared.settings import get_settings


def _settle_garbage_collector() -> None:
    """Keep full collections off the hot path.

    Webhooks wait a few milliseconds for their batch, long enough to survive young collections,
    so the default thresholds trigger frequent full collections that rescan every long-lived
    object from start-up (~50 ms pauses; p99 latency). Freezing start-up objects takes them out
    of those scans, and a larger first threshold makes collections rarer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _event_store(database_url: str, enqueue: Enqueue) -> PostgresStore | SqlStore:
    # Webhook batches get a connection of their own.
    if database_url.startswith("postgresql"):
        return PostgresStore(database_url, enqueue)
    return SqlStore(make_engine(database_url), enqueue)


def create_app(*, run_workers: bool = False) -> ASGIApp:
    """`run_workers`: also run the workers and scheduler in this process (`switchboard serve`)."""
    settings = get_settings()
    from workers.actors import process_events  # installs the broker before any actor exists

    broker = process_events.broker
    if is_embedded(broker) and not run_workers:
        raise RuntimeError("REDIS_URL is not set: only `switchboard serve` can run without Redis")

    enqueuer = enqueuer_for(broker, settings.redis_url)

    async def enqueue(event_ids: list[str]) -> None:
        await enqueuer.send(process_events.message(event_ids))

    store = _event_store(settings.database_url, enqueue)
    ingestor = Ingestor(store)
    targets = TargetCache(database_loader(get_engine(), settings.secret))
    intake = WebhookIntake(targets, ingestor, settings.max_webhook_bytes, settings.public_base_url)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if isinstance(store, PostgresStore):
            await store.open()
        _settle_garbage_collector()
        workers = None
        if run_workers:
            from workers.embedded import EmbeddedWorkers

            workers = EmbeddedWorkers(broker)
            workers.start()
        try:
            yield
        finally:
            await ingestor.stop()
            await store.close()
            await targets.close()
            await enqueuer.close()
            if workers is not None:
                workers.stop()

    app = Starlette(
        routes=[
            *instances.routes,
            *channels.routes,
            *connect.routes,
            *connections.routes,
            *dead_letters.routes,
            *events.routes,
            *audit.routes,
            *tokens.routes,
            *capabilities.routes,
            *health.routes,
            *openapi.routes,
            *dashboard_routes(settings),  # `/` and /dashboard/…
        ],
        lifespan=lifespan,
        exception_handlers={
            ProblemError: on_problem,
            HTTPException: on_http_exception,
            Exception: on_unexpected,
        },
    )
    return WebhookDispatch(app, intake)
