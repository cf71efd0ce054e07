"""GET /clock and POST /clock/advance: the emulator's time, and moving it forward."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema
from starlette.requests import Request
from starlette.responses import Response

from ..core.delays import parse_duration
from ..core.emulator import Emulator
from ..http.operations import Operation, Query, Strict
from ..http.responses import JSONResponse
from .access import Tenants
from .views import clock_view

TEN_YEARS = 10 * 365 * 86400
# Seconds, or a time as the CLI, scenarios and conversation files write it ("5m", "1h").
SECONDS_OR_TEXT = {"type": "string", "examples": ["90", "500ms", "5m", "1h"]}
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, SECONDS_OR_TEXT]}),
]


class AdvanceBody(Strict):
    seconds: Duration = Field(
        le=TEN_YEARS,
        description="How far to move time forward: seconds, or a text such as '500ms', '5m', '1h'.",
    )
    tenant: str | None = Field(
        None,
        description="Only this tenant's time and events (on a "
        "manual clock each tenant has its own time).",
    )
    wait_for_callbacks: bool = Field(
        True,
        description="Answer once every callback is made (the default). false: answer once "
        "every event's state is applied; callbacks go on, and `callbacks_running` says so "
        "until they are done.",
    )


class ClockQuery(Query):
    tenant: str | None = Field(None, description="This tenant's time (on a manual clock).")


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def clock(request: Request, query: ClockQuery) -> Response:
        tenant = tenants.one(request, query.tenant) if query.tenant else None
        return JSONResponse(
            clock_view(emulator.clock, emulator.time_of(tenant))
            | {"tenant": tenants.label(tenant), "callbacks_running": emulator.callbacks_running}
        )

    async def advance(request: Request, body: AdvanceBody) -> Response:
        tenant = tenants.one(request, body.tenant)  # (every tenant's time: the admin's alone)
        ran = await emulator.advance(body.seconds, tenant, body.wait_for_callbacks)
        return JSONResponse(
            clock_view(emulator.clock, emulator.time_of(tenant))
            | {
                "tenant": tenants.label(tenant),
                "events_run": ran,
                "callbacks_running": emulator.callbacks_running,
            }
        )

    return [
        Operation(
            "GET",
            "/clock",
            "The emulator's clock.",
            clock,
            query=ClockQuery,
            responses={
                200: "Mode, now (ISO 8601 and epoch), speed, and whether an "
                "advance's callbacks are still running."
            },
        ),
        Operation(
            "POST",
            "/clock/advance",
            "Move time forward, running every due event and "
            "its webhooks in order first (or only its events: wait_for_callbacks=false).",
            advance,
            body=AdvanceBody,
            responses={200: "The clock after, and how many events ran."},
        ),
    ]
