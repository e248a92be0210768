"""The dashboard's URL map: `/` and everything under `/dashboard/`.

Only these routes get the session middleware, so webhooks and the API never parse or set a
cookie.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from receiver.dashboard import actions, channel, login, overview, session
from shared.settings import Settings

STATIC = Path(__file__).parent / "static"
CHANNEL = "/instances/{instance_id}/channels/{channel_id}"


async def _to_overview(_: Request) -> Response:
    return RedirectResponse("/", status_code=307)


def routes(settings: Settings) -> list[BaseRoute]:
    cookie = [session.middleware(settings)]
    return [
        Route("/", overview.overview_page, methods=["GET"], middleware=cookie),
        Mount(
            "/dashboard",
            routes=[
                Route("/", _to_overview, methods=["GET"]),
                Route("/login", login.login_form, methods=["GET"]),
                Route("/login", login.login, methods=["POST"]),
                Route("/logout", login.logout, methods=["POST"]),
                Route(CHANNEL, channel.channel_page, methods=["GET"]),
                Route(f"{CHANNEL}/reconnect", actions.reconnect_channel, methods=["POST"]),
                Route(
                    "/instances/{instance_id}/connections/{connection_id}/sync",
                    actions.sync_connection,
                    methods=["POST"],
                ),
                Route("/live/overview", overview.overview_live, methods=["GET"]),
                Route(f"/live{CHANNEL}", channel.channel_live, methods=["GET"]),
                Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
            ],
            middleware=cookie,
        ),
    ]
