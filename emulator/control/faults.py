"""/faults: inject failures into provider requests (a status with the provider's own error body,
a delay, a dropped connection, a rate limit), each for the next N requests or until cleared."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import ApiError, Operation, Page, Strict, page
from ..http.responses import JSONResponse
from ..http.validators import is_whole_number
from .access import Tenants
from .injection import Faults
from .params import ProviderName


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not an absolute path such as /messages/send_rcs")
    return path


class RateLimitBody(Strict):
    requests: int = Field(ge=1)
    per_seconds: float = Field(ge=0.001, le=86_400 * 365, allow_inf_nan=False)


class FaultBody(Strict):
    """Names a provider, a path, or both; sets status, delay_ms, drop or rate_limit."""

    provider: ProviderName | None = None
    path: Annotated[str, AfterValidator(_absolute)] | None = Field(
        None, description="An absolute path, e.g. /messages/send_rcs"
    )
    status: int | None = Field(None, ge=100, le=599)
    delay_ms: float | None = Field(None, ge=0, le=600_000, allow_inf_nan=False)
    drop: bool | None = None  # null, as typed clients send what they leave out, is "not given"
    count: int | None = Field(None, ge=1, description="Only the next N requests.")
    probability: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    rate_limit: RateLimitBody | None = None

    @model_validator(mode="after")
    def _complete(self) -> FaultBody:
        if self.provider is None and self.path is None:
            raise ValueError("a fault names a provider, a path, or both")
        if self.status is None and not self.delay_ms and not self.drop and not self.rate_limit:
            raise ValueError("a fault sets status, delay_ms, drop or rate_limit")
        return self


def operations(emulator: Emulator, faults: Faults, tenants: Tenants) -> list[Operation]:
    async def add_fault(request: Request, body: FaultBody) -> Response:
        tenants.admin_only(request, "a fault")
        limit = body.rate_limit.model_dump() if body.rate_limit else None
        fault = faults.add(
            body.provider,
            body.path,
            body.status,
            body.delay_ms or 0.0,
            bool(body.drop),
            body.count,
            body.probability,
            limit,
        )
        await emulator.save_settings()  # every process of a shared state applies it
        return JSONResponse(fault.to_dict(), status_code=201)

    async def list_faults(request: Request, query: Page) -> Response:
        return page(faults.items, lambda f: f.to_dict(), query)

    async def clear_faults(request: Request) -> Response:
        tenants.admin_only(request, "a fault")
        faults.clear()
        await emulator.save_settings()
        return JSONResponse({"cleared": True})

    async def delete_fault(request: Request) -> Response:
        tenants.admin_only(request, "a fault")
        raw = request.path_params["fault_id"]
        if not is_whole_number(raw) or not faults.remove(int(raw)):
            raise ApiError(404, "no fault with that id")
        await emulator.save_settings()
        return JSONResponse({"cleared": int(raw)})

    return [
        Operation(
            "POST",
            "/faults",
            "Inject a fault into provider requests.",
            add_fault,
            body=FaultBody,
            responses={201: "The fault."},
        ),
        Operation(
            "GET",
            "/faults",
            "The faults in force, with how often each hit.",
            list_faults,
            query=Page,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "DELETE", "/faults", "Clear every fault.", clear_faults, responses={200: "Cleared."}
        ),
        Operation(
            "DELETE",
            "/faults/{fault_id}",
            "Clear one fault.",
            delete_fault,
            responses={200: "Cleared.", 404: "No such fault."},
        ),
    ]
