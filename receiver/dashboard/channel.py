"""One channel: where it stands, its pairing code, its webhook URLs, and its recent activity.

The page and its live regions (`/dashboard/live/instances/{iid}/channels/{id}`) render the same
partial templates, so what updates in place is exactly what a reload would show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.dashboard import chart, formatting, layout, queries
from receiver.dashboard.access import Viewer, as_viewer, fragment, page
from receiver.dashboard.headers import PAGE_HEADERS
from receiver.dashboard.qr import pairing_code
from receiver.dashboard.templates import render_page, render_part
from shared.models import Channel
from shared.webhook_urls import webhook_urls

REGIONS = {
    "channel-summary": "_channel_summary.html",
    "channel-pairing": "_channel_pairing.html",
    "channel-activity": "_channel_activity.html",
}
# Where each provider's URL goes (README "Connecting …"): pasted by hand, or set by a worker.
_HINTS = {
    "slack": "Paste it into your Slack app: Event Subscriptions → Request URL (and Interactivity, "
    "if you use it).",
    "discord": "Paste them into the Discord Developer Portal: the Interactions Endpoint URL and "
    "the Webhook Events URL.",
}
_SET_BY_SWITCHBOARD = (
    "Nothing to paste: Switchboard points {provider} here by itself when the channel connects. "
    "The URL is shown for reference."
)


@dataclass(frozen=True)
class Webhook:
    label: str
    url: str


def path(instance_id: str, channel_id: str) -> str:
    return f"/dashboard/instances/{instance_id}/channels/{channel_id}"


def webhooks(channel: Channel, public_base_url: str) -> list[Webhook]:
    url, named = webhook_urls(channel, public_base_url)
    if named is None:
        return [Webhook("Webhook URL", url)]
    return [
        Webhook("Interactions Endpoint URL", named["interactions"]),
        Webhook("Webhook Events URL", named["events"]),
    ]


def _hint(channel: Channel) -> str:
    provider = formatting.label(channel.provider, formatting.PROVIDER_LABELS)
    default = _SET_BY_SWITCHBOARD.format(provider=provider)
    return _HINTS.get(channel.provider, default)


def _live_context(viewer: Viewer, channel: Channel, context: dict[str, Any]) -> dict[str, Any]:
    """What the live regions show; events only with `events:read`."""
    iid = channel.instance_id
    reads_events = viewer.may("events:read", iid)
    return {
        **context,
        "channel": channel,
        "connection": queries.connection_of(viewer, channel),
        "code": pairing_code(channel),
        "events": queries.recent_events(viewer, channel.id) if reads_events else None,
        "chart": chart.chart(viewer.db, context["now"], instance_id=iid, channel_id=channel.id)
        if reads_events
        else None,
    }


def _found(viewer: Viewer, request: Request) -> Channel | None:
    iid, cid = request.path_params["instance_id"], request.path_params["channel_id"]
    if not viewer.may("channels:read", iid):
        return None  # as invisible as a channel of another instance
    return queries.channel(viewer, iid, cid)


def not_found(request: Request, context: dict[str, Any]) -> Response:
    message = "There is no such channel, or this token does not reach it."
    return render_page(
        request, "error.html", {**context, "title": "Not found", "message": message}, 404
    )


@page
async def channel_page(request: Request) -> Response:
    def work(viewer: Viewer) -> Response:
        context = layout.page_context(request, viewer)
        channel = _found(viewer, request)
        if channel is None:
            return not_found(request, context)
        iid = channel.instance_id
        connected = channel.connection_id is not None
        return render_page(
            request,
            "channel.html",
            {
                **_live_context(viewer, channel, context),
                "instance": queries.instance(viewer, iid),
                "webhooks": webhooks(channel, viewer.settings.public_base_url),
                "webhook_hint": _hint(channel),
                "can_reconnect": connected and viewer.may("channels:write", iid),
                "can_sync": connected and viewer.may("connections:write", iid),
                "back": path(iid, channel.id),
            },
        )

    return await as_viewer(request, work)


@fragment
async def channel_live(request: Request) -> Response:
    def work(viewer: Viewer) -> Response:
        channel = _found(viewer, request)
        if channel is None:
            return JSONResponse({"found": False}, status_code=404, headers=PAGE_HEADERS)
        context = _live_context(viewer, channel, layout.part_context(request))
        names = REGIONS if channel.provider == "whapi" else _without_pairing()
        regions = {region: render_part(name, context) for region, name in names.items()}
        return JSONResponse({"regions": regions}, headers=PAGE_HEADERS)

    return await as_viewer(request, work)


def _without_pairing() -> dict[str, str]:
    return {k: v for k, v in REGIONS.items() if k != "channel-pairing"}
