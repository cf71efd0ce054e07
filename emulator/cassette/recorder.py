"""The recorder: a proxy on one provider's paths that forwards each request to the real service,
answers with the service's answer, and keeps both in a cassette; and a webhook
(`/_emulator/callbacks`, any path under it) where the real service's callbacks are kept too,
each after the request that named its phone, and passed on to the user's own receiver when one
is given.

The cassette is written after every exchange and callback (whole, then renamed), so a stop at
any moment loses nothing already answered. A service that cannot be reached, or does not answer
as an HTTP server, is one line in the log and a 502 to the client, and is not recorded: a
cassette holds what the service said. Credentials are masked in everything kept."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..http.body import BodyTooLarge, read_limited
from ..http.outbound import why_unanswered
from ..providers import REGISTRY
from ..providers.registry import Provider
from ..providers.upstream import MASK, Upstream, scrub
from . import format as cassette_format
from .capture import HOP_BY_HOP, SECRET_HEADERS, capture, fields, summary
from .format import Cassette, Interaction, RecordedCallback, RecordedResponse, body_fields

log = logging.getLogger("rcs_emulator.record")

CALLBACKS = "/_emulator/callbacks"
MAX_BODY = 128 * 1024 * 1024  # a forwarded request (an upload of 100 MB and its form)
# Not passed on either way: one hop's, computed again, or set by the server that answers.
NOT_PASSED = HOP_BY_HOP | {"accept-encoding", "content-encoding", "date", "server"}


@dataclass
class _Recording:
    """The cassette under way, with what it needs to place callbacks."""

    cassette: Cassette
    started: float  # monotonic
    answered: list[float] = field(default_factory=list)  # each interaction's answer, monotonic
    phones: list[set[str]] = field(default_factory=list)  # each interaction's recipients
    secrets: set[str] = field(default_factory=set)  # every credential seen, masked everywhere


class Recorder:
    def __init__(
        self,
        provider: Provider,
        upstream: Upstream,
        upstream_url: str,
        path: Path,
        forward_callbacks: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.upstream = upstream
        self.upstream_url = upstream_url.rstrip("/")
        self.path = path
        self.form = cassette_format.writer_for(path)
        self.forward_callbacks = forward_callbacks
        self.timeout = timeout
        self.transport = transport
        recorded = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.recording = _Recording(
            Cassette(provider=provider.name, upstream=self.upstream_url, recorded=recorded),
            time.monotonic(),
        )
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None
        self.app = Starlette(
            routes=[
                Route("/_emulator/health", self.health, methods=["GET"]),
                Route(CALLBACKS, self.callback, methods=["POST", "PUT"]),
                Route(CALLBACKS + "/{rest:path}", self.callback, methods=["POST", "PUT"]),
                Route(
                    "/{rest:path}",
                    self.forward,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                ),
            ],
            lifespan=self._lifespan,
        )
        self.app.state.recorder = self
        self.save()  # an empty cassette at once: the path is writable, or the start fails

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._client = httpx.AsyncClient(
            timeout=self.timeout, transport=self.transport, follow_redirects=False
        )
        try:
            yield
        finally:
            await self._client.aclose()
            self._client = None

    @property
    def cassette(self) -> Cassette:
        return self.recording.cassette

    def save(self) -> None:
        cassette_format.save(self.recording.cassette, self.path)

    async def health(self, request: Request) -> Response:
        cassette = self.cassette
        return JSONResponse(
            {
                "status": "recording",
                "provider": self.provider.name,
                "cassette": str(self.path),
                "interactions": len(cassette.interactions),
                "callbacks": len(cassette.callbacks)
                + sum(len(i.callbacks) for i in cassette.interactions),
            }
        )

    # -- the provider's requests --------------------------------------------------------------

    def _owns(self, path: str) -> bool:
        """Whether a path is the provider's, under its base path (forwarded: what follows)."""
        if REGISTRY.owner(path) != self.provider.name:
            return False
        base = self.upstream.base_path
        if self.upstream.paths_case_insensitive:
            return path[: len(base)].lower() == base.lower()
        return path.startswith(base)

    async def forward(self, request: Request) -> Response:
        scope = request.scope
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        target = raw_path + (f"?{query}" if query else "")
        if not self._owns(scope["path"]):
            return JSONResponse(
                {
                    "error": f"the recorder forwards {self.provider.title}'s paths "
                    f"only (under {self.upstream.base_path or '/'}), not "
                    f"{scope['path']}"
                },
                404,
            )
        try:
            raw = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return JSONResponse(
                {"error": f"the recorder forwards bodies up to {MAX_BODY} bytes"}, 413
            )
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        recorded, secrets = capture(request.method, target, headers, raw, self.upstream)
        sent = [(k, v) for k, v in headers if k not in NOT_PASSED]
        # What follows the base path, as the client spelt it (percent-encoding kept)
        url = self.upstream_url + (raw_path[len(self.upstream.base_path) :] or "/")
        url += f"?{query}" if query else ""
        assert self._client is not None
        began = time.monotonic()
        try:
            answer = await self._client.request(request.method, url, headers=sent, content=raw)
        except httpx.HTTPError as exc:
            why = scrub(why_unanswered(exc, self.upstream_url, self.timeout), secrets)
            log.error("%s: %s (not recorded)", summary(recorded), why)
            return JSONResponse({"error": f"the recorder got no answer: {why}"}, 502)
        elapsed = (time.monotonic() - began) * 1000
        content = answer.content
        kept = [
            (k.decode("latin-1").lower(), v.decode("latin-1"))
            for k, v in answer.headers.raw
            if k.decode("latin-1").lower() not in HOP_BY_HOP | {"content-encoding"}
        ]
        async with self._lock:
            recording = self.recording
            recording.secrets |= secrets
            kept_body = body_fields(content)
            if recording.secrets and "body_base64" not in kept_body:
                kept_body["body"] = scrub(kept_body["body"], recording.secrets)
            interaction = Interaction(
                id=len(recording.cassette.interactions) + 1,
                at=round(began - recording.started, 3),
                request=recorded,
                response=RecordedResponse(
                    status=answer.status_code,
                    headers=[(k, scrub(v, recording.secrets)) for k, v in kept],
                    elapsed_ms=round(elapsed, 1),
                    **kept_body,
                ),
            )
            recording.cassette = recording.cassette.model_copy(
                update={"interactions": [*recording.cassette.interactions, interaction]}
            )
            recording.answered.append(time.monotonic())
            recording.phones.append(self.upstream.request_phones(fields(recorded.body)))
            self.save()
        log.info("%s -> %d (%d recorded)", summary(recorded), answer.status_code, interaction.id)
        passed = [(k, v) for k, v in kept if k not in NOT_PASSED]
        return _Answer(content, answer.status_code, passed)

    # -- the service's callbacks --------------------------------------------------------------

    async def callback(self, request: Request) -> Response:
        raw = await request.body()
        path = request.url.path
        status, answer = 200, b"OK"
        if self.forward_callbacks is not None:
            status, answer = await self._pass_on(request, raw)
        text = raw.decode("utf-8", "replace")
        try:
            payload: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        phones = self.upstream.callback_phones(payload)
        async with self._lock:
            recording = self.recording
            now = time.monotonic()
            headers = {}
            for name, value in request.headers.items():
                if name in HOP_BY_HOP:
                    continue
                secret = name in SECRET_HEADERS or name in self.upstream.secret_headers
                headers[name] = MASK if secret else scrub(value, recording.secrets)
            # After the latest request that named one of its phones, else after none.
            index = next(
                (
                    i
                    for i in range(len(recording.phones) - 1, -1, -1)
                    if recording.phones[i] & phones
                ),
                None,
            )
            since = recording.started if index is None else recording.answered[index]
            kept = RecordedCallback(
                after=round(max(0.0, now - since), 3),
                path=path,
                headers=headers,
                body=scrub(text, recording.secrets),
                answered=status,
            )
            cassette = recording.cassette
            if index is None:
                cassette = cassette.model_copy(update={"callbacks": [*cassette.callbacks, kept]})
            else:
                interactions = list(cassette.interactions)
                held = interactions[index]
                interactions[index] = held.model_copy(update={"callbacks": [*held.callbacks, kept]})
                cassette = cassette.model_copy(update={"interactions": interactions})
            recording.cassette = cassette
            self.save()
        where = f"after request {index + 1}" if index is not None else "after no request"
        log.info("callback to %s kept (%s)", path, where)
        return Response(answer, status, media_type="text/plain")

    async def _pass_on(self, request: Request, raw: bytes) -> tuple[int, bytes]:
        """The callback passed on to the user's receiver: its answer is the service's."""
        assert self._client is not None and self.forward_callbacks is not None
        headers = [(k, v) for k, v in request.headers.items() if k not in NOT_PASSED]
        try:
            answer = await self._client.post(self.forward_callbacks, headers=headers, content=raw)
        except httpx.HTTPError as exc:
            why = why_unanswered(exc, self.forward_callbacks, self.timeout)
            log.error("callback not passed on: %s", why)
            return 502, b"the receiver could not be reached"
        return answer.status_code, answer.content


class _Answer(Response):
    """The service's answer as it came: its headers in their order, its body's bytes."""

    def __init__(self, content: bytes, status: int, headers: list[tuple[str, str]]) -> None:
        self.status_code = status
        self.background = None
        self.body = content
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self.raw_headers.append((b"content-length", str(len(content)).encode()))
