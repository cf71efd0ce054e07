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
from .access import Tenants
from .views import clock_view


class ResetQuery(Query):
    keep_settings: bool = Field(
        False, description="Keep agent and phone settings made through this API."
    )
    tenant: str | None = Field(None, description="Forget only this tenant's state.")


class ReadyQuery(Query):
    tenant: str | None = Field(
        None,
        description="Whether this tenant can be served now (its share of the state "
        "answers); without it, whether any tenant can.",
    )


HEALTH_WAIT = 0.5  # seconds health waits for what the state holds before answering without it
READY_WAIT = 1.0  # seconds readiness waits for the state's stores to answer


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
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

    async def ready(request: Request, query: ReadyQuery) -> Response:
        try:  # (a hung store is waited for a second at most: probes time out soon after)
            ready = await asyncio.wait_for(
                emulator.engine.ready(tenants.named(query.tenant)), READY_WAIT
            )
        except TimeoutError:
            ready = False
        said = {"ready": ready, "state": emulator.engine.describe()}
        if ready:
            return JSONResponse(said)
        return JSONResponse(said, 503, headers={"Retry-After": "1"})

    async def reset(request: Request, query: ResetQuery) -> Response:
        reach = tenants.reach(request, query.tenant)
        for tenant in sorted(reach) if isinstance(reach, frozenset) else [reach]:
            await emulator.reset(keep_settings=query.keep_settings, tenant=tenant)
        kept = query.keep_settings or reach is not None
        shown = reach if isinstance(reach, str | None) else None
        return JSONResponse({"reset": True, "kept_settings": kept, "tenant": tenants.label(shown)})

    return [
        Operation(
            "GET",
            "/health",
            "Liveness, counts, webhook backlog, clock and scenario.",
            health,
            description="Always 200 while the process works (a liveness probe): "
            "a shared state's store being unreachable does not fail it (counts are then "
            "left out, and state.reachable says so).",
            responses={200: "The emulator is up."},
        ),
        Operation(
            "GET",
            "/ready",
            "Readiness: whether this process can serve now.",
            ready,
            query=ReadyQuery,
            description="200 when its state answers; 503 while a shared state's store "
            "cannot be reached (a readiness probe takes it out of rotation meanwhile), "
            "and while the process stops. With tenant=KEY, whether that tenant can be "
            "served: on a Redis Cluster each shard holds its own tenants, and "
            "state.shards says which answer. A full Redis is still ready (it answers "
            "reads; sends get 503s whichever process takes them).",
            responses={200: "It can serve.", 503: "Its state cannot answer now."},
        ),
        Operation(
            "POST",
            "/reset",
            "Forget messages, files, events, webhook attempts, faults and surprises.",
            reset,
            query=ResetQuery,
            description="Agent and phone settings return to the config unless "
            "keep_settings=true. With tenant=KEY only that tenant's state is forgotten.",
            responses={200: "Reset done."},
        ),
    ]
