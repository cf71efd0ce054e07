"""POST /seed: reseed ids, random delays, fake text and probabilistic faults."""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import Operation, Strict
from ..http.responses import JSONResponse
from .access import Tenants
from .injection import Faults


class SeedBody(Strict):
    seed: int | None = Field(description="The new seed; null for an unseeded (random) run.")


def operations(emulator: Emulator, faults: Faults, tenants: Tenants) -> list[Operation]:
    async def seed(request: Request, body: SeedBody) -> Response:
        tenants.admin_only(request, "the seed")
        emulator.reseed(body.seed)
        faults.reseed(body.seed)
        return JSONResponse({"seed": body.seed})

    return [
        Operation(
            "POST",
            "/seed",
            "Reseed ids, random delays, fake text and probabilistic faults.",
            seed,
            body=SeedBody,
            responses={200: "The seed in force."},
        ),
    ]
