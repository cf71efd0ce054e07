"""GET /stats: what a load test checks against what it set: messages per status, and how long
recipients took (send to delivered, delivered to read) as percentiles of emulator time (the
figures are core/stats.py's, gathered by the engine)."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.stats import Figures
from ..http.operations import Operation, Query
from ..http.responses import JSONResponse
from .access import Tenants
from .params import ProviderName


class StatsQuery(Query):
    provider: ProviderName | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    tenant: str | None = None


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def get_stats(request: Request, query: StatsQuery) -> Response:
        reach = tenants.reach(request, query.tenant)
        if not isinstance(reach, frozenset):
            figures = await emulator.stats(reach, query.provider, query.agent)
        else:  # a team's tenants, each one's figures added up
            figures = Figures()
            for tenant in sorted(reach):
                figures.merge(await emulator.stats(tenant, query.provider, query.agent))
        return JSONResponse(figures.result())

    return [
        Operation(
            "GET",
            "/stats",
            "Messages per status and latency percentiles.",
            get_stats,
            query=StatsQuery,
            description="Latencies are in seconds of emulator time, from each message's "
            "events: sent to delivered, delivered to read, sent to read (count, min, mean, "
            "p50, p90, p95, p99, max). Threads a phone opened are not counted. On a shared "
            "state (Redis) the figures are kept as messages change, each latency rounded "
            "to three significant digits (its mean is exact).",
            responses={200: '{"total": N, "statuses": {...}, "latency": {...}}'},
        ),
    ]
