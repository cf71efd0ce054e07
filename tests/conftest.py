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
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rec:
        yield rec


@pytest.fixture
def webhook(receiver: WebhookReceiver) -> WebhookReceiver:
    receiver.clear()
    return receiver


@contextlib.asynccontextmanager
async def open_client(mode: str, config: Config = TEST_CONFIG) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh emulator with `config`, in-process or live."""
    if mode == "asgi":
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            yield client
        await app.state.emulator.dispatcher.aclose()
        app.state.emulator.vault.clear()
    else:
        server = EmulatorServer(config.with_overrides(port=0)).start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                yield client
        finally:
            server.stop()


@pytest.fixture(params=["asgi", "live"])
async def client(
    request: pytest.FixtureRequest, live_server: EmulatorServer
) -> AsyncIterator[httpx.AsyncClient]:
    """The default emulator (manual clock, seeded), fresh state for every test."""
    if request.param == "asgi":
        async with open_client("asgi") as c:
            yield c
    else:
        async with httpx.AsyncClient(base_url=live_server.base_url) as c:
            (await c.post("/_emulator/reset")).raise_for_status()
            yield c
            await c.post("/_emulator/reset")


@pytest.fixture(params=["asgi", "live"])
def mode(request: pytest.FixtureRequest) -> str:
    """For tests that need their own config: open_client(mode, config)."""
    return str(request.param)


async def advance(client: httpx.AsyncClient, seconds: float) -> dict[str, Any]:
    response = await client.post("/_emulator/clock/advance", json={"seconds": seconds})
    response.raise_for_status()
    return dict(response.json())


async def set_agent(client: httpx.AsyncClient, provider: str, agent: str, **fields: Any) -> None:
    response = await client.put(f"/_emulator/agents/{provider}/{agent}", json=fields)
    response.raise_for_status()
