"""The Jinja2 environment: templates ship in the package, autoescaped, strict about typos."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from receiver.dashboard import formatting
from receiver.dashboard.headers import PAGE_HEADERS


@functools.cache
def templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("receiver.dashboard", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        type_label=lambda value: formatting.label(value, formatting.TYPE_LABELS),
        provider_label=lambda value: formatting.label(value, formatting.PROVIDER_LABELS),
        status_label=lambda value: formatting.label(value, formatting.STATUS_LABELS),
        tone=formatting.tone,
        ago=formatting.ago,
        iso=formatting.iso,
        clock=formatting.clock,
    )
    return Jinja2Templates(env=env)


def render_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A whole page. Called in the request's thread: rendering stays off the event loop."""
    response: HTMLResponse = templates().TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )
    return response


def render_part(name: str, context: dict[str, Any]) -> str:
    """One live region, rendered by the same template the page includes."""
    return templates().get_template(name).render(context)
