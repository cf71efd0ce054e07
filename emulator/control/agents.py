"""GET /agents and PUT /agents/{provider}/{agent_id}: where an agent's (or bot's) callbacks go,
the answer tag its receiver echoes, its display name."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..http.operations import ApiError, Operation, Page, Strict, page
from ..http.responses import JSONResponse
from ..providers import REGISTRY
from .access import Tenants, of
from .params import ProviderName, WebhookUrl
from .views import agent_view


class AgentQuery(Page):
    provider: ProviderName | None = None
    tenant: str | None = None


class AgentSettingsBody(Strict):
    """Only the fields given change; null clears one."""

    webhook_url: WebhookUrl | None = None
    answer_tag: str | None = None
    name: str | None = None
    tenant: str | None = None  # the settings apply to this tenant only


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def agents(request: Request, query: AgentQuery) -> Response:
        tenant = tenants.reach(request, query.tenant) if query.tenant else None
        team = of(request).tenants  # (a team sees its own tenants' agents and everyone's)
        items = [
            a
            for a in emulator.directory.agents.values()
            if (query.provider is None or a.provider == query.provider)
            and (tenant is None or a.tenant == tenant)
            and (team is None or a.tenant is None or a.tenant in team)
        ]
        return page(items, lambda a: agent_view(a) | {"tenant": tenants.label(a.tenant)}, query)

    async def put_agent(request: Request, body: AgentSettingsBody) -> Response:
        provider = request.path_params["provider"]
        if REGISTRY.get(provider) is None:
            raise ApiError(404, REGISTRY.unknown(provider))
        agent_id = request.path_params["agent_id"]
        changes: dict[str, Any] = {
            key: getattr(body, key) or None
            for key in ("webhook_url", "answer_tag", "name")
            if key in body.model_fields_set
        }
        tenant = tenants.one(request, body.tenant)  # (every tenant's: the admin's alone)
        agent = await emulator.set_agent(provider, agent_id, tenant, changes)
        return JSONResponse(agent_view(agent) | {"tenant": tenants.label(agent.tenant)})

    return [
        Operation(
            "GET",
            "/agents",
            "Agent and bot settings in force.",
            agents,
            query=AgentQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "PUT",
            "/agents/{provider}/{agent_id:path}",
            "Set an agent's (or bot's) webhook URL, answer tag and display name.",
            put_agent,
            body=AgentSettingsBody,
            description="With tenant, the settings apply to that API key or account only.",
            responses={200: "The agent's settings.", 404: "No such provider."},
        ),
    ]
