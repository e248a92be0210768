"""Who is looking: the session's token, authenticated again on every request.

Each request's database work runs in a thread (like the API's, receiver.api.endpoint), inside
one transaction, with the principal the token stands for right now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from receiver.dashboard import session
from shared.api_tokens import Principal, authenticate
from shared.db import session_scope
from shared.settings import Settings, get_settings

T = TypeVar("T")
LOGIN_PATH = "/dashboard/login"


class SignedOut(Exception):
    """No session, or its token is no longer valid (revoked, expired, or a new SECRET_KEY)."""


@dataclass(frozen=True)
class Viewer:
    db: Session
    principal: Principal
    settings: Settings

    def reaches(self, instance_id: str) -> bool:
        return self.principal.is_org_wide or self.principal.instance_id == instance_id

    def may(self, scope: str, instance_id: str) -> bool:
        return self.principal.may(scope, instance_id)


async def as_viewer(request: Request, work: Callable[[Viewer], T]) -> T:
    """Run `work` in a thread for the signed-in principal; `SignedOut` if there is none."""
    settings = get_settings()
    token = session.presented_token(request, settings.secret)
    if token is None:
        raise SignedOut

    def in_thread() -> T:
        with session_scope() as db:
            principal = authenticate(db, settings.secret, token)
            if principal is None:
                raise SignedOut
            return work(Viewer(db, principal, settings))

    try:
        return await run_in_threadpool(in_thread)
    except SignedOut:
        session.sign_out(request, "Your session has ended: the token was revoked or has expired.")
        raise


Handler = Callable[[Request], Awaitable[Response]]


def page(handler: Handler) -> Handler:
    """A page: without a valid session, go to the sign-in form."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SignedOut:
            return RedirectResponse(LOGIN_PATH, status_code=303)

    return run


def fragment(handler: Handler) -> Handler:
    """A live fragment for scripts: without a valid session, 401 (the script goes to sign in)."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SignedOut:
            return JSONResponse({"signed_in": False, "login": LOGIN_PATH}, status_code=401)

    return run
