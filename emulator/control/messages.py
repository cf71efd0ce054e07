"""GET /messages and /messages/{id}: what clients sent, with status, events and layout."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.models import Message, Status
from ..http.operations import ApiError, Operation, Page, page
from ..http.responses import JSONResponse
from .params import Phone, ProviderName
from .views import message_view


class MessageQuery(Page):
    provider: ProviderName | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    phone: Phone | None = None
    status: Status | None = None
    tenant: str | None = None
    exchange: bool = Field(True, description="Include each message's HTTP exchange.")


def operations(emulator: Emulator) -> list[Operation]:
    def view(m: Message, exchange: bool = True) -> dict[str, Any]:
        shown = message_view(m, emulator.display(m), emulator.why_no_answer(m), exchange)
        shown["agent_name"] = emulator.agent_for(m.provider, m.agent_id, m.tenant).name
        return shown

    async def messages(request: Request, query: MessageQuery) -> Response:
        found = emulator.stores.query(
            provider=query.provider,
            agent=query.agent,
            phone=query.phone,
            status=query.status,
            tenant=emulator.tenant(query.tenant),
        )
        return page(found, lambda m: view(m, query.exchange), query)

    async def message(request: Request) -> Response:
        found = emulator.stores.get(request.path_params["message_id"])
        if found is None:
            raise ApiError(404, "no message with that id")
        return JSONResponse(view(found))

    return [
        Operation("GET", "/messages", "Sent messages, oldest first, with status and events.",
                  messages, query=MessageQuery, responses={200: '{"items": [...], "total": N}'}),
        Operation("GET", "/messages/{message_id}", "One message with its suggestions and events.",
                  message, responses={200: "The message.", 404: "No such message."}),
    ]  # fmt: skip
