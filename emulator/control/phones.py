"""GET /phones and PUT /phones/{phone}: a number's RCS capability and scenario."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.scenarios import ScenarioError
from ..http.operations import ApiError, Operation, Page, Strict, page
from ..http.responses import JSONResponse
from .access import Tenants
from .params import phone
from .views import phone_view


class PhoneSettingsBody(Strict):
    """Only the fields given change; null returns one to the scenario's own rule."""

    rcs_capable: bool | None = None
    scenario: str | None = None


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def phones(request: Request, query: Page) -> Response:
        return page(list(emulator.directory.phones.values()), phone_view, query)

    async def put_phone(request: Request, body: PhoneSettingsBody) -> Response:
        tenants.admin_only(request, "a phone's settings")
        try:
            number = phone(request.path_params["phone"])
        except (ValueError, ValidationError) as exc:
            raise ApiError(400, str(exc), "phone") from None
        if body.scenario:
            try:
                emulator.scenarios.get(body.scenario)
            except ScenarioError as exc:
                raise ApiError(400, str(exc), "scenario") from None
        changes: dict[str, Any] = {}
        if "rcs_capable" in body.model_fields_set:
            changes["rcs_capable"] = body.rcs_capable
        if "scenario" in body.model_fields_set:
            changes["scenario"] = body.scenario or None
        settings = await emulator.set_phone(number, changes)
        resolved = emulator.directory.resolve(number)
        return JSONResponse(
            phone_view(settings) | {"resolved_rule": resolved.rule, "capable": resolved.capable}
        )

    return [
        Operation(
            "GET",
            "/phones",
            "Per-number settings in force.",
            phones,
            query=Page,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "PUT",
            "/phones/{phone}",
            "Per-number behaviour: RCS capability and scenario.",
            put_phone,
            body=PhoneSettingsBody,
            responses={200: "The phone's settings and the rule that now applies."},
        ),
    ]
