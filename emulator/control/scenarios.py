"""GET /scenarios: the scenarios known, the one in force, magic numbers, per-number overrides."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation
from ..http.responses import JSONResponse
from .views import phone_view


def operations(emulator: Emulator) -> list[Operation]:
    async def scenarios(request: Request) -> Response:
        book = emulator.scenarios
        return JSONResponse(
            {
                "active": book.active.name,
                "items": [s.describe() for s in book.by_name.values()],
                "total": len(book.by_name),
                "phones": [phone_view(p) for p in emulator.directory.phones.values()],
            }
        )

    return [
        Operation(
            "GET",
            "/scenarios",
            "The scenarios known, the one in force, magic numbers and per-number overrides.",
            scenarios,
            responses={200: "Self-describing scenario data."},
        ),
    ]
