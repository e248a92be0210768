"""Liveness, readiness and metrics: no token needed."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.broker import ping, queue_depths
from shared.db import get_engine, session_scope
from shared.metrics import Backlog, exposition
from shared.models import Event


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _check() -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        import dramatiq

        ping(dramatiq.get_broker())
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    return checks


async def readyz(_request: Request) -> Response:
    checks = await run_in_threadpool(_check)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", **checks}, 200 if ready else 503
    )


def _broker_depths() -> dict[str, int]:
    import dramatiq

    return queue_depths(dramatiq.get_broker())


def _pending_events() -> int:
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Event).where(Event.status == "pending"))
            or 0
        )


BACKLOG = Backlog(_broker_depths, _pending_events)


async def metrics(_request: Request) -> Response:
    body = await run_in_threadpool(exposition, BACKLOG)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz),
    Route("/readyz", readyz),
    Route("/metrics", metrics),
]
