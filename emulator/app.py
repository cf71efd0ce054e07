"""create_app: the whole emulator as one Starlette app, built from a config. No module state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Config, ConfigError
from .control import control_operations
from .control.access import Tenants
from .control.auth import ControlToken
from .control.guard import ControlGuard
from .control.injection import FaultMiddleware, Faults
from .control.openapi import openapi_route, provider_openapi_route
from .core.clock import Clock, ClockMode
from .core.emulator import Emulator
from .core.engine import StateRefused, StateUnavailable
from .core.models import AgentSettings, PhoneSettings
from .core.scenarios import load_book
from .core.settings import EmulatorSettings
from .core.surprises import SurpriseKind
from .engines import open_engine
from .http.operations import ApiError, error_response
from .http.responses import JSONResponse
from .http.routing import ExactFirstRouter
from .providers import REGISTRY
from .providers.mount import ProviderMount
from .ui.routes import ui_routes

if TYPE_CHECKING:
    from .cassette.replay import Replay

log = logging.getLogger("rcs_emulator")


def _settings(config: Config) -> EmulatorSettings:
    agents = {}
    for entry in config.agents:
        agent = AgentSettings(
            entry.provider,
            entry.agent_id,
            entry.webhook_url,
            entry.answer_tag,
            entry.name,
            entry.tenant,
        )
        agents[(agent.provider, agent.tenant, agent.agent_id)] = agent
    phones = {
        phone: PhoneSettings(phone, entry.rcs_capable, entry.scenario)
        if entry
        else PhoneSettings(phone, None, None)
        for phone, entry in config.phones.items()
    }
    return EmulatorSettings(
        default_webhook_url=config.webhook_url,
        seed=config.seed,
        webhook_timeout=config.webhook_timeout,
        agents=agents,
        phones=phones,
    )


def create_app(
    config: Config | None = None,
    *,
    clock: Clock | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> Starlette:
    config = config or Config()
    try:
        engine, clock = open_engine(config, clock, http_client)
    except StateRefused as exc:
        raise ConfigError(str(exc)) from None
    book = load_book([Path(d) for d in config.scenario_dirs], config.scenario)
    kits = [p.build(config.section(p.name), clock) for p in REGISTRY]
    faults = Faults(clock, config.seed, engine.sharing.take_fault)
    replay = _replay(config, clock)
    timers = [replay] if replay is not None else []
    try:
        emulator = Emulator(
            _settings(config),
            clock,
            book,
            engine,
            adapters=[k.adapter for k in kits],
            parts=[
                faults,
                *(part for k in kits for part in k.parts),
                *([replay] if replay else []),
            ],
            aliases={name: tenant for k in kits for name, tenant in k.aliases.items()},
            timers=timers,
        )
    except StateRefused as exc:
        raise ConfigError(str(exc)) from None
    mounts: list[ProviderMount] = [k.mount(emulator) for k in kits]
    if replay is not None:
        replay.serve(emulator, {m.name: m for m in mounts})
    handlers: dict[object, object] = {ApiError: error_response}
    tenants = Tenants(emulator.tenant, config.control_token, config.teams, config.tenant_names)
    operations = control_operations(emulator, faults, tenants)
    provider_routes: list[BaseRoute] = []
    hot: list[BaseRoute] = []
    for m in mounts:
        handlers.update(m.exception_handlers)
        operations += m.control
        hot += m.routes[: m.hot_routes]
        provider_routes += m.routes[m.hot_routes :]
    control: list[BaseRoute] = [op.route() for op in operations]
    control.append(openapi_route("/openapi.json", operations))
    control.append(provider_openapi_route({m.name: m.openapi for m in mounts if m.openapi}))
    # Provider routes first (the hot paths match at once), the control API behind one prefix.
    # A path no route takes is answered by the provider that owns it (the registry says which).
    routes: list[BaseRoute] = [*hot, *ui_routes(emulator, tenants), *provider_routes]
    control_app = ControlToken(Router(routes=control), tenants.access)
    routes.append(Mount("/_emulator", app=control_app))
    by_name = {m.name: m for m in mounts}

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        allow = (exc.headers or {}).get("Allow")
        headers = {"Allow": ", ".join(sorted(allow.split(", ")))} if allow else None
        owner = by_name.get(REGISTRY.owner(request.url.path) or "")
        if owner is not None:
            response = owner.http_error(request, exc.status_code)
            if headers:  # RFC 9110 15.5.6: a 405 names the methods the path takes
                response.headers.update(headers)
            return response
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=headers)

    handlers[HTTPException] = http_error

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = None
        await emulator.engine.start()
        if emulator.clock.mode is not ClockMode.MANUAL:
            ticker = asyncio.create_task(_tick(emulator))
        if replay is not None:
            replay.start()
        try:
            yield
        finally:
            if replay is not None:
                await replay.stop()
            if ticker is not None:
                ticker.cancel()  # (waited for a moment only: a library that swallows a
                # cancellation mid-call would otherwise hold the stop for ever)
                await asyncio.wait({ticker}, timeout=1.0)
            # A stop is bounded whatever the state's store does (an orchestrator kills what
            # outlives its grace period): what is left past it is cut off, said once.
            stopping = asyncio.ensure_future(_stop(emulator))
            done, _ = await asyncio.wait({stopping}, timeout=STOP_WAIT)
            if not done:
                stopping.cancel()
                log.warning("stopping: the state did not close within %g s; leaving it", STOP_WAIT)

    middleware = [Middleware(m.middleware) for m in mounts if m.middleware is not None]
    middleware.append(Middleware(FaultMiddleware, faults=faults, mounts=by_name))
    if replay is not None:  # innermost: faults apply to replayed answers too
        middleware.append(Middleware(replay.middleware, replay=replay))

    def refused(scope: Scope, status: int, answer: dict[str, str]) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        emulator.surprises.note(
            SurpriseKind.REQUEST,
            provider="control",
            tenant=None,
            method=scope["method"],
            path=scope["path"] + (f"?{query}" if query else ""),
            status=status,
            answer=answer,
            sent=None,
        )

    # Outermost: a refused caller reaches nothing else (faults included).
    guard = Middleware(
        ControlGuard,
        allowed_hosts=config.allowed_hosts,
        refused=refused,
    )
    middleware.insert(0, guard)
    # Outermost: a request first takes in what other processes changed (nothing to take for
    # one process), and a state that cannot answer is said in the caller's own form.
    shared = Middleware(Shared, emulator=emulator, unavailable=partial(_unavailable, by_name))
    middleware.insert(0, shared)
    app = Starlette(
        routes=routes,
        exception_handlers=handlers,  # type: ignore[arg-type]
        middleware=middleware,
        lifespan=lifespan,
    )
    app.router = ExactFirstRouter(routes, lifespan=lifespan, redirect_slashes=False)
    app.router.index_exact()  # an API answers, it does not redirect; exact paths found at once
    app.state.emulator = emulator
    app.state.config = config
    app.state.faults = faults
    return app


def _replay(config: Config, clock: Clock) -> Replay | None:
    """The cassettes `--replay` names, loaded whole (a bad one stops the start)."""
    if not config.replay:
        return None
    from .cassette.format import CassetteError  # imported only to replay
    from .cassette.replay import Replay

    try:
        return Replay.from_files(config.replay, config.replay_strict, clock)
    except CassetteError as exc:
        raise ConfigError(str(exc)) from None


class Shared:
    """The outermost layer: a request first takes in what other processes sharing the state
    changed (Emulator.refresh), and while the state cannot answer, a provider's caller gets
    that provider's own 503 and the control API a JSON 503; nothing is half-done (each write is
    one unit of work)."""

    def __init__(
        self, app: ASGIApp, emulator: Emulator, unavailable: Callable[[Scope, str], Response]
    ) -> None:
        self.app = app
        self.emulator = emulator
        self.unavailable = unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OWN_PATHS:
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.emulator.refresh()
            await self.app(scope, receive, sending)
        except StateUnavailable as exc:
            if started:
                raise
            await self.unavailable(scope, str(exc))(scope, receive, send)


# What a process answers of itself whatever its state's health (liveness, readiness, the page).
OWN_PATHS = ("/_emulator/health", "/_emulator/ready", "/")


def _unavailable(mounts: dict[str, ProviderMount], scope: Scope, why: str) -> Response:
    """The shared state cannot answer: a provider's caller hears it in its provider's own
    form, anyone else as JSON; both may try again in a second."""
    mount = mounts.get(REGISTRY.owner(scope["path"]) or "")
    if mount is None or scope["path"].startswith(("/_emulator", "/ui/")):
        return JSONResponse({"error": why}, 503, headers={"Retry-After": "1"})
    return mount.fault_response(Request(scope), 503, 1)


STOP_WAIT = 6.0  # seconds the state has to close on a stop (uvicorn's own wait comes first)


async def _stop(emulator: Emulator) -> None:
    with contextlib.suppress(StateUnavailable):
        pending = await asyncio.wait_for(emulator.deliveries.backlog(), 1.0)
        if pending["pending"] or pending["in_flight"] or pending["retrying"]:
            log.warning("stopping with webhook deliveries not done: %s", pending)
    with contextlib.suppress(TimeoutError):
        await emulator.aclose()


async def _tick(emulator: Emulator) -> None:
    """Runs due events as real (or scaled) time reaches them."""
    wake = asyncio.Event()
    emulator.engine.on_schedule(lambda due: wake.set())
    try:
        while True:
            due = emulator.engine.next_due()
            poll = emulator.engine.poll  # other processes' work comes unasked: look this often
            delay = poll if due is None else emulator.clock.wall_delay(due - emulator.clock.now())
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(max(delay, 0.0), poll))
            try:
                await emulator.run_due_everywhere()
            except StateUnavailable:
                pass  # said once by the engine; the next turn tries again
            except Exception:  # one broken event must not stop time
                log.exception("a scheduled event failed")
    finally:
        emulator.engine.on_schedule(None)
