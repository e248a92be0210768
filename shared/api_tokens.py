"""API tokens: signed with SECRET_KEY (itsdangerous), stored only as a SHA-256 hash.

A token is `sb_<signed payload>`; the signature lets us refuse forgeries without a database
read, and the hash means a leaked database holds nothing that authenticates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from shared.ids import new_id
from shared.models import ApiToken, utcnow

Scope = Literal[
    "channels:read",
    "channels:write",
    "connections:read",
    "connections:write",
    "events:read",
    "events:write",
]
SCOPES: tuple[str, ...] = get_args(Scope)
PREFIX = "sb_"


class UnknownScope(ValueError):
    """A scope outside `SCOPES` was asked for."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: an org-wide token (instance_id None) or one scoped to an instance."""

    token_id: str
    instance_id: str | None
    scopes: frozenset[str]

    @property
    def is_org_wide(self) -> bool:
        return self.instance_id is None

    def may(self, scope: str, instance_id: str | None) -> bool:
        in_reach = self.instance_id is None or self.instance_id == instance_id
        return in_reach and scope in self.scopes


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="switchboard.api-token")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    secret_key: str,
    *,
    instance_id: str | None = None,
    scopes: Iterable[str] = SCOPES,
    expires_in: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the clear text is returned once and never stored."""
    wanted = sorted(set(scopes))
    unknown = set(wanted) - set(SCOPES)
    if unknown:
        raise UnknownScope(f"unknown scopes: {', '.join(sorted(unknown))}")
    token_id = new_id("tok")
    clear = PREFIX + _serializer(secret_key).dumps([token_id, secrets.token_urlsafe(24)])
    expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
    row = ApiToken(
        id=token_id,
        instance_id=instance_id,
        scopes=wanted,
        token_hash=_digest(clear),
        expires_at=expires_at,
    )
    session.add(row)
    return row, clear


def authenticate(
    session: Session, secret_key: str, clear: str, now: datetime | None = None
) -> Principal | None:
    """The principal for a presented token, or None when it is not valid now."""
    if not clear.startswith(PREFIX):
        return None
    try:
        token_id, _ = _serializer(secret_key).loads(clear[len(PREFIX) :])
    except (BadSignature, ValueError, TypeError):
        return None
    row = session.get(ApiToken, token_id)
    if row is None or not hmac.compare_digest(row.token_hash, _digest(clear)):
        return None
    now = now or utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return Principal(row.id, row.instance_id, frozenset(row.scopes))


def revoke(session: Session, token_id: str) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True
