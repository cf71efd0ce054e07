"""An advance that answers once the states are applied (wait_for_callbacks=false): the inbox's
"+1 min" shows every new state while the callbacks still go out, and the clock says so until
they are done. The default keeps its contract: callbacks done when the advance returns. And every
attempt is stamped with its own delivery's time, never before the event that caused it."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio.to_thread
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from emulator import Config, EmulatorServer
from tests.redis_server import flush

AUTH = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}


class GatedReceiver:
    """A receiver that holds every callback until `open` (a thread of the test decides)."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self.server = EmulatorServer(Config(port=0), app=app)

    async def _hook(self, request: Request) -> PlainTextResponse:
        await request.body()
        self.calls += 1
        await anyio.to_thread.run_sync(self.gate.wait)
        return PlainTextResponse("OK")


def wait_until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never came"
        time.sleep(0.02)


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_an_advance_answers_with_every_state_applied_and_its_callbacks_follow(engine, request):
    config = Config(clock="manual", port=0)
    if engine == "redis":
        url = request.getfixturevalue("redis_server").url
        flush(url)
        config = config.with_overrides(state=url)
    receiver = GatedReceiver()
    receiver.server.start()
    server = EmulatorServer(config).start()
    try:
        http = httpx.Client(base_url=server.base_url, timeout=30)
        hook = {"webhook_url": receiver.server.base_url + "/hook"}
        http.put("/_emulator/agents/generic/agent", json=hook).raise_for_status()
        body = {
            "agentId": "agent",
            "number": [f"+4670800{i:04d}" for i in range(5)],
            "messageType": "TextMessage",
            "text": "Hi",
        }
        http.post("/Rcs/api/v1/Message", json=body, headers=AUTH).raise_for_status()
        answer = http.post(
            "/_emulator/clock/advance", json={"seconds": 60, "wait_for_callbacks": False}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["callbacks_running"] is True
        assert answer.json()["events_run"] == 10  # delivered and read, of each
        # Every state is there while no callback has been answered yet.
        statuses = {m["status"] for m in http.get("/_emulator/messages").json()["items"]}
        assert statuses == {"read"}
        assert http.get("/_emulator/clock").json()["callbacks_running"] is True
        backlog = http.get("/_emulator/webhooks", params={"limit": 100}).json()["items"]
        assert all(d["state"] != "delivered" for d in backlog)
        receiver.gate.set()
        wait_until(lambda: not http.get("/_emulator/clock").json()["callbacks_running"])
        done = http.get("/_emulator/webhooks", params={"limit": 100}).json()["items"]
        assert len(done) == 10 and {d["state"] for d in done} == {"delivered"}
        # The default still answers with its callbacks made.
        http.post("/Rcs/api/v1/Message", json=body, headers=AUTH).raise_for_status()
        answer = http.post("/_emulator/clock/advance", json={"seconds": 60})
        assert answer.json()["callbacks_running"] is False
        after = http.get("/_emulator/webhooks", params={"limit": 100}).json()["items"]
        assert len(after) == 20 and {d["state"] for d in after} == {"delivered"}
        # Each attempt is stamped at its delivery's own time (the event's), never before it.
        for d in after:
            assert d["attempts"][0]["time"] == d["created"], d
        http.close()
    finally:
        receiver.gate.set()
        server.stop()
        receiver.server.stop()


def test_a_refused_wait_for_callbacks_says_why():
    server = EmulatorServer(Config(clock="manual", port=0)).start()
    try:
        answer = httpx.post(
            server.base_url + "/_emulator/clock/advance",
            json={"seconds": 1, "wait_for_callbacks": "later"},
        )
        assert answer.status_code == 400
        assert "wait_for_callbacks" in answer.json()["error"]
    finally:
        server.stop()
