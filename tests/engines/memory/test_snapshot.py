"""The incremental snapshot (only changed records serialised again) always writes what a full
dump of the same moment writes, through sends, events, retries, evictions and resets."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from emulator import Config, create_app
from emulator.engines.memory import snapshot
from emulator.engines.memory.statefile import StateFile
from emulator.engines.memory.statefile import parse as parse_with
from tests.conftest import GENERIC_AUTH

pytestmark = pytest.mark.anyio


def parse(raw: bytes) -> StateFile:
    return parse_with(raw, lambda provider, tenant, agent: pytest.fail("a v3 file"))[0]


def _comparable(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw)
    data.pop("saved_at")
    return dict(data)


async def test_incremental_saves_equal_a_full_dump_at_every_step():
    app = create_app(
        Config(clock="manual", seed=7, max_messages=25, webhook_url="http://127.0.0.1:9/down")
    )
    emulator = app.state.emulator
    snapshotter = snapshot.Snapshotter(emulator.engine, emulator)

    async def check() -> None:
        taken = await snapshotter.take(False, size=3)  # tiny slices: yielding is exercised
        incremental = b"".join(taken.chunks())
        parse(incremental)  # every save is a valid state file
        assert _comparable(incremental) == _comparable(
            snapshot.dump(emulator.engine, emulator, False)
        )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        await check()
        for round_ in range(6):
            for key in ("key-a", "key-b"):
                numbers = [f"+467012{round_}{i:04d}" for i in range(5)]
                answer = await c.post(
                    "/Rcs/api/v1/Message",
                    json={
                        "agentId": "a",
                        "number": numbers,
                        "messageType": "TextMessage",
                        "text": "hi",
                        "suggestedReplies": [{"text": "Yes", "postbackData": "y"}],
                    },
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert answer.status_code == 200
            await check()
            await c.post("/_emulator/clock/advance", json={"seconds": 4})  # events, retries
            await check()
            if round_ == 2:
                await c.post("/_emulator/reset", params={"tenant": "key-a"})
                await check()
            if round_ == 4:
                await c.post(
                    "/Rcs/api/v1/UploadFile/a",
                    headers=GENERIC_AUTH,
                    files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")},
                )
                assert emulator.engine.evicted > 0  # retention was exercised (a reset zeroes it)
                await c.post("/_emulator/reset")
                await check()
    await emulator.aclose()


async def test_exchanges_are_saved_once_per_request_and_only_while_a_message_names_them():
    app = create_app(Config(clock="manual", max_messages=4))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        auth = {"Authorization": "Bearer k"}
        body = {
            "agentId": "a",
            "number": ["+46701234561", "+46701234562"],
            "messageType": "Text",
            "text": "two at once",
        }
        await client.post("/Rcs/api/v1/Message", json=body, headers=auth)
        saver = snapshot.Snapshotter(app.state.emulator.engine, app.state.emulator)
        state = parse(b"".join(saver.take_now(clean=False).chunks()))
        assert len(state.exchanges) == 1 and len(state.messages) == 2
        assert {m.exchange for m in state.messages} == {state.exchanges[0].key}
        data = state.exchanges[0].data
        assert b'"two at once"' in data and b"200\ncontent-length: 48" in data
        for n in range(4):  # evicts the first two: their exchange goes with the second
            single = body | {"number": [f"+4670123457{n}"], "text": f"single {n}"}
            await client.post("/Rcs/api/v1/Message", json=single, headers=auth)
        state = parse(b"".join((await saver.take(clean=False)).chunks()))
        assert len(state.messages) == 4 and len(state.exchanges) == 4
        assert b"two at once" not in b"".join(e.data for e in state.exchanges)
        fresh = parse(snapshot.dump(app.state.emulator.engine, app.state.emulator, clean=False))
        assert sorted(e.data for e in fresh.exchanges) == sorted(e.data for e in state.exchanges)
