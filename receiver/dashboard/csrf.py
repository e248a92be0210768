"""CSRF: every POST form carries a random token bound to the session (synchronizer token).

The cookie is also SameSite=Lax, but that alone leaves out older browsers and same-site
attackers; a token another origin cannot read closes both.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from receiver.dashboard.templates import render_page

FIELD = "csrf"


def token(request: Request) -> str:
    """The session's token, created on first use (the sign-in form needs one too)."""
    value = request.session.get(FIELD)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        request.session[FIELD] = value
    return value


def valid(request: Request, presented: str | None) -> bool:
    expected = request.session.get(FIELD)
    if not isinstance(expected, str) or not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


MAX_FORM_BYTES = 16_384  # the dashboard's forms are a few fields


async def checked_form(request: Request) -> dict[str, str] | None:
    """The posted form's fields, or None unless it carries this session's token.

    Parsed here rather than with `request.form()`: urlencoded fields need no multipart parser.
    """
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return fields if valid(request, fields.get(FIELD)) else None


def refused(request: Request) -> Response:
    """The answer to a form without the session's token: nothing was done."""
    context = {
        "flash": None,
        "title": "Form expired",
        "message": "This form had expired or did not come from this dashboard. "
        "Go back, reload the page and try again.",
    }
    return render_page(request, "error.html", context, 403)
