"""`serve --replay CASSETTE`: a provider request found in a cassette is answered with the
recorded answer (its status, its headers in their order, its body's bytes), and the callbacks
recorded after it are sent again, each as long after the answer on the emulator's clock as it
came after the recorded one, through the emulator's own webhook delivery (the agent's webhook
URL, its provider's retry rule, the webhook log). Any other request is the emulator's to answer,
or, with --replay-strict, refused: 501, in the provider's own error form, with a header saying
why, noted among the surprises (so the pytest plugin fails the test that sent it).

A request is found by capture.match_key: method, path, and the query's and body's fields without
credentials. Identical requests are answered in the order they were recorded, each recorded
answer once; past the last one, the request is no longer in the cassette. A reset of the
emulator rewinds every cassette. Callbacks recorded after no request go out that long after the
emulator starts (or is reset)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.clock import Clock, ClockMode, ManualClock
from ..core.emulator import Emulator
from ..core.surprises import SurpriseKind
from ..providers import REGISTRY
from ..providers.mount import ProviderMount
from ..providers.registry import APP_PREFIXES
from ..providers.upstream import Upstream
from .capture import HOP_BY_HOP, capture, fields, match_key, summary
from .format import Cassette, CassetteError, Interaction, RecordedCallback, load

log = logging.getLogger("rcs_emulator.replay")

STATUS = "x-rcs-emulator-replay"  # on every answer replay gives: "recorded N" or "not recorded"
REFUSED = 501  # a status neither provider answers with: no client takes it for the service's
# Headers of the recorded answer left to the server that answers now (it sets its own).
NOT_REPLAYED = HOP_BY_HOP | {"content-encoding", "date", "server"}
POLL = 1.0  # seconds between looks at a running clock's due callbacks at most


@dataclass(frozen=True)
class _Pending:
    at: float  # the emulator time it is due
    provider: str
    tenant: str | None  # None: where a thread the phone opened would be (found when sent)
    agent_id: str | None
    phone: str
    payload: Any


class Replay:
    """The cassettes, their answers not yet given, and the callbacks due on the clock. Made with
    the Emulator's parts (a part: every full reset rewinds it; a timer: an advance sends its
    callbacks due on the way), and given the built Emulator and its mounts to serve (`serve`)."""

    name = "replay"

    def __init__(self, cassettes: Sequence[Cassette], strict: bool, clock: Clock) -> None:
        self.strict = strict
        self.clock = clock
        self._emulator: Emulator | None = None
        self.mounts: Mapping[str, ProviderMount] = {}
        self.cassettes: dict[str, list[Interaction]] = {}
        self.upstreams: dict[str, Upstream] = {}
        self.unlinked: list[tuple[str, RecordedCallback]] = []
        for cassette in cassettes:
            provider = REGISTRY.get(cassette.provider)
            upstream = provider.real_service() if provider is not None else None
            if provider is None or upstream is None:
                raise CassetteError(
                    f"a cassette of {cassette.provider!r}: no such provider "
                    f"to replay (one of {', '.join(REGISTRY.names())})"
                )
            self.upstreams[cassette.provider] = upstream
            self.cassettes.setdefault(cassette.provider, []).extend(cassette.interactions)
            self.unlinked += [(cassette.provider, c) for c in cassette.callbacks]
        self._queues: dict[str, dict[bytes, deque[Interaction]]] = {}
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.middleware = ReplayMiddleware  # what the app puts in front of its routes
        self.rewind()

    @classmethod
    def from_files(cls, paths: Sequence[str], strict: bool, clock: Clock) -> Replay:
        return cls([load(Path(p)) for p in paths], strict, clock)

    def serve(self, emulator: Emulator, mounts: Mapping[str, ProviderMount]) -> None:
        """The Emulator it answers and sends callbacks for, and the providers' mounts."""
        self._emulator = emulator
        self.mounts = mounts

    @property
    def emulator(self) -> Emulator:
        assert self._emulator is not None, "Replay.serve gives it the Emulator"
        return self._emulator

    def time_of(self, tenant: str | None) -> float:
        clock = self.clock
        return clock.time_of(tenant) if isinstance(clock, ManualClock) else clock.now()

    # -- a part of the Emulator (core/parts.py) -------------------------------------------------

    def data(self) -> None:
        return None  # (each process its own place in its cassettes: one process replays)

    def load(self, data: Any) -> None:
        return None

    def restore(self) -> None:
        return None

    def reset(self) -> None:
        self.rewind()

    def rewind(self) -> None:
        """Every recorded answer may be given again; callbacks not yet sent are forgotten, and
        those after no request are due again from now."""
        self._queues = {}
        for provider, interactions in self.cassettes.items():
            upstream = self.upstreams[provider]
            queues: dict[bytes, deque[Interaction]] = {}
            for interaction in interactions:
                key = match_key(interaction.request, upstream)
                queues.setdefault(key, deque()).append(interaction)
            self._queues[provider] = queues
        self._pending = []
        now = self.time_of(None)
        for provider, callback in self.unlinked:
            self._schedule(provider, None, None, now, callback)

    # -- answering ----------------------------------------------------------------------------

    def take(self, provider: str, key: bytes) -> Interaction | None:
        """The next recorded answer to a request with this key, or None."""
        queue = self._queues.get(provider, {}).get(key)
        return queue.popleft() if queue else None

    def nearest(self, provider: str, request: Any) -> str:
        """Why a request was not found, in a few words: the recorded requests to its path."""
        same_path = [
            i
            for i in self.cassettes.get(provider, ())
            if (i.request.method, i.request.path.lower()) == (request.method, request.path.lower())
        ]
        if not same_path:
            return f"no {request.method} {request.path} was recorded"
        left = sum(
            len(q)
            for k, q in self._queues.get(provider, {}).items()
            if any(i in q for i in same_path)
        )
        return (
            f"{len(same_path)} {request.method} {request.path} recorded ({left} not yet "
            "replayed), none with this query and body"
        )

    def replayed(
        self, interaction: Interaction, provider: str, tenant: str, agent_id: str | None
    ) -> None:
        """Its callbacks are due from now, each as long after as it was recorded."""
        now = self.time_of(tenant)
        for callback in interaction.callbacks:
            self._schedule(provider, tenant, agent_id, now, callback)
        self._wake.set()

    def _schedule(
        self,
        provider: str,
        tenant: str | None,
        agent_id: str | None,
        since: float,
        callback: RecordedCallback,
    ) -> None:
        upstream = self.upstreams[provider]
        try:
            payload = orjson.loads(callback.body)
        except orjson.JSONDecodeError:
            log.warning("a recorded %s callback is not JSON: kept, not sent", provider)
            return
        agent = upstream.callback_agent(payload) or agent_id
        phones = sorted(upstream.callback_phones(payload))
        self._pending.append(
            _Pending(
                since + callback.after,
                provider,
                tenant,
                agent,
                phones[0] if phones else "",
                payload,
            )
        )

    # -- sending callbacks --------------------------------------------------------------------

    async def run_due(self) -> None:
        """Every callback due by its tenant's time, in time order, handed to the webhook
        delivery (the emulator's advance, or the running clock's loop, waits for them)."""
        emulator = self.emulator
        due = sorted(
            (p for p in self._pending if p.at <= self.time_of(p.tenant)), key=lambda p: p.at
        )
        if not due:
            return
        taken = {id(p) for p in due}
        self._pending = [p for p in self._pending if id(p) not in taken]
        for pending in due:
            agent_id = pending.agent_id or ""
            tenant = pending.tenant
            if tenant is None:
                tenant = emulator.lifecycle.thread_tenant(pending.provider, agent_id, None)
            sent = await emulator.push_callback(
                pending.provider,
                tenant,
                agent_id,
                pending.phone,
                pending.payload,
                pending.at,
                "replayed",
            )
            if not sent:
                log.warning(
                    "a replayed %s callback for agent %r has no webhook URL to go to "
                    "(--webhook-url, or the agent's webhook_url)",
                    pending.provider,
                    agent_id,
                )

    async def run(self) -> None:
        """A running clock's loop: each callback sent as its time comes."""
        clock = self.clock
        while True:
            self._wake.clear()
            nearest = min((p.at for p in self._pending), default=None)
            delay = POLL if nearest is None else clock.wall_delay(nearest - clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(max(delay, 0.0), POLL))
            try:
                await self.run_due()
            except Exception:  # one broken callback must not stop the others
                log.exception("a replayed callback could not be sent")

    def start(self) -> None:
        if self.clock.mode is not ClockMode.MANUAL and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ReplayMiddleware:
    """Answers provider requests found in the cassettes; passes the rest on (or refuses them,
    strict). The control API, the inbox and the app's own paths are never touched."""

    def __init__(self, app: ASGIApp, replay: Replay) -> None:
        self.app = app
        self.replay = replay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/" or path.startswith(APP_PREFIXES):
            await self.app(scope, receive, send)
            return
        replay = self.replay
        provider = REGISTRY.owner(path)
        mount = replay.mounts.get(provider or "")
        upstream = replay.upstreams.get(provider or "")
        if mount is None or provider is None or (upstream is None and not replay.strict):
            await self.app(scope, receive, send)
            return
        if upstream is None:
            known = REGISTRY.get(provider)
            upstream = known.real_service() if known is not None else None
            if upstream is None:
                await self.app(scope, receive, send)
                return
        raw, whole, receive = await _read(receive, mount.max_body)
        raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        request, _ = capture(
            scope["method"],
            raw_path + (f"?{query}" if query else ""),
            headers,
            raw if whole else b"",
            upstream,
        )
        found = replay.take(provider, match_key(request, upstream)) if whole else None
        if found is not None:
            tenant = replay.emulator.tenant(mount.tenant_of(Request(scope))) or "anonymous"
            agent = upstream.agent_of(path, fields(request.body))
            await _answer(found, send)
            replay.replayed(found, provider, tenant, agent)
            return
        if not replay.strict:
            await self.app(scope, receive, send)
            return
        why = replay.nearest(provider, request) if whole else "too large to find in a cassette"
        await self._refuse(scope, receive, send, mount, request, why)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        mount: ProviderMount,
        request: Any,
        why: str,
    ) -> None:
        http = Request(scope, receive)
        response = mount.fault_response(http, REFUSED, None)
        response.headers[STATUS] = "not recorded"
        emulator = self.replay.emulator
        emulator.surprises.note(
            SurpriseKind.REQUEST,
            provider=mount.name,
            tenant=emulator.tenant(mount.tenant_of(http)),
            method=request.method,
            path=summary(request).partition(" ")[2],
            status=REFUSED,
            answer=_json(response.body),
            why=f"--replay-strict: not in the cassette ({why})",
            sent=None,
        )
        log.warning("not in the cassette, refused: %s (%s)", summary(request), why)
        await response(scope, receive, send)


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool, Receive]:
    """The body, up to `limit` bytes; whether that is all of it; and a receive that gives the
    inner app the same body again (and whatever was not read)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    held: list[Message] = []
    while more and size <= limit:
        message = await receive()
        held.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
    whole = not more and size <= limit and all(m["type"] == "http.request" for m in held)

    async def again() -> Message:
        if held:
            return held.pop(0)
        return await receive()

    return b"".join(chunks), whole, again


async def _answer(interaction: Interaction, send: Send) -> None:
    response = interaction.response
    content = response.content()
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers
        if k.lower() not in NOT_REPLAYED
    ]
    headers.append((b"content-length", str(len(content)).encode()))
    headers.append((STATUS.encode(), f"recorded {interaction.id}".encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def _json(body: bytes | memoryview) -> Any:
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return bytes(body).decode("utf-8", "replace")
