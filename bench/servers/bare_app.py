"""The "bare" baseline: Starlette answering 200 to any POST, without reading the body.

Run: `python -m uvicorn bench.servers.bare_app:app --loop uvloop --http httptools`.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/slack/events"


async def receive(_request: Request) -> Response:
    return Response(status_code=200)


app = Starlette(routes=[Route(PATH, receive, methods=["POST"])])
