"""SerwerSMS HTTPS API v2 on its real paths: `/<action>`, `/<action>.json`, `/<action>.xml`."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from ...core.emulator import Emulator
from ...core.models import AgentSettings, Event, Message, StoredFile
from ...core.webhooks import RetryPolicy
from ...http.body import (
    BadJson,
    BodyTooLarge,
    excerpt,
    parse_json,
    path_and_query,
    read_limited,
)
from ...http.headers import header
from ...http.responses import JSONResponse
from ...http.validators import is_whole_number, without_nulls
from ..mount import ProviderMount
from . import display, payloads, xml
from .auth import Account, Accounts
from .errors import SerwerSmsApiError, SerwerSmsError
from .messages import MAX_NUMBERS, NAME, as_list, build, extra_content, send_time, unique_ids
from .params import ParamError, parse_form, truthy
from .phones import normalize
from .schemas import parse_message

MAX_BODY = 8 * 1024 * 1024  # 100,000 numbers and a 250 KB message fit well inside
RETRY_EVERY = 30 * 60.0
IGNORED = ("system",)  # every official client adds it
TENANT = "rcs_emulator.tenant"  # the account a request authenticated as, for its reports
# The body that goes with an injected HTTP status: the nearest error of the provider's own.
FAULT_ERRORS = {
    401: SerwerSmsError.INVALID_USER,
    403: SerwerSmsError.NO_API_ACCESS,
    404: SerwerSmsError.INVALID_ACTION,
}


class SerwerSmsAdapter:
    name = NAME

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        payload = payloads.notification(message, event)
        return [payload] if payload is not None else []

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        return display.layout(message, files)

    PLAIN = RetryPolicy(
        delays=(RETRY_EVERY,) * 4,
        accepts=lambda status, body: 200 <= status < 300,
        description="2xx accepted; every 30 min, 5 attempts",
    )

    def __init__(self) -> None:
        self._tagged: dict[str, RetryPolicy] = {}  # one policy per answer tag, made once

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy:
        tag = agent.answer_tag
        if not tag:
            return self.PLAIN
        policy = self._tagged.get(tag)
        if policy is None:
            policy = self._tagged[tag] = RetryPolicy(
                delays=(RETRY_EVERY,) * 4,
                accepts=lambda status, body: 200 <= status < 300 and tag in body,
                description=f"answer must contain {tag!r}; every 30 min, 5 attempts",
            )
        return policy


def respond(request: Request, body: Any) -> Response:
    if request.scope["path"].endswith(".xml"):
        return Response(xml.render(body), media_type="application/xml")
    return JSONResponse(body)


class SerwerSmsApi:
    def __init__(self, emulator: Emulator, section: Mapping[str, Any]) -> None:
        self.emulator = emulator
        self.accounts = Accounts(section, emulator.tenant_aliases)
        configured = section.get("networks", ["+48"])
        self.networks = tuple(configured) if configured else ()
        self.config_groups = {str(k): list(v) for k, v in (section.get("groups") or {}).items()}
        self.groups: dict[str, list[str]] = dict(self.config_groups)

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
        outcome = await build(
            self.emulator,
            tenant=account.tenant,
            rcs_id=rcs_id,
            phones=phones,
            message=message,
            content=extra_content(message),
            ids=ids,
            send_at=send_time(params.get("date"), now),
            networks=self.networks,
        )
        await self.emulator.accept(outcome.queued)
        details = truthy(params.get("details"))
        return respond(request, payloads.send_response(outcome.queued, outcome.unsent, details))

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
        page = _positive(params.get("page"), 1)
        limit = min(_positive(params.get("limit"), 100), 1000)
        found = self._find(account, params)
        pages = max(1, math.ceil(len(found) / limit))
        start = (page - 1) * limit
        return respond(request, payloads.reports(list(found[start : start + limit]), page, pages))

    def _find(self, account: Account, params: Mapping[str, Any]) -> Sequence[Message]:
        """Matching messages, newest first unless order=asc. Without filters beyond dates the
        answer is a view of the time index: paging the newest 100 of a million copies 100."""
        store = self.emulator.stores.of(account.tenant)
        ids = as_list(params.get("id"))
        uids = as_list(params.get("unique_id"))
        ascending = str(params.get("order", "desc")).lower() == "asc"
        phone = normalize(params["phone"]) if params.get("phone") else None
        status = params.get("status") or None
        wanted = payloads.STATUS_FILTERS.get(str(status), set()) if status else None
        if ids:
            candidates: Sequence[Message] = [m for i in ids if (m := store.get(str(i)))]
        elif uids:
            candidates = [m for u in uids for m in store.by_external(NAME, str(u))]
        elif phone is not None:
            candidates = [m for m in store.query(provider=NAME, phone=phone)]
        else:
            since = _local_time(params.get("date_from"))
            until = _local_time(params.get("date_to"))
            candidates = store.sent_between(NAME, since, until)
            if wanted is None:
                return candidates if ascending else _Newest(candidates)
        found = [
            m
            for m in candidates
            if m.provider == NAME
            and (phone is None or m.phone == phone)
            and (wanted is None or m.status in wanted)
        ]
        if not ascending:
            found.reverse()
        return found

    async def view(self, request: Request) -> Response:
        account, params = await self.authorised(request)
        if not params.get("id") and not params.get("unique_id"):
            raise SerwerSmsApiError(SerwerSmsError.REQUIRED, "id")
        found = self._find(account, {k: params[k] for k in ("id", "unique_id") if k in params})
        if not found:
            raise SerwerSmsApiError(SerwerSmsError.INVALID_ID)
        return respond(request, payloads.report_item(found[0]))

    async def error_lookup(self, request: Request) -> Response:
        raw = request.path_params["code"].removesuffix(".json").removesuffix(".xml")
        error = SerwerSmsError.by_code(int(raw)) if is_whole_number(raw) else None
        if error is None:
            raise SerwerSmsApiError(SerwerSmsError.INVALID_ID, f"error code {raw}")
        return respond(request, error.body())

    async def unknown_action(self, request: Request) -> Response:
        raise SerwerSmsApiError(SerwerSmsError.INVALID_ACTION, request.url.path)


class _Newest(Sequence[Message]):
    """A sequence read back to front, without copying it."""

    def __init__(self, items: Sequence[Message]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        n = len(self._items)
        if isinstance(index, slice):
            start, stop, _ = index.indices(n)
            if start >= stop:
                return []
            return list(reversed(self._items[n - stop : n - start]))
        return self._items[n - 1 - index]


def _positive(value: Any, default: int) -> int:
    text = str(value).strip() if value is not None else ""
    return int(text) if is_whole_number(text) and int(text) > 0 else default


def _local_time(value: Any) -> float | None:
    if not value:
        return None
    return send_time(value, float("-inf"))


# Paths other parts of the emulator answer: the inbox page, the UI assets, the control API and
# the Generic API. Every other path belongs to SerwerSMS (an unknown one is InvalidAction).
OTHERS = ("/_emulator", "/rcs", "/ui/")


def owns(path: str) -> bool:
    return path != "/" and not path.lower().startswith(OTHERS)


class ActionFallback(Route):
    """Every path SerwerSMS owns and no route matched is an unknown action."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]):
        super().__init__("/{action:path}", endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not owns(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def _action(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> list[BaseRoute]:
    return [Route(path + ext, endpoint, methods=["GET", "POST"]) for ext in ("", ".json", ".xml")]


def mount(emulator: Emulator, section: Mapping[str, Any]) -> ProviderMount:
    api = SerwerSmsApi(emulator, section)

    def render(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SerwerSmsApiError)
        body = exc.error.body()
        emulator.note_surprise(
            "request",
            provider=NAME,
            tenant=request.scope.get(TENANT),
            method=request.method,
            path=path_and_query(request),
            status=200,
            answer=body,
            why=exc.why,
            sent=excerpt(request),
        )
        return respond(request, body)

    def http_error(request: Request, status: int) -> Response:
        error = SerwerSmsError.INVALID_ACTION
        return respond(request, error.body())

    def fault_response(request: Request, status: int, retry_after: int | None) -> Response:
        error = FAULT_ERRORS.get(status, SerwerSmsError.RCS_OVERALL)
        response = respond(request, error.body())
        response.status_code = status
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def tenant_of(request: Request) -> str:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return header[7:].strip()
        user = request.query_params.get("username")
        return user or (request.client.host if request.client else "anonymous")

    async def put_group(request: Request) -> Response:
        try:
            data = parse_json(await read_limited(request, MAX_BODY))
        except (BadJson, BodyTooLarge):
            data = None
        phones = data.get("phones") if isinstance(data, dict) else None
        if not isinstance(phones, list) or not all(isinstance(p, str) for p in phones):
            raise HTTPException(400, 'send {"phones": ["+48500600700", ...]}')
        api.groups[request.path_params["group_id"]] = phones
        return JSONResponse({"group_id": request.path_params["group_id"], "phones": phones})

    async def list_groups(request: Request) -> Response:
        items = [{"group_id": k, "phones": v} for k, v in api.groups.items()]
        return JSONResponse({"items": items, "total": len(items)})

    routes: list[BaseRoute] = [
        *_action("/messages/send_rcs", api.send_rcs),
        *_action("/messages/reports", api.reports),
        *_action("/messages/view", api.view),
        Route("/error/{code}", api.error_lookup, methods=["GET", "POST"]),
        ActionFallback(api.unknown_action),
    ]
    return ProviderMount(
        name=NAME,
        routes=routes,
        adapter=SerwerSmsAdapter(),
        owns=owns,
        http_error=http_error,
        exception_handlers={SerwerSmsApiError: render},
        fault_response=fault_response,
        tenant_of=tenant_of,
        openapi=str(Path(__file__).with_name("openapi.yaml")),
        hot_routes=3,  # messages/send_rcs in its three forms
        control=[
            Route("/serwersms/groups", list_groups, methods=["GET"]),
            Route("/serwersms/groups/{group_id}", put_group, methods=["PUT"]),
        ],
    )
