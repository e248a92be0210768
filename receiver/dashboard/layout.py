"""What every signed-in page carries: the account, a flash message, the CSRF token, the time."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from receiver.dashboard import csrf, queries, session
from receiver.dashboard.access import Viewer
from shared.models import utcnow


def page_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    return {
        "who": queries.account(viewer),
        "flash": session.take_flash(request),
        "csrf": csrf.token(request),
        "now": utcnow(),
    }


def part_context(request: Request) -> dict[str, Any]:
    """For live regions: the same names the page's includes use (forms need the CSRF token)."""
    return {"csrf": csrf.token(request), "now": utcnow()}


def local_path(candidate: str | None, default: str = "/") -> str:
    """Where a form may send the browser back to: a path on this site, never another host."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    return candidate
