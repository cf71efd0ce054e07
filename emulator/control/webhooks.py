"""GET /webhooks: every delivery with every attempt; POST /webhooks/{id}/redeliver: a finished
delivery sent once more, now."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.engine import DeliveryFilter
from ..core.records import Delivery, DeliveryState
from ..http.operations import ApiError, Operation, Page
from ..http.responses import JSONResponse
from ..http.validators import is_whole_number
from .access import Tenants, gathered
from .params import Phone, ProviderName
from .search import QUERY_FIELD, matches, title_of, words_of
from .views import delivery_view


class WebhookQuery(Page):
    provider: ProviderName | None = None
    tenant: str | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    phone: Phone | None = None
    state: Literal["pending", "in_flight", "retrying", "delivered", "failed"] | None = None
    message: str | None = Field(None, description="Only this message's deliveries (its id).")
    failing: bool = Field(
        False, description="Only deliveries not accepted (yet): retrying or failed."
    )
    q: str | None = QUERY_FIELD


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    def described(delivery: Delivery) -> dict[str, Any]:
        adapter = emulator.providers.get(delivery.provider)
        return adapter.describe(delivery.payload) if adapter is not None else {}

    def view(delivery: Delivery) -> dict[str, Any]:
        """The record, with the provider's own word for the callback and decoded texts."""
        told = described(delivery)
        return delivery_view(delivery) | {
            "name": told.get("name") or delivery.event,
            "decoded": told.get("decoded") or {},
        }

    def said(delivery: Delivery) -> list[str | None]:
        """What a search looks in: the fields the inbox's log shows of a delivery."""
        name = described(delivery).get("name")
        return [
            str(delivery.id),
            delivery.phone,
            delivery.agent_id,
            delivery.provider,
            title_of(delivery.provider),
            delivery.message_id,
            delivery.event,
            name,
            delivery.url,
        ]

    async def webhooks(request: Request, query: WebhookQuery) -> Response:
        where = DeliveryFilter(
            provider=query.provider,
            agent_id=query.agent,
            phone=query.phone,
            message_id=query.message,
            state=DeliveryState(query.state) if query.state else None,
            failing=query.failing,
        )
        words = words_of(query.q)
        matching = (lambda d: matches(words, said(d))) if words else None

        def fetch(tenant: str | None, offset: int, limit: int | None) -> Any:
            return emulator.webhooks(tenant, where, offset, limit, matching=matching)

        found = await gathered(
            tenants.reach(request, query.tenant),
            fetch,
            lambda d: (d.created_at, d.id),
            query.offset,
            query.limit,
        )
        return JSONResponse({"items": [view(d) for d in found.items], "total": found.total})

    async def redeliver(request: Request) -> Response:
        raw = request.path_params["delivery_id"]
        if not is_whole_number(raw):
            raise ApiError(404, "no webhook delivery with that id")
        known = await emulator.deliveries.get(int(raw))
        if known is None or not tenants.sees(request, known.tenant):
            raise ApiError(404, "no webhook delivery with that id")
        try:
            delivery = await emulator.redeliver(int(raw))
        except KeyError:
            raise ApiError(404, "no webhook delivery with that id") from None
        except ValueError as exc:
            raise ApiError(409, str(exc)) from None
        return JSONResponse(view(delivery), 202)

    return [
        Operation(
            "GET",
            "/webhooks",
            "Every webhook delivery with every attempt (url, payload, status, body, error).",
            webhooks,
            query=WebhookQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "POST",
            "/webhooks/{delivery_id}/redeliver",
            "Send a delivered or failed webhook delivery again, now.",
            redeliver,
            description="One new attempt to the delivery's URL with its payload, logged "
            "like the others (the attempt log and surprises), with no retries after it. A "
            "delivery still under way (pending, in flight, waiting for a retry) answers 409.",
            responses={
                202: "The delivery, its new attempt under way.",
                404: "No such delivery.",
                409: "The delivery is not finished.",
            },
        ),
    ]
