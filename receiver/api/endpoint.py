"""How an API endpoint runs: authenticate, authorise, validate, then the handler in a thread.

Handlers are plain synchronous functions of a `Call`; they run inside one database
transaction, so a handler that raises a `ProblemError` changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from receiver.api.problems import ProblemError, validation_problem
from shared import audit
from shared.api_tokens import Principal, authenticate
from shared.db import session_scope
from shared.settings import Settings, get_settings

Body = TypeVar("Body", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call(Generic[Body]):
    session: Session
    principal: Principal
    path: dict[str, str]
    query: QueryParams
    body: Body
    settings: Settings
    # Work that must only happen once the transaction is committed (enqueueing follow-ups).
    after_commit: list[Callable[[], object]] = field(default_factory=list)

    @property
    def instance_id(self) -> str:
        return self.path["instance_id"]

    def audit(
        self, action: str, target_type: str, target_id: str, instance_id: str | None, **details: Any
    ) -> None:
        """Record a configuration change by this call's token. Pass no secret values."""
        audit.record(
            self.session,
            token_id=self.principal.token_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            instance_id=instance_id,
            details=details,
        )


class NoBody(BaseModel):
    pass


def endpoint(
    handler: Callable[[Call[Body]], Any],
    *,
    scope: str | None,
    body: type[Body] = NoBody,  # type: ignore[assignment]
    status: int = 200,
    org_only: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """`scope` None: any valid token in reach; `org_only`: org-wide tokens only."""

    async def run(request: Request) -> Response:
        raw = await request.body() if body is not NoBody else b"{}"
        credentials = _presented_token(request)
        path = dict(request.path_params)

        def in_thread() -> Response:
            settings = get_settings()
            with session_scope() as session:
                principal = _authorise(session, settings, credentials, path, scope, org_only)
                try:
                    parsed = body.model_validate_json(raw or b"{}")
                except ValidationError as exc:
                    raise validation_problem(exc) from None
                call = Call(session, principal, path, request.query_params, parsed, settings)
                result = handler(call)
            for follow_up in call.after_commit:
                _run_follow_up(follow_up)
            if isinstance(result, Response):
                return result
            return JSONResponse(result, status)

        return await run_in_threadpool(in_thread)

    return run


def _run_follow_up(follow_up: Callable[[], object]) -> None:
    try:
        follow_up()
    except Exception:
        # The change itself is committed; a lost follow-up is redone by reconnecting.
        log.exception("follow-up after commit failed")


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


def _authorise(
    session: Session,
    settings: Settings,
    token: str | None,
    path: dict[str, str],
    scope: str | None,
    org_only: bool,
) -> Principal:
    principal = authenticate(session, settings.secret, token) if token else None
    if principal is None:
        raise ProblemError(401, "UNAUTHORIZED", "A valid API token is required")
    if org_only and not principal.is_org_wide:
        raise ProblemError(403, "FORBIDDEN", "This needs an org-wide token")
    instance_id = path.get("instance_id")
    if (
        instance_id is not None
        and not principal.is_org_wide
        and principal.instance_id != instance_id
    ):
        raise ProblemError(403, "FORBIDDEN", "The token is not scoped to this instance")
    if scope is not None and scope not in principal.scopes:
        raise ProblemError(403, "FORBIDDEN", f"The token lacks the {scope} scope")
    return principal
