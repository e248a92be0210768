"""The "bolt" baseline: slack_bolt's AsyncApp behind its Starlette adapter.

Bolt verifies the signature, authorises (one auth.test, then cached), acks with an empty 200
and runs the no-op listener after answering. It stores nothing.

Environment: BENCH_SIGNING_SECRET, BENCH_BOT_TOKEN, BENCH_SLACK_API_URL (the Web API base,
e.g. `http://127.0.0.1:1234/api`). Run:
`python -m uvicorn bench.servers.bolt_app:app --loop uvloop --http httptools`.
"""

from __future__ import annotations

import os

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/slack/events"

bolt = AsyncApp(
    signing_secret=os.environ["BENCH_SIGNING_SECRET"],
    # slack_sdk appends the method name to base_url, which must therefore end with "/".
    client=AsyncWebClient(
        token=os.environ["BENCH_BOT_TOKEN"],
        base_url=os.environ["BENCH_SLACK_API_URL"].rstrip("/") + "/",
    ),
)


@bolt.event("message")
async def on_message() -> None:
    """No-op: bolt has already acknowledged the event."""


handler = AsyncSlackRequestHandler(bolt)


async def events(request: Request) -> Response:
    return await handler.handle(request)


app = Starlette(routes=[Route(PATH, events, methods=["POST"])])
