"""GET /messages and /messages/{id}: what clients sent, with status, events and layout."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.engine import MessageFilter
from ..core.models import Message, Status
from ..http.operations import ApiError, Operation, Page
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
    async def view(m: Message, exchange: bool = True) -> dict[str, Any]:
        shown = message_view(m, await emulator.display(m), emulator.why_no_answer(m), exchange)
        shown["agent_name"] = emulator.directory.agent_for(m.provider, m.agent_id, m.tenant).name
        return shown

    async def messages(request: Request, query: MessageQuery) -> Response:
        where = MessageFilter(query.provider, query.agent, query.phone, query.status)
        found = await emulator.messages(emulator.tenant(query.tenant), where, query.offset,
                                        query.limit)  # fmt: skip
        items = [await view(m, query.exchange) for m in found.items]
        return JSONResponse({"items": items, "total": found.total})

    async def message(request: Request) -> Response:
        found = await emulator.message(None, request.path_params["message_id"])
        if found is None:
            raise ApiError(404, "no message with that id")
        return JSONResponse(await view(found))

    return [
        Operation("GET", "/messages", "Sent messages, oldest first, with status and events.",
                  messages, query=MessageQuery, responses={200: '{"items": [...], "total": N}'}),
        Operation("GET", "/messages/{message_id}", "One message with its suggestions and events.",
                  message, responses={200: "The message.", 404: "No such message."}),
    ]  # fmt: skip
