"""The /_emulator control API. JSON in and out; collections answer {"items", "total"} and take
limit and offset. Each endpoint's docstring carries its OpenAPI description (after `---`)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.clock import iso
from ..core.emulator import Emulator, InboundError
from ..core.models import Message, Status
from ..core.scenarios import ScenarioError
from ..http.responses import JSONResponse
from ..http.validators import is_whole_number
from .faults import FaultError, Faults
from .params import ControlError, bool_or_none, json_body, page, phone, str_or_none
from .views import agent_view, message_view, phone_view

PREFIX = ""  # the routes live under Mount("/_emulator")


def control_routes(emulator: Emulator, providers: Iterable[str], faults: Faults) -> list[BaseRoute]:
    started = time.monotonic()
    known_providers = set(providers)

    def provider_name(value: str | None) -> str | None:
        if value is not None and value not in known_providers:
            raise ControlError(404, f"unknown provider {value!r}; one of {sorted(known_providers)}")
        return value

    def view(m: Message) -> dict[str, Any]:
        return message_view(m, emulator.display(m), emulator.why_no_answer(m))

    def clock_view() -> dict[str, Any]:
        clock = emulator.clock
        now = clock.now()
        return {"mode": clock.mode, "now": iso(now), "epoch": now,
                "speed": getattr(clock, "speed", 1.0)}  # fmt: skip

    async def health(request: Request) -> Response:
        """
        summary: Liveness, counts, webhook backlog, clock and scenario.
        responses: {200: {description: The emulator is up.}}
        """
        return JSONResponse(
            {
                "status": "ok",
                "uptime_seconds": round(time.monotonic() - started, 3),
                "messages": len(emulator.stores),
                "tenants": len(emulator.stores.tenants()),
                "scheduled_events": len(emulator.scheduler),
                "webhooks": emulator.dispatcher.backlog(),
                "retention": {
                    "max_messages": emulator.stores.max_messages,
                    "evicted_messages": emulator.stores.evicted,
                    "max_webhook_log": emulator.dispatcher.max_log,
                    "webhook_log_dropped": emulator.dispatcher.dropped_from_log,
                },
                "clock": clock_view(),
                "scenario": emulator.scenarios.active.name,
            }
        )

    async def reset(request: Request) -> Response:
        """
        summary: Forget messages, files, events, webhook attempts, faults and surprises.
        description: >-
          Agent and phone settings return to the config unless keep_settings=true. With
          tenant=KEY only that tenant's state is forgotten.
        parameters:
          - {name: keep_settings, in: query, schema: {type: boolean}}
          - {name: tenant, in: query, schema: {type: string}}
        responses: {200: {description: Reset done.}}
        """
        keep = request.query_params.get("keep_settings", "").lower() in ("1", "true", "yes")
        tenant = emulator.tenant(request.query_params.get("tenant"))
        emulator.reset(keep_settings=keep, tenant=tenant)
        return JSONResponse(
            {"reset": True, "kept_settings": keep or tenant is not None, "tenant": tenant}
        )

    async def messages(request: Request) -> Response:
        """
        summary: Sent messages, oldest first, with their status and events.
        parameters:
          - {name: provider, in: query, schema: {type: string, enum: [generic, serwersms]}}
          - {name: agent, in: query, schema: {type: string}}
          - {name: phone, in: query, schema: {type: string}}
          - {name: status, in: query, schema: {type: string}}
          - {name: tenant, in: query, schema: {type: string}}
          - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000}}
          - {name: offset, in: query, schema: {type: integer, minimum: 0}}
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        q = request.query_params
        status = q.get("status")
        if status is not None and status not in {s.value for s in Status}:
            raise ControlError(400, f"status must be one of {[s.value for s in Status]}")
        found = emulator.stores.query(
            provider=provider_name(q.get("provider")),
            agent=q.get("agent"),
            phone=phone(q["phone"]) if q.get("phone") else None,
            status=Status(status) if status else None,
            tenant=emulator.tenant(q.get("tenant")),
        )
        return page(request, found, lambda m: view(m))

    async def message(request: Request) -> Response:
        """
        summary: One message with its suggestions and events.
        responses: {200: {description: The message.}, 404: {description: No such message.}}
        """
        found = emulator.stores.get(request.path_params["message_id"])
        if found is None:
            raise ControlError(404, "no message with that id")
        return JSONResponse(view(found))

    async def webhooks(request: Request) -> Response:
        """
        summary: Every webhook delivery with every attempt (url, payload, status, body, error).
        parameters:
          - {name: provider, in: query, schema: {type: string}}
          - {name: tenant, in: query, schema: {type: string}}
          - {name: agent_id, in: query, schema: {type: string}}
          - {name: phone, in: query, schema: {type: string}}
          - {name: state, in: query, schema: {type: string,
             enum: [pending, in_flight, retrying, delivered, failed]}}
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        q = request.query_params
        items: Iterable[Any] = emulator.dispatcher.deliveries.values()
        for key in ("provider", "tenant", "agent_id", "phone", "state"):
            if q.get(key):
                wanted = emulator.tenant(q[key]) if key == "tenant" else q[key]
                items = [d for d in items if getattr(d, key) == wanted]
        return page(request, items, lambda d: d.to_dict())

    async def surprises(request: Request) -> Response:
        """
        summary: What nobody asked for - refused requests and webhooks not accepted.
        parameters: [{name: tenant, in: query, schema: {type: string}}]
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        tenant = emulator.tenant(request.query_params.get("tenant"))
        items = [s for s in emulator.surprises if tenant is None or s.get("tenant") == tenant]
        return page(request, items, dict)

    async def put_agent(request: Request) -> Response:
        """
        summary: Set an agent's (Generic) or bot's (SerwerSMS) webhook URL, answer tag, name.
        description: With "tenant", the settings apply to that API key or account only.
        requestBody:
          content:
            application/json:
              schema:
                type: object
                properties:
                  webhook_url: {type: string, nullable: true}
                  answer_tag: {type: string, nullable: true}
                  name: {type: string, nullable: true}
                  tenant: {type: string, nullable: true}
        responses: {200: {description: The agent's settings.}}
        """
        provider = provider_name(request.path_params["provider"])
        assert provider is not None
        data = await json_body(request)
        agent = emulator.agent(
            provider, request.path_params["agent_id"], emulator.tenant(str_or_none(data, "tenant"))
        )
        for key in ("webhook_url", "answer_tag", "name"):
            if key in data:
                setattr(agent, key, str_or_none(data, key))
        return JSONResponse(agent_view(agent))

    async def agents(request: Request) -> Response:
        """
        summary: Agent and bot settings in force.
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        return page(request, list(emulator.agents.values()), agent_view)

    async def put_phone(request: Request) -> Response:
        """
        summary: Per-number behaviour - RCS capability and scenario.
        requestBody:
          content:
            application/json:
              schema:
                type: object
                properties:
                  rcs_capable: {type: boolean, nullable: true}
                  scenario: {type: string, nullable: true}
        responses: {200: {description: The phone's settings and the rule that now applies.}}
        """
        number = phone(request.path_params["phone"])
        data = await json_body(request)
        settings = emulator.phone(number)
        if "rcs_capable" in data:
            settings.rcs_capable = bool_or_none(data, "rcs_capable")
        if "scenario" in data:
            name = str_or_none(data, "scenario")
            if name is not None:
                try:
                    emulator.scenarios.get(name)
                except ScenarioError as exc:
                    raise ControlError(400, str(exc)) from None
            settings.scenario = name
        resolved = emulator.resolve(number)
        return JSONResponse(
            phone_view(settings) | {"resolved_rule": resolved.rule, "capable": resolved.capable}
        )

    async def phones(request: Request) -> Response:
        """
        summary: Per-number settings in force.
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        return page(request, list(emulator.phones.values()), phone_view)

    async def scenarios(request: Request) -> Response:
        """
        summary: The scenarios known, the one in force, magic numbers and per-number overrides.
        responses: {200: {description: Self-describing scenario data.}}
        """
        book = emulator.scenarios
        return JSONResponse(
            {
                "active": book.active.name,
                "items": [s.describe() for s in book.by_name.values()],
                "total": len(book.by_name),
                "phones": [phone_view(p) for p in emulator.phones.values()],
            }
        )

    async def clock(request: Request) -> Response:
        """
        summary: The emulator's clock.
        responses: {200: {description: Mode, now (ISO 8601 and epoch) and speed.}}
        """
        return JSONResponse(clock_view())

    async def advance(request: Request) -> Response:
        """
        summary: Move time forward, running every due event and its webhooks in order first.
        requestBody:
          content:
            application/json:
              schema: {type: object, required: [seconds], properties: {seconds: {type: number}}}
        responses: {200: {description: The clock after, and how many events ran.}}
        """
        data = await json_body(request)
        seconds = data.get("seconds")
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or not 0 <= seconds <= 10 * 365 * 86400
        ):
            raise ControlError(400, "seconds must be a number from 0 to ten years")
        ran = await emulator.advance(float(seconds))
        return JSONResponse(clock_view() | {"events_run": ran})

    async def inbound(request: Request) -> Response:
        """
        summary: Act as the user - type a message, or tap a suggestion by its postback.
        description: >-
          Acts on the latest message the agent sent to that phone, or on the message named by
          message_id (which must be that agent's, to that phone).
        requestBody:
          content:
            application/json:
              schema:
                type: object
                required: [provider, agent_id, phone]
                properties:
                  provider: {type: string, enum: [generic, serwersms]}
                  agent_id: {type: string}
                  phone: {type: string}
                  text: {type: string}
                  postback: {type: string}
                  message_id: {type: string}
        responses:
          200: {description: The event and the message it belongs to.}
          409: {description: Nothing to act on.}
        """
        data = await json_body(request)
        provider = provider_name(str_or_none(data, "provider"))
        agent_id = str_or_none(data, "agent_id")
        if provider is None or agent_id is None or not data.get("phone"):
            raise ControlError(400, "provider, agent_id and phone are required")
        text, postback = str_or_none(data, "text"), str_or_none(data, "postback")
        if (text is None) == (postback is None):
            raise ControlError(400, "give exactly one of text or postback")
        try:
            msg, event = emulator.inbound(
                provider,
                agent_id,
                phone(str(data["phone"])),
                text=text,
                postback=postback,
                message_id=str_or_none(data, "message_id"),
            )
        except InboundError as exc:
            raise ControlError(409, str(exc)) from None
        await emulator.dispatcher.drain()
        return JSONResponse({"message_id": msg.id, "event": event.type.value,
                             "time": iso(event.time)})  # fmt: skip

    async def add_fault(request: Request) -> Response:
        """
        summary: Inject a fault into provider requests.
        description: >-
          {"provider" and/or "path", then "status", "delay_ms", "drop" or "rate_limit":
          {"requests", "per_seconds"}; "count" limits it to the next N requests, "probability"
          makes it seeded-random}.
        responses: {201: {description: The fault.}, 400: {description: Not a fault.}}
        """
        try:
            fault = faults.add(await json_body(request))
        except FaultError as exc:
            raise ControlError(400, str(exc)) from None
        return JSONResponse(fault.to_dict(), status_code=201)

    async def list_faults(request: Request) -> Response:
        """
        summary: The faults in force, with how often each hit.
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        return page(request, faults.items, lambda f: f.to_dict())

    async def clear_faults(request: Request) -> Response:
        """
        summary: Clear every fault.
        responses: {200: {description: Cleared.}}
        """
        faults.clear()
        return JSONResponse({"cleared": True})

    async def delete_fault(request: Request) -> Response:
        """
        summary: Clear one fault.
        responses: {200: {description: Cleared.}, 404: {description: No such fault.}}
        """
        raw = request.path_params["fault_id"]
        if not is_whole_number(raw) or not faults.remove(int(raw)):
            raise ControlError(404, "no fault with that id")
        return JSONResponse({"cleared": int(raw)})

    async def seed(request: Request) -> Response:
        """
        summary: Reseed ids, random delays, fake text and probabilistic faults.
        requestBody:
          content:
            application/json:
              schema: {type: object, properties: {seed: {type: integer, nullable: true}}}
        responses: {200: {description: The seed in force.}}
        """
        data = await json_body(request)
        value = data.get("seed")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ControlError(400, "seed must be an integer or null")
        emulator.ids.reseed(value)
        faults.reseed(value)
        return JSONResponse({"seed": value})

    routes: list[BaseRoute] = [
        Route(PREFIX + "/health", health, methods=["GET"]),
        Route(PREFIX + "/reset", reset, methods=["POST"]),
        Route(PREFIX + "/messages", messages, methods=["GET"]),
        Route(PREFIX + "/messages/{message_id}", message, methods=["GET"]),
        Route(PREFIX + "/webhooks", webhooks, methods=["GET"]),
        Route(PREFIX + "/surprises", surprises, methods=["GET"]),
        Route(PREFIX + "/agents", agents, methods=["GET"]),
        Route(PREFIX + "/agents/{provider}/{agent_id:path}", put_agent, methods=["PUT"]),
        Route(PREFIX + "/phones", phones, methods=["GET"]),
        Route(PREFIX + "/phones/{phone}", put_phone, methods=["PUT"]),
        Route(PREFIX + "/scenarios", scenarios, methods=["GET"]),
        Route(PREFIX + "/clock", clock, methods=["GET"]),
        Route(PREFIX + "/clock/advance", advance, methods=["POST"]),
        Route(PREFIX + "/inbound", inbound, methods=["POST"]),
        Route(PREFIX + "/faults", add_fault, methods=["POST"]),
        Route(PREFIX + "/faults", list_faults, methods=["GET"]),
        Route(PREFIX + "/faults", clear_faults, methods=["DELETE"]),
        Route(PREFIX + "/faults/{fault_id}", delete_fault, methods=["DELETE"]),
        Route(PREFIX + "/seed", seed, methods=["POST"]),
    ]
    return routes
