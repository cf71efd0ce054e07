"""GET /health (liveness: the process works, whatever its state's store does), GET /ready
(readiness: it can serve, its state answers) and POST /reset."""

from __future__ import annotations

import asyncio
import time

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.engine import StateUnavailable
from ..http.operations import Operation, Query
from ..http.responses import JSONResponse
from ..version import __version__
from .views import clock_view


class ResetQuery(Query):
    keep_settings: bool = Field(
        False, description="Keep agent and phone settings made through this API."
    )
    tenant: str | None = Field(None, description="Forget only this tenant's state.")


HEALTH_WAIT = 0.5  # seconds health waits for what the state holds before answering without it


def operations(emulator: Emulator) -> list[Operation]:
    started = time.monotonic()

    async def health(request: Request) -> Response:
        # Liveness never depends on the state's store: a probe that restarted every replica
        # at once when Redis blinked would only add an outage. What is held is said when the
        # store answers.
        try:  # (a hung store is waited for half a second: probes time out at one)
            held = await asyncio.wait_for(emulator.health(), HEALTH_WAIT)
        except (StateUnavailable, TimeoutError):
            held = {}
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "uptime_seconds": round(time.monotonic() - started, 3),
                **held,
                "clock": clock_view(emulator.clock),
                "scenario": emulator.scenarios.active.name,
                "state": emulator.engine.describe(),
            }
        )

    async def ready(request: Request) -> Response:
        if await emulator.engine.ready():
            return JSONResponse({"ready": True, "state": emulator.engine.describe()})
        return JSONResponse({"ready": False, "state": emulator.engine.describe()}, 503,
                            headers={"Retry-After": "1"})  # fmt: skip

    async def reset(request: Request, query: ResetQuery) -> Response:
        tenant = emulator.tenant(query.tenant)
        await emulator.reset(keep_settings=query.keep_settings, tenant=tenant)
        kept = query.keep_settings or tenant is not None
        return JSONResponse({"reset": True, "kept_settings": kept, "tenant": tenant})

    return [
        Operation("GET", "/health", "Liveness, counts, webhook backlog, clock and scenario.",
                  health, description="Always 200 while the process works (a liveness probe): "
                  "a shared state's store being unreachable does not fail it (counts are then "
                  "left out, and state.reachable says so).",
                  responses={200: "The emulator is up."}),
        Operation("GET", "/ready", "Readiness: whether this process can serve now.", ready,
                  description="200 when its state answers; 503 while a shared state's store "
                  "cannot be reached (a readiness probe takes it out of rotation meanwhile).",
                  responses={200: "It can serve.", 503: "Its state cannot answer now."}),
        Operation("POST", "/reset", "Forget messages, files, events, webhook attempts, faults "
                  "and surprises.", reset, query=ResetQuery,
                  description="Agent and phone settings return to the config unless "
                  "keep_settings=true. With tenant=KEY only that tenant's state is forgotten.",
                  responses={200: "Reset done."}),
    ]  # fmt: skip
