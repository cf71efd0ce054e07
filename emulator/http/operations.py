"""JSON API operations on pydantic models: the body and the query string of each are models that
refuse unknown fields and bad values with a 400 naming the field, and the OpenAPI description is
generated from the same models, so it cannot drift from what the code accepts."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import pydantic_errors
from .body import BadJson, BodyTooLarge, parse_json, read_limited
from .responses import JSONResponse

MAX_BODY = 1024 * 1024
ALWAYS_ALLOWED = frozenset({"token"})  # the control token may ride in any query (?token=)


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict[str, Any] = {"error": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    return JSONResponse(body, exc.status)


class Strict(BaseModel):
    """A request model: unknown fields are refused, JSON types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Query(BaseModel):
    """A query-string model: unknown parameters are refused; values arrive as text."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(Query):
    limit: int = Field(100, ge=1, le=10_000, description="At most this many items.")
    offset: int = Field(0, ge=0, description="Skip this many items first.")


def page(items: Iterable[Any], view: Callable[[Any], Any], query: Page) -> Response:
    collected = items if isinstance(items, list) else list(items)
    chosen = collected[query.offset : query.offset + query.limit]
    return JSONResponse({"items": [view(i) for i in chosen], "total": len(collected)})


def refusal(exc: ValidationError, where: str, model: type[BaseModel] | None = None) -> ApiError:
    """The first problem, as one line naming the field (`tenant`, `rate_limit.requests`); an
    unknown one with the nearest `model` takes there, before any other (`agent` for `agent_id`
    is that mistake, not a missing agent_id)."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    name = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        hint = pydantic_errors.did_you_mean(model, error) if model is not None else ""
        text = f"unknown {where} {name!r}{hint}"
    elif kind == "missing":
        text = f"{name} is required"
    else:
        detail = str(error["msg"]).removeprefix("Value error, ")
        text = f"{name}: {detail.replace('Input should be', 'must be')}" if name else detail
    return ApiError(400, text, name or None)


def parse_query(request: Request, model: type[Query]) -> Any:
    given = {k: v for k, v in request.query_params.items() if k not in ALWAYS_ALLOWED}
    unknown = sorted(set(given) - set(model.model_fields))
    if unknown:
        known = ", ".join(model.model_fields) or "none"
        hint = pydantic_errors.nearest(unknown[0], model.model_fields)
        raise ApiError(
            400, f"unknown filter {unknown[0]!r}{hint} (this one takes: {known})", unknown[0]
        )
    try:
        return model.model_validate({k: v for k, v in given.items() if v != ""})
    except ValidationError as exc:
        raise refusal(exc, "filter") from None


async def parse_body(request: Request, model: type[BaseModel]) -> Any:
    try:
        raw = await read_limited(request, MAX_BODY)
        data = parse_json(raw) if raw.strip() else {}
    except BodyTooLarge:
        raise ApiError(413, "the body is over 1 MB") from None
    except BadJson as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc.message}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc, "field", model) from None


@dataclass
class Operation:
    """One method on one path: its models, its handler and what it answers."""

    method: str
    path: str  # as Starlette routes it ("/agents/{provider}/{agent_id:path}")
    summary: str
    handler: Callable[..., Awaitable[Response]]  # (request, [body=], [query=])
    body: type[BaseModel] | None = None
    query: type[Query] | None = None
    description: str | None = None
    responses: Mapping[int, str] = field(default_factory=lambda: {200: "Done."})

    def route(self) -> Route:
        body_model, query_model, handler = self.body, self.query, self.handler

        async def endpoint(request: Request) -> Response:
            kw: dict[str, Any] = {}
            if query_model is not None:
                kw["query"] = parse_query(request, query_model)
            else:
                parse_query(request, Query)  # takes none: every parameter is unknown
            if body_model is not None:
                kw["body"] = await parse_body(request, body_model)
            return await handler(request, **kw)

        endpoint.__name__ = handler.__name__
        return Route(self.path, endpoint, methods=[self.method])


_PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")


def openapi(operations: Iterable[Operation], prefix: str, info: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1 (pydantic writes JSON Schema 2020-12) for the operations, under `prefix`."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    ref = "#/components/schemas/{model}"
    for op in operations:
        path = prefix + _PARAM.sub(r"{\1}", op.path)
        entry: dict[str, Any] = {"summary": op.summary}
        if op.description:
            entry["description"] = op.description
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name, _ in _PARAM.findall(op.path)
        ]
        if op.query is not None:
            schema = op.query.model_json_schema(ref_template=ref)
            schemas.update(schema.pop("$defs", {}))
            required = set(schema.get("required", ()))
            for name, prop in schema.get("properties", {}).items():
                shape = {k: v for k, v in prop.items() if k != "description"}
                parameter = {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": shape,
                }
                if "description" in prop:
                    parameter["description"] = prop["description"]
                parameters.append(parameter)
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            schema = op.body.model_json_schema(ref_template=ref)
            schemas.update(schema.pop("$defs", {}))
            schemas[op.body.__name__] = schema
            named = {"$ref": ref.format(model=op.body.__name__)}
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": named}},
            }
        errors = {400: "Refused: the field it names is unknown or wrong."}
        answers = {**errors, **op.responses}
        entry["responses"] = {str(k): {"description": v} for k, v in sorted(answers.items())}
        paths.setdefault(path, {})[op.method.lower()] = entry
    return {"openapi": "3.1.0", "info": info, "paths": paths, "components": {"schemas": schemas}}
