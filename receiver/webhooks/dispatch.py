"""`/webhooks/{provider}/{channel_id}[/{kind}]`, served straight from the ASGI server.

Webhooks are the hot path, and Starlette's router and middleware stack (a regex per route,
two exception middlewares, the request/response wrappers) cost about 14 µs a request: a third
of the path's own work, measured in-process. So the app is wrapped: a webhook URL is matched
with one dict lookup and handed to the intake; every other request, and the lifespan, goes to
the Starlette app unchanged.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from receiver.api.problems import on_http_exception, on_unexpected
from receiver.providers import PROVIDERS, URL_KINDS
from receiver.providers.base import WebhookProvider
from receiver.webhooks.intake import WebhookIntake

PREFIX = "/webhooks/"

# (provider, url kind) → the provider; the kind is "" for providers with a single URL.
_ENDPOINTS: dict[tuple[str, str], WebhookProvider] = {
    (name, kind): provider
    for name, provider in PROVIDERS.items()
    for kind in URL_KINDS.get(name, ("",))
}


def webhook_paths() -> list[str]:
    """The URL templates served here, for documentation."""
    return [
        f"{PREFIX}{name}/{{channel_id}}" + (f"/{kind}" if kind else "") for name, kind in _ENDPOINTS
    ]


def match(path: str) -> tuple[str, str, str] | None:
    """(provider, channel_id, url kind) for a webhook URL, else None."""
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX) :].split("/")
    if len(parts) == 2:
        name, channel_id, kind = parts[0], parts[1], ""
    elif len(parts) == 3 and parts[2]:
        name, channel_id, kind = parts
    else:
        return None
    if not channel_id or (name, kind) not in _ENDPOINTS:
        return None
    return name, channel_id, kind


class WebhookDispatch:
    def __init__(self, app: ASGIApp, intake: WebhookIntake) -> None:
        self.app = app
        self.intake = intake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = match(_route_path(scope)) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        name, channel_id, kind = found
        if scope["method"] != "POST":
            # The 405 Starlette's router would give, through the app's own handler.
            method_not_allowed = HTTPException(405, headers={"Allow": "POST"})
            response: Response = await on_http_exception(Request(scope), method_not_allowed)
        else:
            try:
                response = await self.intake.receive(
                    scope, receive, channel_id, name, _ENDPOINTS[name, kind], kind
                )
            except Exception as exc:  # what Starlette's ServerErrorMiddleware would answer
                response = await on_unexpected(Request(scope), exc)
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    # Behind a proxy that mounts the app under a prefix, `path` includes `root_path`.
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
