"""The /_emulator control API. JSON in and out; collections answer {"items", "total"} and take
limit and offset."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.clock import iso
from ..core.emulator import Emulator, InboundError
from ..core.models import Status
from ..core.scenarios import ScenarioError
from ..providers.common.validators import is_e164
from .views import agent_view, message_view, phone_view

PREFIX = "/_emulator"


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    return JSONResponse({"error": exc.message}, exc.status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _page(request: Request, items: Iterable[Any], view: Any) -> Response:
    limit = _int_param(request, "limit", 100, 1, 10_000)
    offset = _int_param(request, "offset", 0, 0, None)
    collected = list(items)
    page = collected[offset : offset + limit]
    return JSONResponse({"items": [view(i) for i in page], "total": len(collected)})


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ControlError(400, f"{name} must be a whole number {bound}")
    return int(raw)


def _phone(raw: str) -> str:
    phone = raw.strip()
    if phone and not phone.startswith("+"):
        phone = "+" + phone
    if not is_e164(phone):
        raise ControlError(400, f"{raw!r} is not a phone number in E.164 format (+46701234567)")
    return phone


def _bool_or_none(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ControlError(400, f"{key} must be true, false or null")
    return value


def _str_or_none(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f"{key} must be a string or null")
    return value or None


def control_routes(emulator: Emulator, providers: Iterable[str]) -> list[BaseRoute]:
    started = time.monotonic()
    known_providers = set(providers)

    def provider_name(value: str | None) -> str | None:
        if value is not None and value not in known_providers:
            raise ControlError(404, f"unknown provider {value!r}; one of {sorted(known_providers)}")
        return value

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "uptime_seconds": round(time.monotonic() - started, 3),
                "messages": len(emulator.store),
                "scheduled_events": len(emulator.scheduler),
                "webhooks": emulator.dispatcher.backlog(),
                "clock": _clock(),
                "scenario": emulator.scenarios.active.name,
            }
        )

    def _clock() -> dict[str, Any]:
        clock = emulator.clock
        return {
            "mode": clock.mode,
            "now": iso(clock.now()),
            "epoch": clock.now(),
            "speed": getattr(clock, "speed", 1.0),
        }

    async def reset(request: Request) -> Response:
        keep = request.query_params.get("keep_settings", "").lower() in ("1", "true", "yes")
        emulator.reset(keep_settings=keep)
        return JSONResponse({"reset": True, "kept_settings": keep})

    async def messages(request: Request) -> Response:
        q = request.query_params
        status = q.get("status")
        if status is not None and status not in Status.__members__.values():
            raise ControlError(400, f"status must be one of {[s.value for s in Status]}")
        phone = _phone(q["phone"]) if q.get("phone") else None
        found = emulator.store.query(
            provider=provider_name(q.get("provider")),
            agent=q.get("agent"),
            phone=phone,
            status=Status(status) if status else None,
            tenant=q.get("tenant"),
        )
        return _page(request, found, message_view)

    async def message(request: Request) -> Response:
        found = emulator.store.get(request.path_params["message_id"])
        if found is None:
            raise ControlError(404, "no message with that id")
        return JSONResponse(message_view(found))

    async def webhooks(request: Request) -> Response:
        q = request.query_params
        items: Iterable[Any] = emulator.dispatcher.deliveries.values()
        for key in ("provider", "agent_id", "phone", "state"):
            if q.get(key):
                items = [d for d in items if getattr(d, key) == q[key]]
        return _page(request, items, lambda d: d.to_dict())

    async def put_agent(request: Request) -> Response:
        provider = provider_name(request.path_params["provider"])
        assert provider is not None
        data = await _json(request)
        agent = emulator.agent(provider, request.path_params["agent_id"])
        for key in ("webhook_url", "answer_tag", "name"):
            if key in data:
                setattr(agent, key, _str_or_none(data, key))
        return JSONResponse(agent_view(agent))

    async def agents(request: Request) -> Response:
        return _page(request, emulator.agents.values(), agent_view)

    async def put_phone(request: Request) -> Response:
        phone = _phone(request.path_params["phone"])
        data = await _json(request)
        settings = emulator.phone(phone)
        if "rcs_capable" in data:
            settings.rcs_capable = _bool_or_none(data, "rcs_capable")
        if "scenario" in data:
            name = _str_or_none(data, "scenario")
            if name is not None:
                try:
                    emulator.scenarios.get(name)
                except ScenarioError as exc:
                    raise ControlError(400, str(exc)) from None
            settings.scenario = name
        resolution = emulator.resolve(phone)
        return JSONResponse(
            phone_view(settings) | {"resolved_rule": resolution.rule, "capable": resolution.capable}
        )

    async def phones(request: Request) -> Response:
        return _page(request, emulator.phones.values(), phone_view)

    async def scenarios(request: Request) -> Response:
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
        return JSONResponse(_clock())

    async def advance(request: Request) -> Response:
        data = await _json(request)
        seconds = data.get("seconds")
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ControlError(400, "seconds must be a non-negative number")
        ran = await emulator.advance(float(seconds))
        return JSONResponse(_clock() | {"events_run": ran})

    async def inbound(request: Request) -> Response:
        data = await _json(request)
        provider = provider_name(_str_or_none(data, "provider"))
        agent_id = _str_or_none(data, "agent_id")
        if provider is None or agent_id is None or not data.get("phone"):
            raise ControlError(400, "provider, agent_id and phone are required")
        text, postback = _str_or_none(data, "text"), _str_or_none(data, "postback")
        if (text is None) == (postback is None):
            raise ControlError(400, "give exactly one of text or postback")
        try:
            message, event = emulator.inbound(
                provider, agent_id, _phone(str(data["phone"])), text=text, postback=postback
            )
        except InboundError as exc:
            raise ControlError(409, str(exc)) from None
        await emulator.dispatcher.drain()
        return JSONResponse(
            {"message_id": message.id, "event": event.type.value, "time": iso(event.time)}
        )

    routes: list[BaseRoute] = [
        Route(PREFIX + "/health", health, methods=["GET"]),
        Route(PREFIX + "/reset", reset, methods=["POST"]),
        Route(PREFIX + "/messages", messages, methods=["GET"]),
        Route(PREFIX + "/messages/{message_id}", message, methods=["GET"]),
        Route(PREFIX + "/webhooks", webhooks, methods=["GET"]),
        Route(PREFIX + "/agents", agents, methods=["GET"]),
        Route(PREFIX + "/agents/{provider}/{agent_id:path}", put_agent, methods=["PUT"]),
        Route(PREFIX + "/phones", phones, methods=["GET"]),
        Route(PREFIX + "/phones/{phone}", put_phone, methods=["PUT"]),
        Route(PREFIX + "/scenarios", scenarios, methods=["GET"]),
        Route(PREFIX + "/clock", clock, methods=["GET"]),
        Route(PREFIX + "/clock/advance", advance, methods=["POST"]),
        Route(PREFIX + "/inbound", inbound, methods=["POST"]),
    ]
    return routes
