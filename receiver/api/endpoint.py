"""How an API endpoint runs: authenticate, authorise, validate, then the handler in a thread.

Handlers are plain synchronous functions of a `Call`; they run inside one database
transaction, so a handler that raises a `ProblemError` changes nothing. An `ApiRoute` declares
everything about an operation (scope, body, query, response models) in one place: the same
declaration validates requests and answers and writes /openapi.json (receiver.api.openapi).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import TypeVar

from receiver.api.problems import ProblemError, validation_problem
from shared import audit
from shared.api_tokens import Principal, authenticate
from shared.db import session_scope
from shared.settings import Settings, get_settings


class NoBody(BaseModel):
    pass


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


Body = TypeVar("Body", bound=BaseModel)
Params = TypeVar("Params", bound=BaseModel, default=NoQuery)
Model = TypeVar("Model", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call(Generic[Body, Params]):
    session: Session
    principal: Principal
    path: dict[str, str]
    params: Params  # the query string, validated
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


@dataclass(frozen=True)
class Operation:
    """One API operation as declared; `response` None means an empty answer (204)."""

    method: str
    handler: Callable[[Call[Any, Any]], Any]
    scope: str | None  # None: any valid token in reach
    body: type[BaseModel]
    query: type[BaseModel]
    response: type[BaseModel] | None
    status: int
    org_only: bool  # org-wide tokens only


class ApiRoute(Route):
    """A `/v1` route whose `operation` validates requests and answers and documents both."""

    def __init__(
        self,
        path: str,
        method: str,
        handler: Callable[[Call[Body, Params]], Any],
        *,
        scope: str | None,
        response: type[BaseModel] | None,
        body: type[Body] = NoBody,  # type: ignore[assignment]
        query: type[Params] = NoQuery,  # type: ignore[assignment]
        status: int = 200,
        org_only: bool = False,
    ) -> None:
        self.operation = Operation(method, handler, scope, body, query, response, status, org_only)
        super().__init__(path, _endpoint(self.operation), methods=[method])


def _endpoint(op: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        raw = await request.body() if op.body is not NoBody else b"{}"
        credentials = _presented_token(request)
        path = dict(request.path_params)
        query = dict(request.query_params)

        def in_thread() -> Response:
            settings = get_settings()
            with session_scope() as session:
                principal = _authorise(session, settings, credentials, path, op)
                params = _validated(op.query, query, ("query",))
                if not raw.strip():
                    raise ProblemError(
                        422,
                        "VALIDATION_ERROR",
                        "Request is not valid",
                        errors=[{"loc": [], "msg": "A JSON body is required", "type": "missing"}],
                    )
                body = _validated(op.body, raw, ())  # body fields: `loc` from its root
                call = Call(session, principal, path, params, body, settings)
                result = op.handler(call)
                if op.response is not None and not isinstance(result, Response):
                    # Answers are checked against their documented shape before anything commits.
                    result = op.response.model_validate(result).model_dump(
                        mode="json", exclude_unset=True
                    )
            for follow_up in call.after_commit:
                _run_follow_up(follow_up)
            if isinstance(result, Response):
                return result
            return JSONResponse(result, op.status)

        return await run_in_threadpool(in_thread)

    return run


def _validated(model: type[Model], raw: bytes | dict[str, str], loc: tuple[str, ...]) -> Model:
    try:
        if isinstance(raw, bytes):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        raise validation_problem(exc, loc) from None


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
    op: Operation,
) -> Principal:
    principal = authenticate(session, settings.secret, token) if token else None
    if principal is None:
        raise ProblemError(401, "UNAUTHORIZED", "A valid API token is required")
    if op.org_only and not principal.is_org_wide:
        raise ProblemError(403, "FORBIDDEN", "This needs an org-wide token")
    instance_id = path.get("instance_id")
    if (
        instance_id is not None
        and not principal.is_org_wide
        and principal.instance_id != instance_id
    ):
        raise ProblemError(403, "FORBIDDEN", "The token is not scoped to this instance")
    if op.scope is not None and op.scope not in principal.scopes:
        raise ProblemError(403, "FORBIDDEN", f"The token lacks the {op.scope} scope")
    return principal
