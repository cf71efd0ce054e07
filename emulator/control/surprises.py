"""GET /surprises: what nobody asked for (refused requests, webhooks not accepted)."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Page, page
from .views import surprise_view


class SurpriseQuery(Page):
    tenant: str | None = None
    kind: Literal["request", "webhook"] | None = None


def operations(emulator: Emulator) -> list[Operation]:
    async def surprises(request: Request, query: SurpriseQuery) -> Response:
        tenant = emulator.tenant(query.tenant)
        items = [
            s
            for s in await emulator.surprises.items()
            if (tenant is None or s.get("tenant") == tenant)
            and (query.kind is None or s.get("kind") == query.kind)
        ]
        return page(items, surprise_view, query)

    return [
        Operation(
            "GET",
            "/surprises",
            "What nobody asked for: refused requests and webhooks not accepted.",
            surprises,
            query=SurpriseQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
    ]
