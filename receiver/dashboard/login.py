"""Signing in with an API token, and signing out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from receiver.dashboard import csrf, session
from receiver.dashboard.access import LOGIN_PATH
from receiver.dashboard.templates import render_page
from shared.api_tokens import authenticate
from shared.db import session_scope
from shared.settings import get_settings

REFUSED = "That token was not accepted: it is mistyped, revoked or expired."
EXPIRED_FORM = "The sign-in form had expired. Please try again."


def _form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    context = {
        "csrf": csrf.token(request),
        "flash": session.take_flash(request),
        "error": error,
        "hours": session.MAX_AGE_SECONDS // 3600,
    }
    return render_page(request, "login.html", context, status_code)


async def login_form(request: Request) -> Response:
    return _form(request)


async def login(request: Request) -> Response:
    form = await csrf.checked_form(request)
    if form is None:
        return _form(request, EXPIRED_FORM, 403)
    token = form.get("token", "").strip()
    if not token:
        return _form(request, "Enter an API token.", 400)
    secret = get_settings().secret

    def check() -> bool:
        with session_scope() as db:
            return authenticate(db, secret, token) is not None

    if not await run_in_threadpool(check):
        return _form(request, REFUSED, 401)
    session.sign_in(request, secret, token)
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    # Even a forged sign-out only signs out; still, it must carry the session's token.
    if await csrf.checked_form(request) is None:
        return csrf.refused(request)
    session.sign_out(request, "You have signed out.")
    return RedirectResponse(LOGIN_PATH, status_code=303)
