"""GET /clock and POST /clock/advance: the emulator's time, and moving it forward."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Query, Strict
from ..http.responses import JSONResponse
from .access import Tenants
from .views import clock_view

TEN_YEARS = 10 * 365 * 86400


class AdvanceBody(Strict):
    seconds: float = Field(ge=0, le=TEN_YEARS, allow_inf_nan=False,
                           description="How far to move time forward.")  # fmt: skip
    tenant: str | None = Field(None, description="Only this tenant's time and events (on a "
                               "manual clock each tenant has its own time).")  # fmt: skip


class ClockQuery(Query):
    tenant: str | None = Field(None, description="This tenant's time (on a manual clock).")


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def clock(request: Request, query: ClockQuery) -> Response:
        tenant = tenants.one(request, query.tenant) if query.tenant else None
        return JSONResponse(clock_view(emulator.clock, emulator.time_of(tenant)) | {
            "tenant": tenants.label(tenant)})  # fmt: skip

    async def advance(request: Request, body: AdvanceBody) -> Response:
        tenant = tenants.one(request, body.tenant)  # (every tenant's time: the admin's alone)
        ran = await emulator.advance(body.seconds, tenant)
        return JSONResponse(clock_view(emulator.clock, emulator.time_of(tenant)) | {
            "tenant": tenants.label(tenant), "events_run": ran})  # fmt: skip

    return [
        Operation("GET", "/clock", "The emulator's clock.", clock, query=ClockQuery,
                  responses={200: "Mode, now (ISO 8601 and epoch) and speed."}),
        Operation("POST", "/clock/advance", "Move time forward, running every due event and "
                  "its webhooks in order first.", advance, body=AdvanceBody,
                  responses={200: "The clock after, and how many events ran."}),
    ]  # fmt: skip
