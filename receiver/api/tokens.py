"""`/v1/tokens`: org-wide tokens issue, list and revoke tokens (contract §8).

A token's clear text is in the creation answer only; the database keeps its hash.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from receiver.api.endpoint import ApiRoute, Call, NoBody
from receiver.api.instances import get_instance
from receiver.api.pages import listing
from receiver.api.problems import ProblemError
from receiver.api.responses import IssuedToken, TokenList
from receiver.api.schemas import TokenFilters, TokenIn
from receiver.api.serialize import token_out
from shared import api_tokens
from shared.models import ApiToken


def create(call: Call[TokenIn]) -> dict[str, Any]:
    body = call.body
    if body.instance_id is not None:
        get_instance(call, body.instance_id)
    row, clear = api_tokens.issue(
        call.session,
        call.settings.secret,
        instance_id=body.instance_id,
        scopes=body.scopes,
        expires_in=body.expires_in,
    )
    call.session.flush()
    call.audit("token.create", "token", row.id, body.instance_id, scopes=list(row.scopes))
    return {**token_out(row), "token": clear}


def list_(call: Call[NoBody, TokenFilters]) -> dict[str, Any]:
    """Every token, revoked and expired ones too (`?instance_id=` narrows to one instance)."""
    query = select(ApiToken)
    if call.params.instance_id is not None:
        query = query.where(ApiToken.instance_id == call.params.instance_id)
    return listing(call.session, query, ApiToken.id, call.params, "tokens", token_out)


def revoke(call: Call[NoBody]) -> Response:
    token_id = call.path["token_id"]
    row = call.session.get(ApiToken, token_id)
    if row is None:
        raise ProblemError(404, "TOKEN_NOT_FOUND", "No such token")
    if not api_tokens.revoke(call.session, token_id):
        raise ProblemError(409, "TOKEN_REVOKED", "The token is already revoked")
    call.audit("token.revoke", "token", token_id, row.instance_id)
    return Response(status_code=204)


routes = [
    ApiRoute(
        "/v1/tokens",
        "POST",
        create,
        scope=None,
        org_only=True,
        body=TokenIn,
        response=IssuedToken,
        status=201,
    ),
    ApiRoute(
        "/v1/tokens",
        "GET",
        list_,
        scope=None,
        org_only=True,
        query=TokenFilters,
        response=TokenList,
    ),
    ApiRoute("/v1/tokens/{token_id}", "DELETE", revoke, scope=None, org_only=True, response=None),
]
