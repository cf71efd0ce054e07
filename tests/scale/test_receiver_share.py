"""Callback capacity is per receiver and per tenant, on both engines: tenant A's receiver hangs
(every attempt held) with `webhook_per_host` 1, and tenant B, whose receiver is the same host and
port (another path), still sends, advances and gets its callbacks while A's advance waits on its
own receiver. Real `rcs-emulator serve` processes, on the memory engine and on Redis."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from emulator import Config, EmulatorServer
from tests.redis_server import RedisServer, flush
from tests.robustness.process import Served
from tests.scale.deployment import WAIT, advance, put_agent, sent, until

KEY_A, KEY_B = "hung-receiver-tenant", "quick-receiver-tenant"


class SharedReceiver:
    """One receiver (one host and port) for two tenants: /hang holds every call until released,
    /ok answers at once."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.held: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        app = Starlette(
            routes=[
                Route("/hang", self._hang, methods=["POST"]),
                Route("/ok", self._ok, methods=["POST"]),
            ]
        )
        self._server = EmulatorServer(Config(port=0), app=app)

    async def _hang(self, request: Request) -> PlainTextResponse:
        self.held.append(orjson.loads(await request.body()))
        while not self.released.is_set():
            await asyncio.sleep(0.01)
        return PlainTextResponse("OK")

    async def _ok(self, request: Request) -> PlainTextResponse:
        self.answered.append(orjson.loads(await request.body()))
        return PlainTextResponse("OK")

    def url(self, path: str) -> str:
        return self._server.base_url + path

    def __enter__(self) -> SharedReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.stop()


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_a_tenants_hung_receiver_holds_none_of_another_tenants_at_the_same_host(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    state: tuple[str, ...] = ()
    if engine == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        flush(server.url)
        state = ("--state", server.url)
    env = {"RCS_EMULATOR_WEBHOOK_PER_HOST": "1", "RCS_EMULATOR_WEBHOOK_TIMEOUT": "60"}
    served = Served(tmp_path / "a.log", *state, "--clock", "manual", env=env)
    try:
        with SharedReceiver() as receiver:
            put_agent(served.base_url, "slow", receiver.url("/hang"), tenant=KEY_A)
            put_agent(served.base_url, "quick", receiver.url("/ok"), tenant=KEY_B)
            for i in range(3):
                sent(served.base_url, KEY_A, f"+4670123460{i}", agent="slow")
            waiting = threading.Thread(
                target=lambda: advance(served.base_url, 120, KEY_A), daemon=True
            )
            waiting.start()
            until(lambda: receiver.held, "A's first callback at its hung receiver")
            for i in range(2):  # B, on the same host and port, meanwhile
                sent(served.base_url, KEY_B, f"+4670123470{i}", agent="quick")
                moved = advance(served.base_url, 120, KEY_B)
                assert moved.status_code == 200, moved.text
            assert len(receiver.answered) == 4  # B's two messages: delivered and read
            assert {c["Type"] for c in receiver.answered} == {"DELIVERED", "READ"}
            assert waiting.is_alive() and len(receiver.held) == 1  # A waits on its own
            receiver.released.set()
            waiting.join(WAIT)
            assert not waiting.is_alive()
            until(lambda: len(receiver.held) == 6, "A's callbacks, once released")
    finally:
        served.stop()
