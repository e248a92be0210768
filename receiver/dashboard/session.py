"""The dashboard session: a signed, HTTP-only cookie that holds the API token sealed.

Starlette's SessionMiddleware signs the cookie with SECRET_KEY (itsdangerous) but does not
encrypt it, so the token itself is sealed with Fernet (shared.crypto) under a key of its own
before it goes in: whoever reads the cookie learns nothing usable as an API token. The token is
re-checked against the database on every request (receiver.dashboard.access), so revoking or
expiring it signs the browser out at its next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request

from shared.crypto import InvalidToken, decrypt_json, encrypt_json
from shared.settings import Settings

COOKIE = "switchboard_session"
MAX_AGE_SECONDS = 8 * 3600  # a working day; the token's own expiry still applies


def middleware(settings: Settings) -> Middleware:
    return Middleware(
        SessionMiddleware,
        secret_key=settings.secret,
        session_cookie=COOKIE,
        max_age=MAX_AGE_SECONDS,
        same_site="lax",
        https_only=settings.public_base_url.startswith("https://"),
    )


def _sealing_key(secret_key: str) -> str:
    # Its own key, so the cookie never shares key material with stored credentials.
    return hmac.new(
        secret_key.encode(), b"switchboard.dashboard-session", hashlib.sha256
    ).hexdigest()


def seal(secret_key: str, token: str) -> str:
    return encrypt_json(_sealing_key(secret_key), {"token": token})


def unseal(secret_key: str, sealed: object) -> str | None:
    if not isinstance(sealed, str):
        return None
    try:
        token = decrypt_json(_sealing_key(secret_key), sealed).get("token")
    except (InvalidToken, ValueError):
        return None
    return token if isinstance(token, str) else None


def presented_token(request: Request, secret_key: str) -> str | None:
    """The API token this browser signed in with, if any (not yet re-checked)."""
    return unseal(secret_key, request.session.get("token"))


def sign_in(request: Request, secret_key: str, token: str) -> None:
    # A fresh session on sign-in: nothing chosen before it (a planted CSRF token) carries over.
    request.session.clear()
    request.session["token"] = seal(secret_key, token)
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request, notice: str) -> None:
    request.session.clear()
    flash(request, "info", notice)


@dataclass(frozen=True)
class Flash:
    kind: str  # info | ok | error
    text: str


def flash(request: Request, kind: str, text: str) -> None:
    """A message for the next page shown (Post/Redirect/Get). Never put a secret in it."""
    request.session["flash"] = {"kind": kind, "text": text}


def take_flash(request: Request) -> Flash | None:
    stored: Any = request.session.pop("flash", None)
    if not isinstance(stored, dict):
        return None
    return Flash(str(stored.get("kind", "info")), str(stored.get("text", "")))
