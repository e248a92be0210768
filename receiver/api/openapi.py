"""`GET /openapi.json`, written from the routes' own declarations (receiver.api.endpoint).

The pydantic models that validate each request and answer supply every schema, so the document
describes exactly what the API accepts and returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.api.endpoint import ApiRoute, NoBody, Operation
from receiver.api.problems import MEDIA_TYPE as PROBLEM
from receiver.api.responses import Problem
from receiver.api.schemas import CREDENTIALS
from receiver.webhooks.dispatch import webhook_paths
from shared.api_tokens import SCOPES

REF = "#/components/schemas/{model}"
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]
_ERRORS = {
    "401": "No valid token: missing, unknown, expired or revoked",
    "403": "The token is outside its instance, lacks the scope, or is not org-wide",
    "404": "No such resource in this instance",
    "422": "The request is not valid; `errors` lists why",
}


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    api = [(route.path, route.operation) for route in routes if isinstance(route, ApiRoute)]
    models = _models(op for _, op in api)
    schemas, defs = models_json_schema([(model, mode) for model, mode in models], ref_template=REF)

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return schemas[(model, mode)]  # type: ignore[index]

    paths: dict[str, dict[str, Any]] = {}
    for path, op in api:
        paths.setdefault(path, {})[op.method.lower()] = _operation(path, op, ref)
    for path in webhook_paths():
        paths[path] = {"post": _webhook(path)}
    paths.update(_service_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard",
            "version": "1",
            "description": "Channel status for an organisation's messaging channels. Tokens "
            f"carry scopes: {', '.join(SCOPES)}.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }


Mode = Literal["validation", "serialization"]


def _models(operations: Any) -> list[tuple[type[BaseModel], Mode]]:
    """Request models in validation mode, answers in serialization mode, each once."""
    seen: dict[tuple[type[BaseModel], Mode], None] = {(Problem, "serialization"): None}
    for credentials in CREDENTIALS.values():  # referred to by `Credentials` fields
        seen[(credentials, "validation")] = None
    for op in operations:
        if op.body is not NoBody:
            seen[(op.body, "validation")] = None
        if op.response is not None:
            seen[(op.response, "serialization")] = None
    return list(seen)


def _operation(path: str, op: Operation, ref: Any) -> dict[str, Any]:
    name = op.handler.__name__.strip("_")
    module = op.handler.__module__.rsplit(".", 1)[-1]
    needs = "an org-wide token" if op.org_only else f"the `{op.scope}` scope" if op.scope else None
    out: dict[str, Any] = {
        "operationId": f"{module}.{name}",
        "tags": [module],
        "summary": (op.handler.__doc__ or name.replace("_", " ")).strip().split("\n")[0],
        "security": SECURITY,
        "parameters": _path_parameters(path) + _query_parameters(op.query),
        "responses": _responses(path, op, ref),
    }
    if needs:
        out["description"] = f"Needs {needs}."
    if op.body is not NoBody:
        out["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body, "validation")}},
        }
    return out


def _path_parameters(path: str) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema.get("properties", {}).items():
        field = _without_null(field)
        description = field.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value: `null` is not something a URL can say."""
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**rest, **options[0]}
    return dict(schema)


def _responses(path: str, op: Operation, ref: Any) -> dict[str, Any]:
    problem = {"content": {PROBLEM: {"schema": ref(Problem, "serialization")}}}
    out: dict[str, Any] = {}
    if op.response is None:
        out[str(op.status if op.status != 200 else 204)] = {"description": "Done"}
    else:
        out[str(op.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": ref(op.response, "serialization")}},
        }
    codes = ["401", "403"]
    if "{" in path:
        codes.append("404")
    codes.append("422")
    for code in codes:
        out[code] = {"description": _ERRORS[code], **problem}
    out["default"] = {"description": "Any other problem (400, 409, 429, 502, 503)", **problem}
    return out


def _webhook(path: str) -> dict[str, Any]:
    return {
        "operationId": "webhooks." + path.split("/")[2] + path.split("}", 1)[1].replace("/", "."),
        "tags": ["webhooks"],
        "summary": "A provider's webhook, signed as that provider signs (contract §5)",
        "parameters": _path_parameters(path),
        "requestBody": {"content": {"*/*": {"schema": {}}}},
        "responses": {
            "200": {"description": "Stored and queued (or a provider handshake answered)"},
            "default": {
                "description": "401 bad signature, 404 unknown channel, 413 too large, "
                "400 malformed, 503 not stored",
                "content": {PROBLEM: {"schema": {"$ref": REF.format(model="Problem")}}},
            },
        },
    }


def _service_paths() -> dict[str, Any]:
    def plain(summary: str, media_type: str = "application/json") -> dict[str, Any]:
        return {
            "get": {
                "operationId": "service." + summary.split()[0].lower(),
                "tags": ["service"],
                "summary": summary,
                "responses": {"200": {"description": "OK", "content": {media_type: {}}}},
            }
        }

    ready = plain("Readiness: database and broker reachable")
    ready["get"]["responses"]["503"] = {
        "description": "Not ready",
        "content": {"application/json": {}},
    }
    return {
        "/healthz": plain("Liveness"),
        "/readyz": ready,
        "/metrics": plain("Prometheus metrics", "text/plain"),
        "/openapi.json": plain("This document"),
    }


async def openapi(request: Request) -> Response:
    cached = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = request.app.state.openapi = document(request.app.routes)
    return JSONResponse(cached)


routes = [Route("/openapi.json", openapi, methods=["GET"])]
