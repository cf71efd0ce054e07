"""Shared fixtures: every provider test runs twice, in-process (ASGITransport) and against the
live server (uvicorn in a thread), through the same HTTP client API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from emulator import Config, EmulatorServer, create_app
from emulator.testing import WebhookReceiver
from tests.redis_server import RedisServer, flush

GENERIC_KEY = "90be0b2c-b218-4070-a890-152821090464"
GENERIC_AUTH = {"Authorization": f"Bearer {GENERIC_KEY}"}
SERWERSMS_AUTH = {"Authorization": "Bearer test-token"}
TEST_CONFIG = Config(clock="manual", seed=1234)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def live_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(TEST_CONFIG.with_overrides(port=0)) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real redis-server per test worker; each test that uses it starts from a flushed one."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rec:
        yield rec


@pytest.fixture
def webhook(receiver: WebhookReceiver) -> WebhookReceiver:
    receiver.clear()
    return receiver


@contextlib.asynccontextmanager
async def open_client(
    mode: str, config: Config = TEST_CONFIG, redis_url: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh emulator with `config`: in-process, live, or in-process on a shared
    state in Redis (`redis_url`, flushed first)."""
    if mode in ("asgi", "redis"):
        if mode == "redis":
            assert redis_url is not None, "the redis mode needs the redis_url fixture"
            flush(redis_url)
            config = config.with_overrides(state=redis_url)
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
                yield c
        finally:
            await app.state.emulator.aclose()
            if app.state.shared is not None:
                await app.state.shared.aclose()
            app.state.emulator.vault.clear()
    else:
        server = EmulatorServer(config.with_overrides(port=0)).start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                yield client
        finally:
            server.stop()


MODES = ["asgi", "live", "redis"]


def redis_url_for(request: pytest.FixtureRequest, mode: str) -> str | None:
    """The Redis of the redis mode (started once per test worker; open_client flushes it)."""
    if mode != "redis":
        return None
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture(params=MODES)
async def client(
    request: pytest.FixtureRequest, live_server: EmulatorServer
) -> AsyncIterator[httpx.AsyncClient]:
    """The default emulator (manual clock, seeded), fresh state for every test: in-process,
    live, and in-process on a shared state in Redis."""
    if request.param != "live":
        async with open_client(request.param, redis_url=redis_url_for(request, request.param)) as c:
            yield c
    else:
        async with httpx.AsyncClient(base_url=live_server.base_url) as c:
            (await c.post("/_emulator/reset")).raise_for_status()
            yield c
            await c.post("/_emulator/reset")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """For tests that need their own config: open_client(mode, config, redis_url)."""
    return str(request.param)


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, mode: str) -> str | None:
    """With `mode`: the Redis of the redis mode, else None."""
    return redis_url_for(request, mode)


async def advance(client: httpx.AsyncClient, seconds: float) -> dict[str, Any]:
    response = await client.post("/_emulator/clock/advance", json={"seconds": seconds})
    response.raise_for_status()
    return dict(response.json())


async def set_agent(client: httpx.AsyncClient, provider: str, agent: str, **fields: Any) -> None:
    response = await client.put(f"/_emulator/agents/{provider}/{agent}", json=fields)
    response.raise_for_status()
