"""RFC 9457 problem details, with a machine-readable `code`. Never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
_CODES_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    503: "UNAVAILABLE",
}


class ProblemError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(title)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers, self.extra = headers, extra


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status, headers=headers, media_type=MEDIA_TYPE)


def validation_problem(exc: ValidationError, loc: tuple[str, ...] = ()) -> ProblemError:
    """422 listing every error; `loc` prefixes where a nested document sits in the request."""
    errors = [
        {"loc": [*loc, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return ProblemError(422, "VALIDATION_ERROR", "Request is not valid", errors=errors)


async def on_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)


async def on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _CODES_BY_STATUS.get(exc.status_code, "ERROR")
    # Starlette's own headers matter: a 405 says which methods are allowed.
    return problem_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


async def on_unexpected(_request: Request, exc: Exception) -> Response:
    log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
    return problem_response(500, "INTERNAL_ERROR", "Internal server error")
