"""The "naive" calibration: what the issue calls a naive receiver, on the same PostgreSQL and Redis.

Per webhook, in a worker thread (Starlette's thread pool): verify the signature, one INSERT
into Switchboard's `events` table and its commit, then one blocking Dramatiq `send` to Redis;
answer 200 after both. No batching, no channel lookup, no dedup answer: the design the batching
receiver is measured against. It is given a fair shot, not a straw man: a connection per thread
(so no request waits for one) and the same uvicorn settings as the other servers.

Environment: BENCH_SIGNING_SECRET, DATABASE_URL (migrated), REDIS_URL. Run:
`python -m uvicorn bench.servers.naive_app:app --loop uvloop --http httptools`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine
from sqlalchemy.dialects.postgresql import insert
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shared.ids import new_id
from shared.models import Event

PATH = "/webhooks/slack/{channel_id}"
# Starlette's thread pool has 40 threads (anyio's default): one connection for each. 4, 8 and
# 16 threads gave the same within the noise (395-571 webhooks/s on the VM of the README).
POOL_SIZE = 40
INSTANCE_ID = "ins_naive"

verifier = SignatureVerifier(os.environ["BENCH_SIGNING_SECRET"])
engine = create_engine(os.environ["DATABASE_URL"], pool_size=POOL_SIZE, max_overflow=0)
broker = RedisBroker(url=os.environ["REDIS_URL"])
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="events")
def process_event(event_id: str) -> None:
    """Never runs here: only its messages are sent."""


def store_and_enqueue(channel_id: str, body: bytes) -> None:
    envelope = json.loads(body)
    now = datetime.now(UTC)
    event_id = new_id("evt")
    row = {
        "id": event_id,
        "instance_id": INSTANCE_ID,
        "channel_id": channel_id,
        "provider": "slack",
        "type": envelope["event"]["type"],
        "dedup_key": envelope["event_id"],
        "received_at": now,
        "occurred_at": datetime.fromtimestamp(envelope["event_time"], UTC),
        "status": "pending",
        "attempts": 0,
        "payload": envelope,
        "enqueued_at": now,
    }
    with engine.begin() as conn:
        conn.execute(insert(Event).values(row).on_conflict_do_nothing())
    process_event.send(event_id)


async def receive(request: Request) -> Response:
    body = await request.body()
    if not verifier.is_valid_request(body, dict(request.headers)):
        return Response(status_code=401)
    await run_in_threadpool(store_and_enqueue, request.path_params["channel_id"], body)
    return Response(status_code=200)


app = Starlette(routes=[Route(PATH, receive, methods=["POST"])])
