"""SerwerSMS HTTPS API v2 on its real paths: `/<action>`, `/<action>.json`, `/<action>.xml`."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...core.clock import Clock
from ...core.emulator import Emulator
from ...core.parts import RunState
from ...http.body import BadJson, BodyTooLarge, parse_json, read_limited
from ...http.exchange import record
from ...http.headers import header
from ...http.validators import is_whole_number, without_nulls
from ..mount import ProviderKit, ProviderMount
from . import payloads, reports
from .adapter import SerwerSmsAdapter
from .auth import Account, Accounts
from .errors import TENANT, Rendering, SerwerSmsApiError, SerwerSmsError, tenant_named
from .formats import respond
from .groups import Groups, group_operations
from .parse import (
    MAX_NUMBERS,
    ParamError,
    as_list,
    build,
    extra_content,
    parse_form,
    parse_message,
    send_time,
    truthy,
    unique_ids,
)
from .provider import NAME, SerwerSmsSection

MAX_BODY = 8 * 1024 * 1024  # 100,000 numbers and a 250 KB message fit well inside
IGNORED = ("system",)  # every official client adds it


class SerwerSmsApi:
    def __init__(
        self, emulator: Emulator, section: SerwerSmsSection, accounts: Accounts, groups: Groups
    ) -> None:
        self.emulator = emulator
        self.accounts = accounts
        self.networks = tuple(section.networks)
        self.groups = groups.phones  # (the Emulator's part: the control API edits it)

    async def params(self, request: Request) -> dict[str, Any]:
        try:
            query = request.scope.get("query_string", b"")
            merged: dict[str, Any] = parse_form(query.decode("latin-1")) if query else {}
            raw = await read_limited(request, MAX_BODY)
            ctype = (header(request, b"content-type") or "").split(";")[0].strip().lower()
            if raw.strip():
                if ctype == "application/json" or ctype.endswith("+json"):
                    data = parse_json(raw)
                elif ctype in ("", "application/x-www-form-urlencoded", "text/plain"):
                    data = (
                        parse_json(raw)
                        if raw.lstrip()[:1] in (b"{", b"[")
                        else parse_form(raw.decode("utf-8"))
                    )
                else:
                    raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, f"content type {ctype}")
                if not isinstance(data, dict):
                    raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, "not an object")
                merged.update(data)
        except (BadJson, ParamError, UnicodeDecodeError, BodyTooLarge) as exc:
            raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, str(exc)) from None
        for name in IGNORED:
            merged.pop(name, None)
        return without_nulls(merged)  # typed clients send null for what they leave out

    async def authorised(self, request: Request) -> tuple[Account, dict[str, Any]]:
        params = await self.params(request)
        account = self.accounts.identify(request, params)
        request.scope[TENANT] = account.tenant
        await self.emulator.serving(account.tenant)
        return account, params

    async def send_rcs(self, request: Request) -> Response:
        account, params = await self.authorised(request)
        if not account.ip_allowed(request):
            raise SerwerSmsApiError(SerwerSmsError.RCS_INVALID_IP)
        if not account.rcs:
            raise SerwerSmsApiError(SerwerSmsError.RCS_NO_PERMISSION)
        rcs_id = params.get("rcs_id")
        phones = as_list(params.get("phone")) + self._group_numbers(params.get("group_id"))
        if (
            not isinstance(rcs_id, str | int)
            or not str(rcs_id).strip()
            or not phones
            or "message" not in params
        ):
            raise SerwerSmsApiError(SerwerSmsError.RCS_REQUIRED, "rcs_id, phone and message")
        rcs_id = str(rcs_id).strip()
        account.check_bot(rcs_id)
        message = parse_message(params["message"])
        if len(phones) > MAX_NUMBERS:
            raise SerwerSmsApiError(SerwerSmsError.RCS_OVERALL, f"over {MAX_NUMBERS} numbers")
        ids = unique_ids(params.get("unique_id"), len(phones))
        now = self.emulator.clock.now()
        outcome = build(
            now=now,
            new_id=lambda: self.emulator.ids.hex(10),
            tenant=account.tenant,
            rcs_id=rcs_id,
            phones=phones,
            message=message,
            content=extra_content(message),
            ids=ids,
            send_at=send_time(params.get("date"), now),
            networks=self.networks,
        )
        details = truthy(params.get("details"))
        unsent = [
            payloads.unsent_item(r.phone, r.error.code, r.error.message) for r in outcome.refused
        ]
        answer = payloads.send_response(outcome.queued, unsent, details)
        response = respond(request, answer)
        await self.emulator.send(outcome.queued, record(request, response))
        return response

    def _group_numbers(self, value: Any) -> list[Any]:
        numbers: list[Any] = []
        for group_id in as_list(value):
            group = self.groups.get(str(group_id))
            if group is None:
                raise SerwerSmsApiError(SerwerSmsError.INVALID_ID, f"group {group_id!r}")
            numbers += group
        return numbers

    async def reports(self, request: Request) -> Response:
        account, params = await self.authorised(request)
        page = reports.positive(params.get("page"), 1)
        limit = min(reports.positive(params.get("limit"), 100), 1000)
        found = await reports.find(self.emulator, account.tenant, params, (page - 1) * limit, limit)
        pages = max(1, math.ceil(found.total / limit))
        return respond(request, payloads.reports(found.items, page, pages))

    async def view(self, request: Request) -> Response:
        account, params = await self.authorised(request)
        if not params.get("id") and not params.get("unique_id"):
            raise SerwerSmsApiError(SerwerSmsError.REQUIRED, "id")
        wanted: dict[str, Any] = {k: params[k] for k in ("id", "unique_id") if k in params}
        found = await reports.find(self.emulator, account.tenant, wanted, 0, 1)
        if not found.items:
            raise SerwerSmsApiError(SerwerSmsError.INVALID_ID)
        return respond(request, payloads.report_item(found.items[0]))

    async def error_lookup(self, request: Request) -> Response:
        raw = request.path_params["code"].removesuffix(".json").removesuffix(".xml")
        error = SerwerSmsError.by_code(int(raw)) if is_whole_number(raw) else None
        if error is None:  # the general page's own error for it: 2002 Invalid error code
            raise SerwerSmsApiError(SerwerSmsError.INVALID_CODE, f"error code {raw}")
        return respond(request, error.body())


def _action(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> list[BaseRoute]:
    return [Route(path + ext, endpoint, methods=["GET", "POST"]) for ext in ("", ".json", ".xml")]


def kit(section: SerwerSmsSection, clock: Clock) -> ProviderKit:
    accounts = Accounts(section)
    groups = Groups(section.groups)
    return ProviderKit(
        adapter=SerwerSmsAdapter(),
        mount=lambda emulator: mount(emulator, section, accounts, groups),
        parts=[groups, RunState("serwersms_accounts", accounts.forget_open)],
        aliases=accounts.aliases,
    )


def mount(
    emulator: Emulator, section: SerwerSmsSection, accounts: Accounts, groups: Groups
) -> ProviderMount:
    api = SerwerSmsApi(emulator, section, accounts, groups)
    errors = Rendering(emulator)
    routes: list[BaseRoute] = [
        *_action("/messages/send_rcs", api.send_rcs),
        *_action("/messages/reports", api.reports),
        *_action("/messages/view", api.view),
        Route("/error/{code}", api.error_lookup, methods=["GET", "POST"]),
    ]
    return ProviderMount(
        name=NAME,
        routes=routes,
        http_error=errors.http_error,
        exception_handlers={SerwerSmsApiError: errors.render},
        fault_response=errors.fault,
        tenant_of=tenant_named,
        openapi=str(Path(__file__).with_name("openapi.yaml")),
        hot_routes=3,  # messages/send_rcs in its three forms
        control=group_operations(groups.phones, emulator.save_settings),
        max_body=MAX_BODY,
    )
