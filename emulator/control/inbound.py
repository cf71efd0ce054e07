"""POST /inbound: act as the person holding the phone (type a reply, tap a suggestion, or write
first to an agent that has sent it nothing)."""

from __future__ import annotations

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from ..core.clock import iso
from ..core.emulator import Emulator, InboundError
from ..http.operations import ApiError, Operation, Strict
from ..http.responses import JSONResponse
from .access import Tenants, of
from .params import Phone, ProviderName


class InboundBody(Strict):
    """Exactly one of text or postback."""

    provider: ProviderName
    agent_id: str
    phone: Phone
    text: str | None = None
    postback: str | None = None
    message_id: str | None = None  # the message acted on; else the agent's latest to the phone
    tenant: str | None = Field(
        None,
        description="Where a thread the phone opens lives (the API key or account the agent's "
        "bot uses); else the tenant the agent's settings name, else 'default'.",
    )

    @model_validator(mode="after")
    def _one_action(self) -> InboundBody:
        if (self.text is None) == (self.postback is None):
            raise ValueError("give exactly one of text or postback")
        return self


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def inbound(request: Request, body: InboundBody) -> Response:
        thread = tenants.one(request, body.tenant) if body.tenant else None
        within = of(request).tenants
        if within is not None and thread is None and len(within) == 1:
            thread = next(iter(within))  # (a thread the phone opens lives in a team's own)
        try:
            msg, event = await emulator.inbound(
                body.provider,
                body.agent_id,
                body.phone,
                text=body.text,
                postback=body.postback,
                message_id=body.message_id or None,
                tenant=thread,
                within=within,
            )
        except InboundError as exc:
            raise ApiError(409, str(exc)) from None
        return JSONResponse(
            {"message_id": msg.id, "event": event.type.value, "time": iso(event.time)}
        )

    return [
        Operation(
            "POST",
            "/inbound",
            "Act as the user: type a message, or tap a suggestion by its postback.",
            inbound,
            body=InboundBody,
            description="Acts on the latest message the agent sent to that phone, or on "
            "the message named by message_id (which must be that agent's, to that phone). "
            "A text to an agent that has sent the phone nothing opens a thread: a record of "
            "kind 'user' holds the phone's message, and the agent gets the callback a "
            "typed message makes.",
            responses={
                200: "The event and the message it belongs to.",
                409: "Nothing to tap, or the phone cannot answer.",
            },
        ),
    ]
