"""GET /providers: the providers this emulator serves, from the registry (the inbox titles its
conversations and log lines with them)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..http.operations import Operation
from ..http.responses import JSONResponse
from ..providers import REGISTRY


def operations() -> list[Operation]:
    async def providers(request: Request) -> Response:
        items = [
            {"name": p.name, "title": p.title, "hosts": list(p.hosts), "prefixes": list(p.prefixes)}
            for p in REGISTRY
        ]
        return JSONResponse({"items": items, "total": len(items)})

    return [
        Operation(
            "GET",
            "/providers",
            "The providers served: name, title, real hosts and the path prefixes each owns.",
            providers,
            responses={200: '{"items": [...], "total": N}'},
        ),
    ]
