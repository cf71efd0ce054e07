"""GET /messages and /messages/{id}: what clients sent, with status, events and layout; GET
/conversations: each agent's exchange with one phone, with how many messages it holds."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.clock import iso
from ..core.emulator import Emulator
from ..core.engine import MessageFilter
from ..core.models import Status
from ..core.records import Message
from ..http.operations import ApiError, Operation, Page
from ..http.responses import JSONResponse
from .access import Tenants, gathered
from .params import Phone, ProviderName
from .search import QUERY_FIELD, matches, title_of, words_of
from .views import message_view


class MessageQuery(Page):
    provider: ProviderName | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    phone: Phone | None = None
    status: Status | None = None
    tenant: str | None = None
    q: str | None = QUERY_FIELD
    exchange: bool = Field(True, description="Include each message's HTTP exchange.")


class ConversationQuery(Page):
    provider: ProviderName | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    phone: Phone | None = None
    tenant: str | None = None


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    def agent_name(m: Message) -> str | None:
        return emulator.directory.agent_for(m.provider, m.agent_id, m.tenant).name

    async def view(m: Message, exchange: bool = True) -> dict[str, Any]:
        shown = message_view(m, await emulator.display(m), emulator.why_no_answer(m), exchange)
        shown["agent_name"] = agent_name(m)
        shown["tenant"] = tenants.label(m.tenant)
        return shown

    def said(m: Message) -> list[str | None]:
        """What a search looks in: the fields the inbox shows of a message."""
        return [
            m.id,
            m.phone,
            m.agent_id,
            agent_name(m),
            m.provider,
            title_of(m.provider),
            m.text,
            *(e.text for e in m.events),
        ]

    async def messages(request: Request, query: MessageQuery) -> Response:
        where = MessageFilter(query.provider, query.agent, query.phone, query.status)
        words = words_of(query.q)
        matching = (lambda m: matches(words, said(m))) if words else None

        def fetch(tenant: str | None, offset: int, limit: int | None) -> Any:
            return emulator.messages(tenant, where, offset, limit, matching=matching)

        found = await gathered(
            tenants.reach(request, query.tenant),
            fetch,
            lambda m: (m.created_at, m.seq),
            query.offset,
            query.limit,
        )
        items = [await view(m, query.exchange) for m in found.items]
        return JSONResponse({"items": items, "total": found.total})

    async def message(request: Request) -> Response:
        found = await emulator.message(None, request.path_params["message_id"])
        if found is None or not tenants.sees(request, found.tenant):
            raise ApiError(404, "no message with that id")
        return JSONResponse(await view(found))

    async def conversations(request: Request, query: ConversationQuery) -> Response:
        where = MessageFilter(query.provider, query.agent, query.phone)

        def fetch(tenant: str | None, offset: int, limit: int | None) -> Any:
            return emulator.conversations(tenant, where, offset, limit)

        found = await gathered(
            tenants.reach(request, query.tenant),
            fetch,
            lambda c: c.latest_at,
            query.offset,
            query.limit,
        )
        items = [
            {
                "provider": c.provider,
                "tenant": tenants.label(c.tenant),
                "agent_id": c.agent_id,
                "agent_name": emulator.directory.agent_for(c.provider, c.agent_id, c.tenant).name,
                "phone": c.phone,
                "messages": c.messages,
                "latest": iso(c.latest_at),
                "latest_id": c.latest_id,
            }
            for c in found.items
        ]
        return JSONResponse({"items": items, "total": found.total})

    return [
        Operation(
            "GET",
            "/messages",
            "Sent messages, oldest first, with status and events.",
            messages,
            query=MessageQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "GET",
            "/messages/{message_id}",
            "One message with its suggestions and events.",
            message,
            responses={200: "The message.", 404: "No such message."},
        ),
        Operation(
            "GET",
            "/conversations",
            "Each agent's conversation with a phone, the one "
            "with the newest message last: how many messages it holds and its newest.",
            conversations,
            query=ConversationQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
    ]
