"""GET /health and POST /reset: is it up, what does it hold; forget it."""

from __future__ import annotations

import time

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Query
from ..http.responses import JSONResponse
from ..version import __version__
from .views import clock_view


class ResetQuery(Query):
    keep_settings: bool = Field(
        False, description="Keep agent and phone settings made through this API."
    )
    tenant: str | None = Field(None, description="Forget only this tenant's state.")


def operations(emulator: Emulator) -> list[Operation]:
    started = time.monotonic()

    async def health(request: Request) -> Response:
        held = await emulator.health()
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "uptime_seconds": round(time.monotonic() - started, 3),
                **held,
                "clock": clock_view(emulator.clock),
                "scenario": emulator.scenarios.active.name,
                "state": emulator.describe_state(),
            }
        )

    async def reset(request: Request, query: ResetQuery) -> Response:
        tenant = emulator.tenant(query.tenant)
        await emulator.reset(keep_settings=query.keep_settings, tenant=tenant)
        kept = query.keep_settings or tenant is not None
        return JSONResponse({"reset": True, "kept_settings": kept, "tenant": tenant})

    return [
        Operation("GET", "/health", "Liveness, counts, webhook backlog, clock and scenario.",
                  health, responses={200: "The emulator is up."}),
        Operation("POST", "/reset", "Forget messages, files, events, webhook attempts, faults "
                  "and surprises.", reset, query=ResetQuery,
                  description="Agent and phone settings return to the config unless "
                  "keep_settings=true. With tenant=KEY only that tenant's state is forgotten.",
                  responses={200: "Reset done."}),
    ]  # fmt: skip
