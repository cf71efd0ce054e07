"""On a manual clock each tenant has its own time: an advance for one tenant moves only its time
and runs only its events (one test pipeline never moves another's); an advance for everyone
moves every tenant's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator import Config
from emulator.labels import fingerprint
from tests.conftest import open_client

pytestmark = pytest.mark.anyio

KEY_A, KEY_B = "tenant-a-key", "tenant-b-key"


async def send(client: httpx.AsyncClient, key: str, phone: str) -> str:
    body = {"agentId": "clock_agent", "number": [phone], "messageType": "TextMessage",
            "text": "Hi"}  # fmt: skip
    answer = await client.post("/Rcs/api/v1/Message", json=body,
                               headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.json()["tagId"])


async def status(client: httpx.AsyncClient, key: str) -> str:
    (message,) = (await client.get("/_emulator/messages", params={"tenant": key})).json()["items"]
    return str(message["status"])


async def clock(client: httpx.AsyncClient, tenant: str | None = None) -> dict[str, Any]:
    params = {"tenant": tenant} if tenant else {}
    answer = await client.get("/_emulator/clock", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def advance(client: httpx.AsyncClient, seconds: float, tenant: str | None = None) -> Any:
    answer = await client.post("/_emulator/clock/advance",
                               json={"seconds": seconds, "tenant": tenant})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_advance_for_one_tenant_moves_only_its_time_and_runs_only_its_events(
    mode: str, redis_url: str | None
) -> None:
    async with open_client(mode, Config(clock="manual", seed=3), redis_url) as client:
        start = (await clock(client))["epoch"]
        await send(client, KEY_A, "+46701110001")
        await send(client, KEY_B, "+46701110002")
        moved = await advance(client, 10, KEY_A)
        assert moved["tenant"] == fingerprint(KEY_A) and moved["epoch"] == start + 10
        assert moved["events_run"] == 2  # A's delivered and read, nothing of B's
        assert await status(client, KEY_A) == "read"
        assert await status(client, KEY_B) == "sent"
        assert (await clock(client, KEY_B))["epoch"] == start
        assert (await clock(client))["epoch"] == start  # the shared time did not move
        # A send of B now is at B's own time, and of A at A's.
        await send(client, KEY_A, "+46701110003")
        stamped = (await client.get("/_emulator/messages", params={"tenant": KEY_A})).json()
        assert stamped["items"][-1]["created"] == moved["now"]
        everyone = await advance(client, 10)
        assert everyone["tenant"] is None and everyone["epoch"] == start + 10
        assert await status(client, KEY_B) == "read"
        assert (await clock(client, KEY_A))["epoch"] == start + 20
        assert (await clock(client, KEY_B))["epoch"] == start + 10


async def test_a_tenant_s_callbacks_go_out_in_its_own_advance(
    mode: str, redis_url: str | None, webhook: Any
) -> None:
    config = Config(clock="manual", webhook_url=webhook.url)
    async with open_client(mode, config, redis_url) as client:
        await send(client, KEY_A, "+46701110004")
        await send(client, KEY_B, "+46701110005")
        await advance(client, 10, KEY_B)
        calls = webhook.wait(lambda calls: len(calls) >= 2)
        assert {c["json"]["SenderPhoneNo"] for c in calls} == {"+46701110005"}
        assert [c["json"]["Type"] for c in calls] == ["DELIVERED", "READ"]
        hooks = (await client.get("/_emulator/webhooks", params={"tenant": KEY_A})).json()
        assert hooks["total"] == 0  # A's phone has not received it yet: no callback owed


async def test_an_unknown_filter_of_the_clock_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/_emulator/clock/advance", json={"seconds": 1, "tenat": "x"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "unknown field 'tenat' (did you mean 'tenant'?)",
                             "field": "tenat"}  # fmt: skip
