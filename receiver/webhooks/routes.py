"""`/webhooks/{provider}/{channel_id}`: one route per provider URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.providers import PROVIDERS, URL_KINDS
from receiver.webhooks.intake import WebhookIntake


def _endpoint(name: str, url_kind: str = "") -> Callable[[Request], Awaitable[Response]]:
    provider = PROVIDERS[name]

    async def receive(request: Request) -> Response:
        intake: WebhookIntake = request.app.state.intake
        return await intake.receive(request, name, provider, url_kind)

    return receive


def _routes(name: str) -> list[Route]:
    base = f"/webhooks/{name}/{{channel_id}}"
    kinds = URL_KINDS.get(name)
    if kinds is None:
        return [Route(base, _endpoint(name), methods=["POST"])]
    return [Route(f"{base}/{kind}", _endpoint(name, kind), methods=["POST"]) for kind in kinds]


routes = [route for name in PROVIDERS for route in _routes(name)]
