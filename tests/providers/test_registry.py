"""A third provider is its package plus one registry line. This one lives in the test: a tiny
"echo" API registered for the duration of each test, and everything that reads the registry
(config, app, control API, fail-closed guard, inbox views, callbacks) serves it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import Config, ConfigError, EmulatorServer
from emulator.core import display
from emulator.core.clock import Clock
from emulator.core.emulator import Emulator
from emulator.core.models import AgentSettings, Channel
from emulator.core.records import Event, Message, RetryPolicy, StoredFile
from emulator.fail_closed import Guard, RealProviderCalled
from emulator.providers import REGISTRY, Provider
from emulator.providers.mount import ProviderKit, ProviderMount
from emulator.testing import WebhookReceiver


class EchoSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signature: str = "sent by echo"


class EchoAdapter:
    name = "echo"

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        return [{"echo_event": event.type.value, "id": message.id}]

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        card = display.card(
            title=message.text.upper(),
            description=None,
            media=None,
            orientation=None,
            alignment=None,
        )
        return display.layout([card])  # the core's provider-neutral shape, which the inbox draws

    def describe(self, payload: Any) -> dict[str, Any]:
        return {"name": f"echo {payload['echo_event']}", "decoded": {}}

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy:
        return RetryPolicy(delays=(), description="2xx, once")


def kit(section: EchoSection, clock: Clock) -> ProviderKit:
    return ProviderKit(adapter=EchoAdapter(), mount=lambda emulator: mount(emulator, section))


def mount(emulator: Emulator, section: EchoSection) -> ProviderMount:
    async def send(request: Request) -> Response:
        data = await request.json()
        now = emulator.clock.now()
        message = Message(
            id=emulator.ids.uuid(),
            provider="echo",
            tenant="echo-tenant",
            agent_id=data["agent"],
            phone=data["to"],
            channel=Channel.RCS,
            kind="text",
            text=f"{data['text']} ({section.signature})",
            created_at=now,
            send_at=now,
            content={},
        )
        await emulator.send([message])
        return JSONResponse({"id": message.id})

    return ProviderMount(
        name="echo",
        routes=[Route("/echo/v1/send", send, methods=["POST"])],
        http_error=lambda request, status: JSONResponse({"echo_error": status}, status),
    )


ECHO = Provider(
    name="echo",
    title="Echo",
    prefixes=("/echo/",),
    hosts=("api.echo.example",),
    section=EchoSection,
    kit=kit,
)


@pytest.fixture
def echo() -> Iterator[Provider]:
    with REGISTRY.added(ECHO) as provider:
        yield provider


def test_its_config_section_is_read_and_checked(echo):
    assert Config(echo={"signature": "yo"}).section("echo").signature == "yo"
    assert Config().section("echo").signature == "sent by echo"
    with pytest.raises(ConfigError, match="echo: sign: unknown setting"):
        Config(echo={"sign": "yo"})


def test_its_hosts_are_guarded(echo):
    assert "api.echo.example" in REGISTRY.hosts()
    with pytest.raises(RealProviderCalled, match="api.echo.example"):
        Guard().check("api.echo.example", "POST", "https://api.echo.example/echo/v1/send")


def test_it_owns_its_prefix_and_nothing_else(echo):
    assert REGISTRY.owner("/echo/v1/anything") == "echo"
    assert REGISTRY.owner("/ECHO/v1") == "echo"
    assert REGISTRY.owner("/Rcs/api/v1/Message") == "generic"
    assert REGISTRY.owner("/messages/send_rcs") == "serwersms"  # the catch-all stays
    assert REGISTRY.owner("/_emulator/messages") is None and REGISTRY.owner("/") is None


def test_it_is_served_steered_shown_and_called_back(echo):
    with WebhookReceiver() as receiver:
        config = Config(clock="manual", port=0, echo={"signature": "from the test"})
        with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as client:
            agent = client.put("/_emulator/agents/echo/bot", json={"webhook_url": receiver.url})
            assert agent.status_code == 200 and agent.json()["provider"] == "echo"
            sent = client.post(
                "/echo/v1/send", json={"agent": "bot", "to": "+46701234567", "text": "hi"}
            )
            assert sent.status_code == 200
            unknown = client.get("/echo/v1/nothing-here")
            assert unknown.status_code == 404 and unknown.json() == {"echo_error": 404}
            listed = client.get("/_emulator/messages", params={"provider": "echo"}).json()
            (message,) = listed["items"]
            assert message["text"] == "hi (from the test)"
            # The inbox draws what the adapter lays out.
            assert message["display"]["cards"][0]["title"] == "HI (FROM THE TEST)"
            assert client.get("/").status_code == 200
            client.post("/_emulator/clock/advance", json={"seconds": 60})
            calls = receiver.wait(lambda calls: len(calls) >= 2)
            assert [c["json"]["echo_event"] for c in calls[:2]] == ["delivered", "read"]
            assert {c["json"]["id"] for c in calls} == {message["id"]}
            # The control API's own provider checks know it.
            listed = client.get("/_emulator/providers").json()["items"]
            assert {
                "name": "echo",
                "title": "Echo",
                "hosts": ["api.echo.example"],
                "prefixes": ["/echo/"],
            } in listed
            logged = client.get("/_emulator/webhooks", params={"provider": "echo"}).json()
            assert logged["items"][0]["name"] == "echo delivered"


def test_it_leaves_nothing_behind():
    assert REGISTRY.get("echo") is None and "api.echo.example" not in REGISTRY.hosts()
    with pytest.raises(ConfigError, match="unknown setting 'echo'"):
        Config(echo={})
