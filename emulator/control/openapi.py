"""The control API's OpenAPI description (generated from its operations' models) and each
provider's own description as the emulator serves it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..http.operations import Operation, openapi
from ..http.responses import JSONResponse

INFO = {
    "title": "rcs-emulator control API",
    "version": "2",
    "description": "Read and steer the emulator's state. Collections answer "
    '{"items": [...], "total": N} and take limit and offset. Unknown fields and filters are '
    'refused with a 400 naming them: {"error": "...", "field": "..."}.',
}


def openapi_route(path: str, operations: Iterable[Operation]) -> Route:
    schema = openapi(operations, "/_emulator", INFO)

    async def description(request: Request) -> Response:
        return JSONResponse(schema)

    return Route(path, description, methods=["GET"])


def provider_openapi_route(descriptions: dict[str, str]) -> Route:
    """/openapi/{provider}.json: each provider's endpoints as the emulator serves them."""
    import yaml

    loaded: dict[str, Any] = {name: yaml.safe_load(Path(path).read_text(encoding="utf-8"))
                              for name, path in descriptions.items()}  # fmt: skip

    async def provider_openapi(request: Request) -> Response:
        name = request.path_params["provider"]
        if name not in loaded:
            return JSONResponse({"error": f"no OpenAPI description for {name!r}"}, 404)
        return JSONResponse(loaded[name])

    return Route("/openapi/{provider}.json", provider_openapi, methods=["GET"])
