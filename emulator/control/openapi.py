"""The control API's OpenAPI description (generated from its operations' models) and each
provider's own description as the emulator serves it."""

from __future__ import annotations

import functools
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
    # Written when first asked for: an app is built for every test, and few read this.
    schema = functools.cache(functools.partial(openapi, list(operations), "/_emulator", INFO))

    async def description(request: Request) -> Response:
        return JSONResponse(schema())

    return Route(path, description, methods=["GET"])


def provider_openapi_route(descriptions: dict[str, str]) -> Route:
    """/openapi/{provider}.json: each provider's endpoints as the emulator serves them."""

    async def provider_openapi(request: Request) -> Response:
        name = request.path_params["provider"]
        if name not in descriptions:
            return JSONResponse({"error": f"no OpenAPI description for {name!r}"}, 404)
        return JSONResponse(_description(descriptions[name]))

    return Route("/openapi/{provider}.json", provider_openapi, methods=["GET"])


@functools.cache
def _description(path: str) -> Any:
    """A provider's description file, read once per process when first asked for (it ships
    with the package and never changes; reading the YAML took most of building an app)."""
    import yaml

    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
