"""The control API's OpenAPI description, built by Starlette's SchemaGenerator from the YAML in
each endpoint's docstring."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.schemas import SchemaGenerator

from ..http.responses import JSONResponse

GENERATOR = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {
            "title": "rcs-emulator control API",
            "version": "1",
            "description": "Read and steer the emulator's state. Collections answer "
            '{"items": [...], "total": N} and take limit and offset.',
        },
    }
)


def openapi_route(path: str, routes: list[BaseRoute]) -> Route:
    schema = GENERATOR.get_schema(routes=routes)
    # The routes are mounted under /_emulator; the schema shows the paths clients call.
    schema["paths"] = {"/_emulator" + p: v for p, v in schema.get("paths", {}).items()}

    async def openapi(request: Request) -> Response:
        return JSONResponse(schema)

    return Route(path, openapi, methods=["GET"], include_in_schema=False)


def provider_openapi_route(descriptions: dict[str, str]) -> Route:
    """/openapi/{provider}.json: each provider's endpoints as the emulator serves them."""
    import yaml

    loaded = {name: yaml.safe_load(Path(path).read_text(encoding="utf-8"))
              for name, path in descriptions.items()}  # fmt: skip

    async def provider_openapi(request: Request) -> Response:
        name = request.path_params["provider"]
        if name not in loaded:
            return JSONResponse({"error": f"no OpenAPI description for {name!r}"}, 404)
        return JSONResponse(loaded[name])

    return Route("/openapi/{provider}.json", provider_openapi, methods=["GET"],
                 include_in_schema=False)  # fmt: skip
