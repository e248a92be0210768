"""`/`: every instance the token reaches, with its channels, connections and event rate.

The page and its live regions (`/dashboard/live/overview`) render the same `_instance.html`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.dashboard import chart, layout, queries
from receiver.dashboard.access import Viewer, as_viewer, fragment, page
from receiver.dashboard.headers import PAGE_HEADERS
from receiver.dashboard.queries import Filters
from receiver.dashboard.templates import render_page, render_part
from shared.channel_types import CHANNEL_TYPES, STATUSES
from shared.models import Channel, Connection, Instance


@dataclass(frozen=True)
class Section:
    """One instance as the overview shows it; None where the token lacks the read scope."""

    instance: Instance
    channels: list[Channel] | None
    connections: list[Connection] | None
    chart: chart.Chart | None
    can_sync: bool

    @property
    def connection_by_id(self) -> dict[str, Connection]:
        return {c.id: c for c in self.connections or []}


def _section(viewer: Viewer, instance: Instance, filters: Filters, now: datetime) -> Section:
    iid = instance.id
    can_read_connections = viewer.may("connections:read", iid)
    return Section(
        instance=instance,
        channels=queries.channels(viewer, iid, filters)
        if viewer.may("channels:read", iid)
        else None,
        connections=queries.connections(viewer, iid) if can_read_connections else None,
        chart=chart.chart(viewer.db, now, instance_id=iid)
        if viewer.may("events:read", iid)
        else None,
        can_sync=can_read_connections and viewer.may("connections:write", iid),
    )


def _sections(
    viewer: Viewer, filters: Filters, now: datetime
) -> tuple[list[Instance], list[Section]]:
    reachable = queries.instances(viewer)
    shown = [i for i in reachable if filters.instance_id in (None, i.id)]
    return reachable, [_section(viewer, i, filters, now) for i in shown]


def _back(filters: Filters) -> str:
    """Where the overview's forms return: the overview, as filtered."""
    query = filters.query_string()
    return f"/?{query}" if query else "/"


@page
async def overview_page(request: Request) -> Response:
    filters = Filters.from_query(request.query_params)

    def work(viewer: Viewer) -> Response:
        context = layout.page_context(request, viewer)
        reachable, sections = _sections(viewer, filters, context["now"])
        return render_page(
            request,
            "overview.html",
            {
                **context,
                "sections": sections,
                "instance_options": reachable,
                "filters": filters,
                "filtered": bool(filters.status or filters.channel_type),
                "query": filters.query_string(),
                "statuses": STATUSES,
                "channel_types": CHANNEL_TYPES,
                "back": _back(filters),
            },
        )

    return await as_viewer(request, work)


@fragment
async def overview_live(request: Request) -> Response:
    filters = Filters.from_query(request.query_params)

    def work(viewer: Viewer) -> Response:
        context = layout.part_context(request)
        _, sections = _sections(viewer, filters, context["now"])
        shared = {
            **context,
            "filtered": bool(filters.status or filters.channel_type),
            "back": _back(filters),
        }
        regions = {
            f"instance-{s.instance.id}": render_part("_instance.html", {**shared, "section": s})
            for s in sections
        }
        return JSONResponse({"regions": regions}, headers=PAGE_HEADERS)

    return await as_viewer(request, work)
