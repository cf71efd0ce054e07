"""Generic RCS API v1 on its real paths. Endpoints are thin: guard, parse, core, render."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...core.clock import Clock
from ...core.emulator import Emulator
from ...core.parts import Part, RunState
from ...http import uploads
from ...http.body import BadJson, BodyTooLarge, parse_json, read_limited
from ...http.exchange import record
from ...http.headers import header
from ...http.ratelimit import RateLimiter
from ...http.responses import JSONResponse
from ...http.validators import is_e164, is_whole_number, plus_prefixed
from ..mount import ProviderKit, ProviderMount
from . import parse, payloads
from .adapter import GenericAdapter
from .auth import Access
from .errors import GenericApiError, GenericError, Rendering, tenant_named, validation
from .parse import accepted_type, build, parse_message
from .paths import PREFIX, CaseInsensitivePaths
from .provider import NAME, GenericSection

MAX_PAYLOAD = 250 * 1024
MULTIPART_SLACK = 64 * 1024  # an upload's form around its file: boundaries, headers, fields
FILE_LIFETIME = 50 * 86400
_JSON_ACCEPT = re.compile(r"(^|[\s,])(\*/\*|application/\*|application/json|[^,;\s]+\+json)(;|,|$)")


class GenericApi:
    def __init__(
        self, emulator: Emulator, section: GenericSection, limiter: RateLimiter | None
    ) -> None:
        self.emulator = emulator
        self.access = Access(section)
        self.max_upload = section.max_upload_bytes
        self.limiter = limiter  # (its buckets: a part of the Emulator's, reset with it)

    # -- the guard every endpoint passes ----------------------------------------------------

    async def guard(self, request: Request) -> str:
        """Authenticate, then check Accept and the rate limit; returns the API key (tenant)."""
        key = self.access.api_key(request)
        await self.emulator.serving(key)
        accept = header(request, b"accept")
        if accept and not _JSON_ACCEPT.search(accept.lower()):
            raise GenericApiError(GenericError.NOT_ACCEPTABLE)
        if self.limiter is not None and (wait := self.limiter.retry_after(key)) is not None:
            raise GenericApiError(
                GenericError.TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)}
            )
        return key

    @staticmethod
    def require_json(request: Request) -> None:
        ctype = (header(request, b"content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise GenericApiError(
                GenericError.UNSUPPORTED_MEDIA_TYPE,
                "The request body must be sent as Content-Type: application/json.",
            )

    async def json_body(self, request: Request) -> Any:
        try:
            return parse_json(await read_limited(request, MAX_PAYLOAD))
        except BodyTooLarge:
            raise validation("$", "The request payload must not exceed 250 KB.") from None
        except BadJson as exc:
            raise validation("$", f"The JSON value is invalid: {exc.message}.") from None

    # -- endpoints --------------------------------------------------------------------------

    async def send_message(self, request: Request) -> Response:
        key = await self.guard(request)
        self.require_json(request)
        message = parse_message(await self.json_body(request))
        self.access.check_agent(key, message.agent_id)
        await self._check_files(message, key)
        tag_id = self.emulator.ids.uuid()
        emulator = self.emulator
        messages = build(
            message,
            key,
            tag_id,
            now=emulator.clock.now(),
            new_id=emulator.ids.uuid,
            capable=emulator.capable,
        )
        response = JSONResponse(payloads.send_response(tag_id))
        await self.emulator.send(messages, record(request, response))
        return response

    async def _check_files(self, message: Any, tenant: str) -> None:
        cards = []
        if message.rich_card_content is not None:
            cards = [("richCardContent", message.rich_card_content)]
        elif message.carousel_content is not None:
            cards = [
                (f"carouselContent.richCardContents[{i}]", card)
                for i, card in enumerate(message.carousel_content.rich_card_contents)
            ]
        now = self.emulator.clock.now()
        for place, card in cards:
            if card.file_id is None:
                continue
            stored = await self.emulator.file(tenant, card.file_id)
            if stored is None or stored.tenant != tenant or stored.expires_at <= now:
                raise validation(
                    f"{place}.fileId",
                    f"The fileId {card.file_id!r} is unknown or has expired; upload the file "
                    "again with POST /UploadFile/{agentId}.",
                )

    async def tag_statistics(self, request: Request) -> Response:
        key = await self.guard(request)
        messages = await self.emulator.batch(key, parse.guid(request.path_params["tag_id"]))
        if not messages or messages[0].tenant != key:
            raise GenericApiError(GenericError.TAG_NOT_FOUND)
        return JSONResponse(payloads.tag_statistics(messages))

    async def message_events(self, request: Request) -> Response:
        key = await self.guard(request)
        message = await self.emulator.message(key, parse.guid(request.path_params["message_id"]))
        if message is None or message.provider != NAME or message.tenant != key:
            raise GenericApiError(GenericError.MESSAGE_NOT_FOUND)
        return JSONResponse(payloads.message_thread(message))

    async def agent_messages(self, request: Request) -> Response:
        key = await self.guard(request)
        agent_id = request.path_params["agent_id"]
        self.access.check_agent(key, agent_id)
        query = request.query_params
        limit = parse.limit(query.get("limit"))
        since = parse.time(query, "startTime")
        until = parse.time(query, "endTime")
        phone = parse.phone_filter(query.get("phoneNumber"))
        entries = await self.emulator.timeline(
            key, NAME, agent_id, phone or None, since, until, newest=limit
        )
        newest = list(reversed(entries)) if limit else []
        agent = self.emulator.directory.agent_for(NAME, agent_id, key)
        return JSONResponse(payloads.agent_messages(newest, agent.name or "Agent"))

    async def capability(self, request: Request) -> Response:
        key = await self.guard(request)
        self.access.check_agent(key, request.path_params["agent_id"])
        try:
            raw = (await read_limited(request, 1024)).decode("utf-8-sig").strip()
        except (BodyTooLarge, UnicodeDecodeError):
            raise validation("$", "The body must be one phone number in E.164 format.") from None
        number = parse.capability_number(raw) or request.query_params.get("phoneNumber", "")
        if not number:
            raise validation("$", "A phone number in E.164 format is required in the body.")
        number = plus_prefixed(number)
        if not is_e164(number):
            raise validation("$", f"{number!r} is not a phone number in E.164 format.")
        return JSONResponse(self.emulator.capable(number))

    async def upload_file(self, request: Request) -> Response:
        key = await self.guard(request)
        agent_id = request.path_params["agent_id"]
        self.access.check_agent(key, agent_id)
        declared = request.headers.get("content-length", "")
        if is_whole_number(declared) and int(declared) > self.max_upload + MULTIPART_SLACK:
            raise GenericApiError(GenericError.FILE_TOO_LARGE)  # refused before reading a byte
        try:
            file_id = await self._store(request, key, agent_id)
        except OSError as exc:  # no writable temporary folder (docker run --read-only), disk full
            raise GenericApiError(
                GenericError.CANNOT_STORE,
                f"The emulator cannot store the file: {exc.strerror or exc}. Give it a writable "
                "temporary folder (docker run --tmpfs /tmp) or a state_file on a writable volume.",
            ) from None
        return JSONResponse({"statusCode": "OK", "fileId": file_id})

    async def _store(self, request: Request, key: str, agent_id: str) -> str:
        """The upload read from the body, checked and kept (its bytes on disk as they come);
        its file id."""
        try:
            part = await uploads.read_file_field(request, "file", self.max_upload)
        except uploads.NotMultipart:
            raise GenericApiError(
                GenericError.UNSUPPORTED_MEDIA_TYPE,
                "Upload the file as multipart/form-data in the field 'file'.",
            ) from None
        except uploads.UploadTooLarge:
            raise GenericApiError(GenericError.FILE_TOO_LARGE) from None
        except uploads.MalformedUpload as exc:
            raise GenericApiError(
                GenericError.NO_FILE, f"Malformed multipart body: {exc}"
            ) from None
        if part is None:
            raise GenericApiError(GenericError.NO_FILE)
        with part.file:
            if part.size == 0:
                raise GenericApiError(GenericError.EMPTY_FILE)
            mime = accepted_type(part.content_type, part.head)
            if mime is None:
                raise GenericApiError(GenericError.UNSUPPORTED_FILE_TYPE)
            stored = await self.emulator.upload(
                tenant=key,
                file_id="files/" + self.emulator.ids.alnum(22),
                agent_id=agent_id,
                name=part.name,
                mime=mime,
                size=part.size,
                lifetime=FILE_LIFETIME,
                source=part.file,
            )
        return stored.id


def kit(section: GenericSection, clock: Clock) -> ProviderKit:
    limit = section.rate_limit
    limiter = RateLimiter(clock, limit.requests, limit.per_seconds) if limit else None
    parts: list[Part] = [RunState("generic_limits", limiter.clear)] if limiter else []
    return ProviderKit(
        adapter=GenericAdapter(),
        mount=lambda emulator: mount(emulator, section, limiter),
        parts=parts,
    )


def mount(
    emulator: Emulator, section: GenericSection, limiter: RateLimiter | None
) -> ProviderMount:
    api = GenericApi(emulator, section, limiter)
    errors = Rendering(emulator)

    routes: list[Route] = [
        Route("/Message", api.send_message, methods=["POST"]),
        Route("/Message/Tag/{tag_id}", api.tag_statistics, methods=["GET"]),
        Route("/Message/Agent/{agent_id}", api.agent_messages, methods=["GET"]),
        Route("/Message/{message_id}", api.message_events, methods=["GET"]),
        Route("/Capability/{agent_id}", api.capability, methods=["GET", "POST"]),
        Route("/UploadFile/{agent_id}", api.upload_file, methods=["POST"]),
    ]
    full: list[BaseRoute] = []
    for r in routes:
        route = Route(PREFIX + r.path, r.endpoint, methods=r.methods)
        assert route.methods is not None
        route.methods.discard("HEAD")  # ASP.NET routes a GET endpoint for GET only: HEAD is 405
        full.append(route)
    return ProviderMount(
        name=NAME,
        # Full paths at the top of the router: the hot POST /Message matches on the first try.
        routes=full,
        openapi=str(Path(__file__).with_name("openapi.yaml")),
        hot_routes=1,  # POST /Message
        http_error=errors.http_error,
        exception_handlers={GenericApiError: errors.render},
        middleware=CaseInsensitivePaths,
        fault_response=errors.fault,
        tenant_of=lambda request: tenant_named(request) or "anonymous",
        max_body=max(MAX_PAYLOAD, section.max_upload_bytes + MULTIPART_SLACK),
    )
