"""GET /surprises: what nobody asked for (refused requests, webhooks not accepted)."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Page, page
from .access import Tenants
from .views import surprise_view


class SurpriseQuery(Page):
    tenant: str | None = None
    kind: Literal["request", "webhook"] | None = None


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def surprises(request: Request, query: SurpriseQuery) -> Response:
        reach = tenants.reach(request, query.tenant)
        items = [
            s
            for s in await emulator.surprises.items()
            if (
                reach is None
                or s.get("tenant") == reach
                or isinstance(reach, frozenset)
                and s.get("tenant") in reach
            )
            and (query.kind is None or s.get("kind") == query.kind)
        ]
        return page(
            items,
            lambda s: (
                surprise_view(s)
                | ({"tenant": tenants.label(s["tenant"])} if s.get("tenant") else {})
            ),
            query,
        )

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
