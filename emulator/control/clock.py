"""GET /clock and POST /clock/advance: the emulator's time, and moving it forward."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Strict
from ..http.responses import JSONResponse
from .views import clock_view

TEN_YEARS = 10 * 365 * 86400


class AdvanceBody(Strict):
    seconds: float = Field(ge=0, le=TEN_YEARS, allow_inf_nan=False,
                           description="How far to move time forward.")  # fmt: skip


def operations(emulator: Emulator) -> list[Operation]:
    async def clock(request: Request) -> Response:
        return JSONResponse(clock_view(emulator.clock))

    async def advance(request: Request, body: AdvanceBody) -> Response:
        ran = await emulator.advance(body.seconds)
        return JSONResponse(clock_view(emulator.clock) | {"events_run": ran})

    return [
        Operation("GET", "/clock", "The emulator's clock.", clock,
                  responses={200: "Mode, now (ISO 8601 and epoch) and speed."}),
        Operation("POST", "/clock/advance", "Move time forward, running every due event and "
                  "its webhooks in order first.", advance, body=AdvanceBody,
                  responses={200: "The clock after, and how many events ran."}),
    ]  # fmt: skip
